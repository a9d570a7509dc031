// The director's event backlog: what a new `rpcnetd events` follower is shown first.
#include "app/event_hub.hpp"

#include <catch2/catch.hpp>

using rpcnetd::app::event_hub;

namespace {

rpcnetd::v1::ClusterEvent event(std::uint64_t i) {
    rpcnetd::v1::ClusterEvent e;
    e.set_kind("joined");
    e.set_node("worker-" + std::to_string(i));
    e.set_incarnation(i);
    return e;
}

std::uint64_t incarnation(const std::string& bytes) {
    rpcnetd::v1::ClusterEvent e;
    REQUIRE(e.ParseFromString(bytes));
    return e.incarnation();
}

}  // namespace

TEST_CASE("event hub: replay gives the most recent events, oldest first, bounded by the backlog",
          "[app][events]") {
    rpcnetd::net::asio::io_context ioc;
    event_hub hub(ioc.get_executor());
    CHECK(hub.recent(10).empty());

    for (std::uint64_t i = 1; i <= 3; ++i) {
        hub.publish(event(i));
    }
    auto few = hub.recent(10);
    REQUIRE(few.size() == 3);
    CHECK(incarnation(few.front()) == 1);
    CHECK(incarnation(few.back()) == 3);
    CHECK(hub.recent(0).empty());

    for (std::uint64_t i = 4; i <= 1000; ++i) {
        hub.publish(event(i));
    }
    auto last = hub.recent(10);
    REQUIRE(last.size() == 10);
    CHECK(incarnation(last.front()) == 991);
    CHECK(incarnation(last.back()) == 1000);
    auto all = hub.recent(100000);
    REQUIRE(all.size() == event_hub::backlog_limit);
    CHECK(incarnation(all.front()) == 1000 - event_hub::backlog_limit + 1);
    // Nobody subscribed: nothing was queued or dropped on anyone's behalf.
    CHECK(hub.dropped() == 0);
    CHECK(hub.subscribers() == 0);
}
