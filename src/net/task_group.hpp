#pragma once
// Owner of spawned child coroutines (STYLE.md §3, the shape of Beast's task_group): each child
// gets its own cancellation signal; cancel() emits a terminal cancellation to all of them, and
// wait() completes once every child has finished. The group must outlive its children: await
// wait() before destroying it (the destructor checks). Single executor, not thread-safe.
#include "net/asio.hpp"

#include <boost/asio/cancellation_signal.hpp>

#include <cstddef>
#include <list>
#include <string>

namespace rpcnetd::net {

class task_group {
public:
    explicit task_group(asio::any_io_executor ex, std::string name = "task_group");
    ~task_group();
    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;

    // Starts `task` on the group's executor. An exception escaping the task is logged (component
    // "rpc") and swallowed: tasks are expected to catch and log at their top.
    void spawn(awaitable<void> task);

    // Requests terminal cancellation of every running child.
    void cancel();

    // Completes when no child is running (at once if none).
    awaitable<void> wait();

    std::size_t size() const noexcept { return children_.size(); }

private:
    struct child {
        asio::cancellation_signal signal;
    };
    void on_done(std::list<child>::iterator it, const std::exception_ptr& e);

    asio::any_io_executor ex_;
    std::string name_;
    std::list<child> children_;
    asio::steady_timer done_signal_;
};

}  // namespace rpcnetd::net
