#include "membership/name_claim.hpp"

#include <catch2/catch.hpp>

using namespace rpcnetd;
using membership::claim_verdict;
using membership::member;
using membership::member_status;

namespace {

member held(member_status s, std::uint64_t inc = 10) {
    return member{"same", {"127.0.0.1", 43001}, inc, s, {}};
}

const std::uint64_t gen100 = membership::make_incarnation(100, 5);

const common::endpoint other{"127.0.0.1", 43002};

}  // namespace

TEST_CASE("name_claim: another address cannot take the name of an alive holder", "[membership]") {
    CHECK(membership::judge_claim(held(member_status::alive), other, 11) ==
          claim_verdict::conflict);
    SECTION("the holder's own newer alive is the usual update") {
        CHECK(membership::judge_claim(held(member_status::alive), {"127.0.0.1", 43001}, 11) ==
              claim_verdict::apply);
    }
    SECTION("also with a smaller counter of the same generation (started the same second)") {
        CHECK(membership::judge_claim(held(member_status::alive, gen100), other,
                                      membership::make_incarnation(100, 0)) ==
              claim_verdict::conflict);
    }
    SECTION("an older generation is stale news about the holder's previous life") {
        CHECK(membership::judge_claim(held(member_status::alive, gen100), other,
                                      membership::make_incarnation(99, 9)) ==
              claim_verdict::ignore);
    }
    SECTION("not newer, about a holder not alive or at the same address: old news") {
        CHECK(membership::judge_claim(held(member_status::failed), other, 9) ==
              claim_verdict::ignore);
        CHECK(membership::judge_claim(held(member_status::alive), {"127.0.0.1", 43001}, 10) ==
              claim_verdict::ignore);
    }
}

TEST_CASE("name_claim: a holder that is not alive is taken over (a restart elsewhere)",
          "[membership]") {
    for (auto s : {member_status::suspect, member_status::failed, member_status::left}) {
        CHECK(membership::judge_claim(held(s), other, 11) == claim_verdict::apply);
    }
}

TEST_CASE("name_claim: claims on our own name", "[membership]") {
    const member self{"same", other, 50, member_status::alive, {}};
    SECTION("our own address is no conflict") {
        CHECK_FALSE(membership::self_claim_conflicts(self, other, 60, true));
    }
    SECTION("at join, any other address is one, even with an older incarnation") {
        CHECK(membership::self_claim_conflicts(self, {"127.0.0.1", 43001}, 10, true));
    }
    SECTION("later, only a claim at least as new as ours (older ones are stale gossip)") {
        CHECK_FALSE(membership::self_claim_conflicts(self, {"127.0.0.1", 43001}, 10, false));
        CHECK(membership::self_claim_conflicts(self, {"127.0.0.1", 43001}, 50, false));
        CHECK(membership::self_claim_conflicts(self, {"127.0.0.1", 43001}, 51, false));
    }
}

TEST_CASE("claim_log: each claimant is reported once per name, until the name changes hands",
          "[membership]") {
    membership::claim_log log(4);
    CHECK(log.first_report("same", other));
    CHECK_FALSE(log.first_report("same", other));
    CHECK(log.first_report("same", {"127.0.0.1", 43003}));
    CHECK(log.first_report("also", other));
    log.forget("same");
    CHECK(log.size() == 1);
    CHECK(log.first_report("same", other));
    SECTION("bounded: past the limit it starts over") {
        CHECK(log.first_report("x", other));  // 3 entries
        CHECK(log.first_report("y", other));  // 4: the limit
        CHECK(log.first_report("z", other));  // full: starts over, then 1
        CHECK(log.size() == 1);
        CHECK(log.first_report("same", other));  // forgotten with the rest: reported again
    }
}
