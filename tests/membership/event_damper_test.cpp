#include "membership/event_damper.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using rpcnetd::common::time_point;
using rpcnetd::membership::event_damper;
using rpcnetd::membership::member_event;
using rpcnetd::membership::member_event_kind;

namespace {

member_event ev(member_event_kind k, const std::string& name) {
    member_event e;
    e.kind = k;
    e.snapshot.name = name;
    return e;
}

std::vector<member_event_kind> kinds(const std::vector<member_event>& es) {
    std::vector<member_event_kind> out;
    for (const auto& e : es) {
        out.push_back(e.kind);
    }
    return out;
}

}  // namespace

TEST_CASE("event_damper: a suspicion refuted within the hold is never announced", "[membership]") {
    const time_point t0{std::chrono::hours{1}};
    event_damper d(200ms);
    CHECK(d.offer({ev(member_event_kind::suspect, "a")}, t0).empty());
    CHECK(d.held() == 1);
    CHECK(d.next_due() == t0 + 200ms);
    CHECK(d.due(t0 + 199ms).empty());
    CHECK(d.offer({ev(member_event_kind::recovered, "a")}, t0 + 150ms).empty());
    CHECK(d.held() == 0);
    CHECK(d.dropped() == 1);
    CHECK(d.due(t0 + 1s).empty());
    CHECK_FALSE(d.next_due());
}

TEST_CASE("event_damper: a suspicion that lasts is announced once the hold ends, in order",
          "[membership]") {
    const time_point t0{std::chrono::hours{1}};
    event_damper d(200ms);
    CHECK(d.offer({ev(member_event_kind::suspect, "a")}, t0).empty());
    CHECK(d.offer({ev(member_event_kind::suspect, "b")}, t0 + 10ms).empty());
    // A repeated suspect event about "a" (a higher incarnation) keeps the original hold.
    CHECK(d.offer({ev(member_event_kind::suspect, "a")}, t0 + 100ms).empty());
    auto out = d.due(t0 + 210ms);
    REQUIRE(out.size() == 2);
    CHECK(out[0].snapshot.name == "a");
    CHECK(out[1].snapshot.name == "b");
    // Announced: its recovery is news too.
    CHECK(kinds(d.offer({ev(member_event_kind::recovered, "a")}, t0 + 300ms)) ==
          std::vector{member_event_kind::recovered});
}

TEST_CASE("event_damper: anything else about a held member releases its suspect event first",
          "[membership]") {
    const time_point t0{std::chrono::hours{1}};
    event_damper d(200ms);
    auto out = d.offer({ev(member_event_kind::suspect, "a"), ev(member_event_kind::joined, "b"),
                        ev(member_event_kind::failed, "a")},
                       t0);
    REQUIRE(out.size() == 3);
    CHECK(kinds(out) == std::vector{member_event_kind::joined, member_event_kind::suspect,
                                    member_event_kind::failed});
    CHECK(out[1].snapshot.name == "a");
    CHECK(d.held() == 0);
    CHECK(d.dropped() == 0);
}

TEST_CASE("event_damper: a zero hold passes everything through", "[membership]") {
    const time_point t0{std::chrono::hours{1}};
    event_damper d(0ms);
    CHECK(kinds(d.offer(
              {ev(member_event_kind::suspect, "a"), ev(member_event_kind::recovered, "a")}, t0)) ==
          std::vector{member_event_kind::suspect, member_event_kind::recovered});
}
