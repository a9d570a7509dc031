#include "resume/resume_cursor.hpp"

#include "common/random.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <deque>
#include <vector>

using rpcnetd::resume::end_verdict;
using rpcnetd::resume::resume_cursor;
using rpcnetd::resume::token_verdict;

TEST_CASE("resume_cursor: delivers the current stream in order", "[client]") {
    resume_cursor c(5);
    CHECK(c.next_from() == 1);
    CHECK(c.last_delivered() == 0);
    CHECK(c.on_token(1, 1) == token_verdict::stale_stream);  // nothing begun yet
    REQUIRE(c.begin_stream(1));
    for (std::uint64_t s = 1; s <= 5; ++s) {
        CHECK(c.on_token(1, s) == token_verdict::deliver);
        CHECK(c.next_from() == s + 1);
    }
    CHECK(c.done());
    CHECK(c.delivered_count() == 5);
    CHECK(c.on_token(1, 6) == token_verdict::past_target);
    CHECK(c.on_end(1) == end_verdict::complete);
}

TEST_CASE("resume_cursor: duplicates, gaps and stale streams are not delivered", "[client]") {
    resume_cursor c(0);
    REQUIRE(c.begin_stream(10));
    CHECK(c.on_token(10, 1) == token_verdict::deliver);
    CHECK(c.on_token(10, 2) == token_verdict::deliver);
    CHECK(c.on_token(10, 2) == token_verdict::duplicate);
    CHECK(c.on_token(10, 1) == token_verdict::duplicate);
    CHECK(c.on_token(10, 0) == token_verdict::duplicate);
    CHECK(c.on_token(99, 3) == token_verdict::stale_stream);

    SECTION("a gap abandons the stream; resume from last + 1 on a fresh stream") {
        CHECK(c.on_token(10, 4) == token_verdict::gap);
        CHECK_FALSE(c.current_stream());
        CHECK(c.on_token(10, 3) == token_verdict::stale_stream);  // even the missing one
        CHECK(c.next_from() == 3);
        REQUIRE(c.begin_stream(11));
        CHECK(c.on_token(11, 3) == token_verdict::deliver);
        CHECK(c.attempts() == 2);
    }
    SECTION("failover: frames of the abandoned stream are ignored") {
        c.abandon();
        CHECK(c.on_token(10, 3) == token_verdict::stale_stream);
        REQUIRE(c.begin_stream(11));
        CHECK(c.on_token(10, 3) == token_verdict::stale_stream);
        CHECK(c.on_token(11, 3) == token_verdict::deliver);
        CHECK(c.on_end(10) == end_verdict::stale_stream);
        CHECK(c.current_stream() == 11u);
    }
    SECTION("stream ids must be fresh") {
        CHECK_FALSE(c.begin_stream(10));
        CHECK_FALSE(c.begin_stream(3));
        CHECK(c.current_stream() == 10u);
        CHECK(c.begin_next_stream() == 11);
        CHECK(c.current_stream() == 11u);
    }
    SECTION("an end before the target is premature") {
        resume_cursor bounded(10);
        REQUIRE(bounded.begin_stream(1));
        CHECK(bounded.on_token(1, 1) == token_verdict::deliver);
        CHECK(bounded.on_end(1) == end_verdict::premature);
        CHECK(bounded.on_token(1, 2) == token_verdict::stale_stream);
        CHECK(bounded.next_from() == 2);
    }
    SECTION("an unbounded cursor never finishes") {
        CHECK_FALSE(c.done());
        CHECK(c.on_end(10) == end_verdict::premature);
    }
}

TEST_CASE("resume_cursor: a sequence beyond the target is never delivered", "[client]") {
    resume_cursor c(3);
    REQUIRE(c.begin_stream(1));
    CHECK(c.on_token(1, 1) == token_verdict::deliver);
    CHECK(c.on_token(1, 7) == token_verdict::past_target);
    CHECK(c.current_stream() == 1u);  // not a failure: the tokens the user wants may still come
    CHECK(c.on_token(1, 2) == token_verdict::deliver);
}

TEST_CASE("resume_cursor: a custom first sequence", "[client]") {
    resume_cursor c(0, 100);
    CHECK(c.next_from() == 100);
    CHECK(c.last_delivered() == 99);
    REQUIRE(c.begin_stream(0));
    CHECK(c.on_token(0, 99) == token_verdict::duplicate);
    CHECK(c.on_token(0, 100) == token_verdict::deliver);
    CHECK(c.delivered_count() == 1);
}

namespace {

// One worker stream as the simulated network sees it: which sequence it would send next.
struct sim_stream {
    std::uint64_t id;
    std::uint64_t next;
};

// Runs one client against a hostile network until the target is reached, and returns the
// sequences handed to the user. Every step the network does one of: deliver the current stream's
// next token, replay an old token of the current stream, deliver a late frame of an abandoned
// stream (old or new sequence), skip a token (a gap), end a stream early, or the client fails over
// on its own (timeout / reset).
std::vector<std::uint64_t> run_hostile(std::uint64_t target, std::uint64_t seed,
                                       std::uint64_t& failovers) {
    rpcnetd::common::rng g(seed);
    const auto roll = [&](std::uint64_t n) { return g() % n; };
    resume_cursor c(target);
    std::vector<std::uint64_t> delivered;
    std::deque<sim_stream> abandoned;
    sim_stream cur{c.begin_next_stream(), c.next_from()};

    const auto fail_over = [&] {
        abandoned.push_back(cur);
        if (abandoned.size() > 8) {
            abandoned.pop_front();
        }
        c.abandon();
        cur = sim_stream{c.begin_next_stream(), c.next_from()};
        ++failovers;
    };

    for (int step = 0; step < 1'000'000 && !c.done(); ++step) {
        const auto r = roll(100);
        if (r < 55) {  // the normal case
            const auto v = c.on_token(cur.id, cur.next);
            if (v == token_verdict::deliver) {
                delivered.push_back(cur.next);
            }
            ++cur.next;
        } else if (r < 65) {  // replay of something already sent on this stream
            const auto s = cur.next > 1 ? 1 + roll(cur.next - 1) : 1;
            if (c.on_token(cur.id, s) == token_verdict::deliver) {
                delivered.push_back(s);
            }
        } else if (r < 80 && !abandoned.empty()) {  // a late frame from an abandoned stream
            auto& old = abandoned[roll(abandoned.size())];
            const std::uint64_t s = roll(2) == 0 ? old.next++ : c.next_from();
            if (c.on_token(old.id, s) == token_verdict::deliver) {
                delivered.push_back(s);
            }
            if (roll(4) == 0) {
                (void)c.on_end(old.id);
            }
        } else if (r < 85) {  // the worker skips ahead: the client must treat it as a failure
            cur.next += 1 + roll(3);
            const auto v = c.on_token(cur.id, cur.next);
            if (v == token_verdict::deliver) {
                delivered.push_back(cur.next);
            } else if (v == token_verdict::gap) {
                fail_over();
            }
        } else if (r < 88) {  // the worker ends the stream early
            if (c.on_end(cur.id) == end_verdict::premature) {
                fail_over();
            }
        } else if (r < 93) {  // reset or idle timeout
            fail_over();
        } else {  // several tokens in a row
            for (int i = 0; i < 5; ++i) {
                if (c.on_token(cur.id, cur.next) == token_verdict::deliver) {
                    delivered.push_back(cur.next);
                }
                ++cur.next;
            }
        }
        // Whatever made the cursor drop its current stream, the client fails over (as it does
        // for a reported gap or a premature end).
        if (!c.current_stream()) {
            fail_over();
        }
    }
    return delivered;
}

}  // namespace

TEST_CASE("resume_cursor: under any interleaving the user sees 1..N once each, in order",
          "[client]") {
    const std::uint64_t target = 500;
    std::uint64_t total_failovers = 0;
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        CAPTURE(seed);
        std::uint64_t failovers = 0;
        const auto delivered = run_hostile(target, seed, failovers);
        REQUIRE(delivered.size() == target);
        for (std::uint64_t i = 0; i < target; ++i) {
            REQUIRE(delivered[i] == i + 1);
        }
        total_failovers += failovers;
    }
    // The scenario must really exercise failover, not just the happy path.
    CHECK(total_failovers > 40 * 10);
}
