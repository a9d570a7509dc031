#include "balance/member_snapshot.hpp"

#include <catch2/catch.hpp>

using rpcnetd::balance::member_snapshot;

TEST_CASE("member_snapshot: reported streams from the field, else the tag", "[balance]") {
    member_snapshot m;
    CHECK_FALSE(m.reported_streams());
    m.tags["active_streams"] = "12";
    CHECK(m.reported_streams() == 12u);
    m.active_streams = 3;
    CHECK(m.reported_streams() == 3u);  // the field wins
    m.active_streams.reset();
    for (const char* bad : {"", "-1", "1x", " 1", "99999999999", "0x10"}) {
        m.tags["active_streams"] = bad;
        CHECK_FALSE(m.reported_streams());
    }
}

TEST_CASE("member_snapshot: only role=worker is a worker", "[balance]") {
    member_snapshot m;
    CHECK_FALSE(m.is_worker());
    m.tags["role"] = "director";
    CHECK_FALSE(m.is_worker());
    m.tags["role"] = "worker";
    CHECK(m.is_worker());
}
