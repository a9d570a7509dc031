// Two members with one name (issue #14), in virtual time: swim_state keeps a live holder, reports
// the conflict once, lets a restarted member take over from a dead one, and flags the newcomer.
#include "support/swim_harness.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace std::chrono_literals;
using namespace rpcnetd;
using membership::member_event_kind;
using membership::member_status;
namespace wire = membership::wire;

namespace {

// b holds its name at h:2 with incarnation 3 and a role tag; a's generation is 7.
struct harness : test::swim_harness {
    harness()
        : swim_harness({{"b", {"h", 2}, 3, member_status::alive, {{"role", "worker"}}},
                        {"c", {"h", 3}, 0, member_status::alive, {}}},
                       7) {}
    std::vector<membership::member_event> conflicts() {
        auto all = s.drain_events();
        std::erase_if(all, [](const auto& e) { return e.kind != member_event_kind::conflict; });
        return all;
    }
};

}  // namespace

TEST_CASE("swim_state: a second address claiming an alive member's name is refused and reported",
          "[membership]") {
    harness h;
    h.deliver({"h", 9}, "b", wire::alive_msg{"b", {"h", 9}, 4, {}});
    auto b = h.s.find("b");
    REQUIRE(b);
    CHECK(b->addr == common::endpoint{"h", 2});  // the holder keeps its name
    CHECK(b->incarnation == 3);
    CHECK(b->tags.at("role") == "worker");
    auto c = h.conflicts();
    REQUIRE(c.size() == 1);
    CHECK(c[0].snapshot.name == "b");
    CHECK(c[0].snapshot.addr == common::endpoint{"h", 2});
    CHECK(c[0].claimant == common::endpoint{"h", 9});
    CHECK_FALSE(c[0].newcomer);

    SECTION("gossip retransmitting the same claim is reported once") {
        h.deliver({"h", 9}, "b", wire::alive_msg{"b", {"h", 9}, 5, {}}, 2ms);
        h.deliver({"h", 3}, "c", wire::alive_msg{"b", {"h", 9}, 5, {}}, 3ms);
        CHECK(h.conflicts().empty());
        CHECK(h.s.find("b")->addr == common::endpoint{"h", 2});
    }
    SECTION("the holder's own newer alive still updates it") {
        h.deliver({"h", 2}, "b", wire::alive_msg{"b", {"h", 2}, 6, {{"role", "worker"}}}, 2ms);
        CHECK(h.s.find("b")->incarnation == 6);
        CHECK(h.conflicts().empty());
    }
}

TEST_CASE("swim_state: a member restarted elsewhere takes its name over from a dead holder",
          "[membership]") {
    for (const bool failed : {false, true}) {
        INFO("holder " << (failed ? "failed" : "suspect"));
        harness h;
        if (failed) {
            h.deliver({"h", 3}, "c", wire::failed_msg{"b", 3, "c"});
        } else {
            h.deliver({"h", 3}, "c", wire::suspect_msg{"b", 3, "c"});
        }
        h.s.drain_events();
        h.deliver({"h", 9}, "b", wire::alive_msg{"b", {"h", 9}, 4, {}}, 5ms);
        auto b = h.s.find("b");
        REQUIRE(b);
        CHECK(b->addr == common::endpoint{"h", 9});
        CHECK(b->status == member_status::alive);
        const auto events = h.s.drain_events();
        REQUIRE(events.size() == 1);
        CHECK(events[0].kind == member_event_kind::recovered);
        // After the take-over, the old address claiming the name again is news again.
        h.deliver({"h", 2}, "b", wire::alive_msg{"b", {"h", 2}, 5, {}}, 6ms);
        auto c = h.conflicts();
        REQUIRE(c.size() == 1);
        CHECK(c[0].snapshot.addr == common::endpoint{"h", 9});
        CHECK(c[0].claimant == common::endpoint{"h", 2});
    }
}

TEST_CASE("swim_state: a claim on our own name from another address is reported", "[membership]") {
    harness h;
    const auto inc = h.s.self().incarnation;
    SECTION("by gossip: reported once, and refuted as before") {
        h.deliver({"h", 9}, "b", wire::alive_msg{"a", {"h", 9}, inc + 1, {}});
        auto c = h.conflicts();
        REQUIRE(c.size() == 1);
        CHECK(c[0].snapshot.name == "a");
        CHECK(c[0].snapshot.addr == common::endpoint{"h", 1});
        CHECK(c[0].claimant == common::endpoint{"h", 9});
        CHECK_FALSE(c[0].newcomer);
        CHECK(h.s.self().incarnation > inc + 1);
        CHECK(h.s.self().addr == common::endpoint{"h", 1});
        h.deliver({"h", 9}, "b", wire::alive_msg{"a", {"h", 9}, inc + 1, {}}, 2ms);
        CHECK(h.conflicts().empty());
    }
    SECTION("stale gossip about an older life elsewhere is not a conflict") {
        h.deliver({"h", 9}, "b", wire::alive_msg{"a", {"h", 9}, inc - 1, {}});
        CHECK(h.conflicts().empty());
    }
    SECTION("from the seed's state at join, even older: we are the newcomer") {
        const std::vector<membership::member> remote{
            {"a", {"h", 9}, inc - 1, member_status::alive, {}},
            {"b", {"h", 2}, 3, member_status::alive, {}}};
        h.s.merge_remote_state(remote, h.t0 + 1ms);
        CHECK(h.conflicts().empty());  // a periodic exchange: stale
        h.s.merge_join_state(remote, h.t0 + 2ms);
        auto c = h.conflicts();
        REQUIRE(c.size() == 1);
        CHECK(c[0].newcomer);
        CHECK(c[0].claimant == common::endpoint{"h", 9});
        h.s.merge_join_state(remote, h.t0 + 3ms);  // a join retried: the shell hears it again
        CHECK(h.conflicts().size() == 1);
    }
    SECTION("a failed holder in the seed's state is no conflict: we take the name over") {
        h.s.merge_join_state({{"a", {"h", 9}, inc - 1, member_status::failed, {}}}, h.t0 + 1ms);
        CHECK(h.conflicts().empty());
        CHECK(h.s.self().addr == common::endpoint{"h", 1});
    }
}
