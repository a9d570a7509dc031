#include "app/director/failover_reason.hpp"

#include <catch2/catch.hpp>

using rpcnetd::app::failover_reason_class;

TEST_CASE("client failure reasons map onto a bounded set of label values", "[metrics]") {
    CHECK(failover_reason_class("connect: Connection refused") == "connect");
    CHECK(failover_reason_class("no token for 1000ms") == "idle_timeout");
    CHECK(failover_reason_class("stream ended early") == "ended_early");
    CHECK(failover_reason_class("sequence gap at 7") == "sequence_gap");
    CHECK(failover_reason_class("malformed token") == "malformed");
    CHECK(failover_reason_class("WORKER_FAILED: worker failed (simulated)") == "worker_failed");
    CHECK(failover_reason_class("UNAVAILABLE") == "unavailable");
    CHECK(failover_reason_class("") == "unspecified");
    // Free text from a client never becomes a label value of its own.
    CHECK(failover_reason_class("\"}\n# TYPE evil counter") == "other");
    CHECK(failover_reason_class("NOT_A_CODE: x") == "other");
    CHECK(failover_reason_class(std::string(10000, 'A')) == "other");
}
