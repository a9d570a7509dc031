#include "app/event_hub.hpp"

#include <algorithm>

namespace rpcnetd::app {

void event_hub::publish(const v1::ClusterEvent& event) {
    const std::string bytes = event.SerializeAsString();
    if (backlog_.size() >= backlog_limit) {
        backlog_.pop_front();
    }
    backlog_.push_back(bytes);
    for (auto& s : subs_) {
        if (s->queue.size() >= queue_limit) {
            s->queue.pop_front();
            ++dropped_;
        }
        s->queue.push_back(bytes);
        s->wake.cancel();
    }
}

std::deque<std::string> event_hub::recent(std::size_t n) const {
    const std::size_t take = std::min(n, backlog_.size());
    return {backlog_.end() - static_cast<std::ptrdiff_t>(take), backlog_.end()};
}

net::awaitable<rpc::status> event_hub::serve(rpc::call_context& ctx, rpc::stream_writer& writer,
                                             std::size_t replay) {
    auto sub = std::make_shared<subscriber>(ex_);
    sub->queue = recent(replay);
    sub->wake.expires_at(net::asio::steady_timer::time_point::max());
    auto it = subs_.insert(subs_.end(), sub);
    rpc::status result{};
    while (!closed_ && !ctx.cancelled()) {
        if (sub->queue.empty()) {
            sub->wake.expires_at(net::asio::steady_timer::time_point::max());
            co_await sub->wake.async_wait(net::use_tuple);  // woken by publish(), close(), cancel
            continue;
        }
        std::string next = std::move(sub->queue.front());
        sub->queue.pop_front();
        const auto ec = co_await writer.write(next);
        if (ec) {
            result = rpc::status{v1::CANCELLED, "subscriber gone"};
            break;
        }
    }
    subs_.erase(it);
    co_return result;
}

void event_hub::close() {
    closed_ = true;
    for (auto& s : subs_) {
        s->wake.cancel();
    }
}

}  // namespace rpcnetd::app
