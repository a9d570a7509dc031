#include "balance/load_index.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

using rpcnetd::balance::load_index;

TEST_CASE("load_index: orders by (load, name) and by name, with ranks", "[balance]") {
    load_index idx;
    idx.set("c", 2, 0);
    idx.set("a", 1, 4);
    idx.set("b", 1, 0);
    idx.set("d", 0, 0);
    REQUIRE(idx.size() == 4);
    CHECK(idx.nth_by_load(0).name == "d");
    CHECK(idx.nth_by_load(1).name == "a");
    CHECK(idx.nth_by_load(2).name == "b");
    CHECK(idx.nth_by_load(3).name == "c");
    CHECK(idx.count_below(1) == 1);
    CHECK(idx.count_below(2) == 3);
    CHECK(idx.nth_by_name(0).name == "a");
    CHECK(idx.nth_by_name(0).capacity == 4);
    CHECK(idx.nth_by_name(3).name == "d");
    CHECK(idx.next_by_name("b")->name == "c");
    CHECK(idx.next_by_name("bb")->name == "c");
    CHECK_FALSE(idx.next_by_name("d").has_value());

    SECTION("set moves an entry to its new load") {
        idx.set("d", 5, 1);
        CHECK(idx.nth_by_load(3).name == "d");
        CHECK(idx.nth_by_load(3).capacity == 1);
        CHECK(idx.count_below(2) == 2);
        CHECK(idx.size() == 4);
    }
    SECTION("erase removes it from both orders; erasing twice is a no-op") {
        idx.erase("a");
        idx.erase("a");
        CHECK(idx.size() == 3);
        CHECK_FALSE(idx.contains("a"));
        CHECK(idx.nth_by_name(0).name == "b");
        CHECK(idx.nth_by_load(1).name == "b");
    }
}

TEST_CASE("load_index: agrees with a sorted list over random updates", "[balance]") {
    std::mt19937_64 g(7);
    std::vector<std::string> names;
    for (int i = 0; i < 50; ++i) {
        names.push_back("w" + std::to_string(i));
    }
    load_index idx;
    std::map<std::string, std::uint32_t> model;  // name -> load
    for (int step = 0; step < 3000; ++step) {
        const auto& n = names[g() % names.size()];
        if (g() % 4 == 0) {
            idx.erase(n);
            model.erase(n);
        } else {
            const auto load = static_cast<std::uint32_t>(g() % 6);
            idx.set(n, load, 0);
            model[n] = load;
        }
        std::vector<std::pair<std::uint32_t, std::string>> by_load;
        for (const auto& [name, load] : model) {
            by_load.emplace_back(load, name);
        }
        std::sort(by_load.begin(), by_load.end());
        REQUIRE(idx.size() == model.size());
        for (std::size_t k = 0; k < by_load.size(); ++k) {
            REQUIRE(idx.nth_by_load(k).name == by_load[k].second);
            REQUIRE(idx.nth_by_load(k).load == by_load[k].first);
        }
        std::size_t k = 0;
        for (const auto& [name, load] : model) {
            REQUIRE(idx.nth_by_name(k++).name == name);
        }
        const auto probe = static_cast<std::uint32_t>(g() % 7);
        const auto below = std::count_if(by_load.begin(), by_load.end(),
                                         [&](const auto& e) { return e.first < probe; });
        REQUIRE(idx.count_below(probe) == static_cast<std::size_t>(below));
    }
}
