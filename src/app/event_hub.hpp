#pragma once
// Fan-out of cluster events to Director.Events subscribers. Each subscriber has a bounded queue:
// a subscriber that does not keep up loses its oldest events (counted), never the director's
// memory. The hub also keeps the last `backlog_limit` events so that a new subscriber can start
// with recent history (like `journalctl -f`): a follower that subscribes a moment after a join
// still sees it. Single executor (the director's io thread).
#include "net/asio.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/call_context.hpp"
#include "rpc/status.hpp"
#include "rpc/stream_writer.hpp"

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <string>

namespace rpcnetd::app {

class event_hub {
public:
    static constexpr std::size_t queue_limit = 1024;
    static constexpr std::size_t backlog_limit = 256;

    explicit event_hub(net::asio::any_io_executor ex) : ex_(std::move(ex)) {}

    void publish(const v1::ClusterEvent& event);

    // The Director.Events handler body: first the last `replay` events (at most backlog_limit),
    // then every published event until the caller cancels or close() is called.
    net::awaitable<rpc::status> serve(rpc::call_context& ctx, rpc::stream_writer& writer,
                                      std::size_t replay);

    // The last min(n, backlog size) events, oldest first.
    std::deque<std::string> recent(std::size_t n) const;

    // Ends every subscription (director shutdown).
    void close();

    std::uint64_t dropped() const noexcept { return dropped_; }
    std::size_t subscribers() const noexcept { return subs_.size(); }

private:
    struct subscriber {
        explicit subscriber(net::asio::any_io_executor ex) : wake(ex) {}
        std::deque<std::string> queue;
        net::asio::steady_timer wake;
    };

    net::asio::any_io_executor ex_;
    std::list<std::shared_ptr<subscriber>> subs_;
    std::deque<std::string> backlog_;
    std::uint64_t dropped_ = 0;
    bool closed_ = false;
};

}  // namespace rpcnetd::app
