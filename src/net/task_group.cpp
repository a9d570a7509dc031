#include "net/task_group.hpp"

#include "common/log.hpp"
#include "common/time.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>

#include <cassert>
#include <memory>

namespace rpcnetd::net {

task_group::task_group(asio::any_io_executor ex, std::string name)
    : ex_(ex), name_(std::move(name)), done_signal_(ex, common::clock::time_point::max()) {}

task_group::~task_group() {
    if (!children_.empty()) {
        // A running child would call back into freed memory if its executor ran again: a bug in
        // the owner (it must await wait()), reported always, fatal in debug builds.
        common::logger("rpc").critical("task_group destroyed with running children name={} n={}",
                                       name_, children_.size());
        assert(false && "task_group destroyed with running children");
    }
}

void task_group::spawn(awaitable<void> task) {
    auto it = children_.emplace(children_.end());
    asio::co_spawn(
        ex_, std::move(task),
        asio::bind_cancellation_slot(it->signal.slot(),
                                     [this, it](const std::exception_ptr& e) { on_done(it, e); }));
}

void task_group::on_done(std::list<child>::iterator it, const std::exception_ptr& e) {
    if (e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            common::logger("rpc").error("task failed group={} error={}", name_, ex.what());
        } catch (...) {
            common::logger("rpc").error("task failed group={} error=unknown", name_);
        }
    }
    // The child's cancellation state lives in its signal until co_spawn has fully let go of it,
    // so the list node is released on a later turn of the executor.
    auto node = std::make_shared<std::list<child>>();
    node->splice(node->end(), children_, it);
    asio::post(ex_, [node] {});
    done_signal_.cancel();
}

void task_group::cancel() {
    for (auto& c : children_) {
        c.signal.emit(asio::cancellation_type::terminal);
    }
}

awaitable<void> task_group::wait() {
    while (!children_.empty()) {
        co_await done_signal_.async_wait(use_tuple);
    }
}

}  // namespace rpcnetd::net
