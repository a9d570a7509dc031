#include "common/fd_limit.hpp"

#include <catch2/catch.hpp>

using rpcnetd::common::fd_limits;
using rpcnetd::common::fd_reserve;
using rpcnetd::common::fd_shortfall;

TEST_CASE("fd_shortfall: connections plus the reserve must fit under the soft limit", "[common]") {
    CHECK_FALSE(fd_shortfall(fd_limits{1024, 65536, 65536}, 4096).has_value());
    CHECK_FALSE(fd_shortfall(fd_limits{1024, 4096 + fd_reserve, 4096 + fd_reserve}, 4096));

    const auto why = fd_shortfall(fd_limits{1024, 1024, 1024}, 4096);
    REQUIRE(why.has_value());
    CHECK(why->find("nofile_soft=1024") != std::string::npos);
    CHECK(why->find("nofile_hard=1024") != std::string::npos);
    CHECK(why->find("max_connections=4096") != std::string::npos);
    CHECK(why->find("needed=" + std::to_string(4096 + fd_reserve)) != std::string::npos);
    CHECK(why->find("--max-connections to " + std::to_string(1024 - fd_reserve)) !=
          std::string::npos);
}

TEST_CASE("fd_shortfall: unknown limits never warn", "[common]") {
    CHECK_FALSE(fd_shortfall(fd_limits{}, 4096).has_value());
}

TEST_CASE("raise_fd_limit: the soft limit ends at the hard limit", "[common]") {
    const auto l = rpcnetd::common::raise_fd_limit();
    REQUIRE(l.hard > 0);
    CHECK(l.soft == l.hard);
    CHECK(l.soft >= l.soft_before);
    CHECK(rpcnetd::common::current_fd_limits().soft == l.hard);
}
