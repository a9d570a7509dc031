#include "common/metrics.hpp"

#include <catch2/catch.hpp>

#include <limits>

using namespace rpcnetd::common::metrics;

TEST_CASE("metric names map dots and other characters to underscores", "[metrics]") {
    CHECK(metric_name("rpc.frames_too_large") == "rpc_frames_too_large");
    CHECK(metric_name("gossip.bytes-sent") == "gossip_bytes_sent");
    CHECK(metric_name("a:b_C9") == "a:b_C9");
    CHECK(metric_name("9lives") == "_9lives");
    CHECK(metric_name("") == "_");
    CHECK(metric_name("é") == "__");  // two UTF-8 bytes, two underscores
}

TEST_CASE("label values escape backslash, quote and newline, help escapes backslash and newline",
          "[metrics]") {
    CHECK(escape_label_value(R"(a\b"c)") == R"(a\\b\"c)");
    CHECK(escape_label_value("x\ny") == "x\\ny");
    CHECK(escape_label_value("plain") == "plain");
    CHECK(escape_help("one\\two\nthree \"q\"") == "one\\\\two\\nthree \"q\"");

    exposition e;
    e.counter("x_total", "hostile", 1, {{"reason", "a\"}\n# TYPE x gauge"}});
    const auto text = e.str();
    CHECK(text == "# HELP x_total hostile\n# TYPE x_total counter\n"
                  "x_total{reason=\"a\\\"}\\n# TYPE x gauge\"} 1\n");
}

TEST_CASE("values: integers plain, fractions shortest, infinities and NaN spelled out",
          "[metrics]") {
    CHECK(format_value(0) == "0");
    CHECK(format_value(42) == "42");
    CHECK(format_value(0.25) == "0.25");
    CHECK(format_value(0.0005) == "0.0005");
    CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
    CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
    CHECK(format_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
}

TEST_CASE("histogram buckets are cumulative and end with +Inf, _sum and _count", "[metrics]") {
    histogram h({0.1, 1, 0.5, 1});  // unsorted, duplicate: sorted and deduplicated
    REQUIRE(h.bounds() == std::vector<double>{0.1, 0.5, 1});
    h.observe(0.05);
    h.observe(0.1);  // on the bound: counts in le="0.1"
    h.observe(0.7);
    h.observe(3);                                         // above every bound: only in +Inf
    h.observe(std::numeric_limits<double>::quiet_NaN());  // ignored
    CHECK(h.cumulative() == std::vector<std::uint64_t>{2, 2, 3});
    CHECK(h.count() == 4);
    CHECK(h.sum() == Approx(3.85));

    exposition e;
    e.add_histogram("rpcnetd_probe_rtt_seconds", "probe round trip", h, {{"node", "d"}});
    CHECK(e.str() == "# HELP rpcnetd_probe_rtt_seconds probe round trip\n"
                     "# TYPE rpcnetd_probe_rtt_seconds histogram\n"
                     "rpcnetd_probe_rtt_seconds_bucket{node=\"d\",le=\"0.1\"} 2\n"
                     "rpcnetd_probe_rtt_seconds_bucket{node=\"d\",le=\"0.5\"} 2\n"
                     "rpcnetd_probe_rtt_seconds_bucket{node=\"d\",le=\"1\"} 3\n"
                     "rpcnetd_probe_rtt_seconds_bucket{node=\"d\",le=\"+Inf\"} 4\n"
                     "rpcnetd_probe_rtt_seconds_sum{node=\"d\"} 3.85\n"
                     "rpcnetd_probe_rtt_seconds_count{node=\"d\"} 4\n");
}

TEST_CASE("an empty histogram still renders every bucket at zero", "[metrics]") {
    histogram h(latency_buckets());
    exposition e;
    e.add_histogram("h_seconds", "empty", h);
    const auto text = e.str();
    CHECK(text.find("h_seconds_bucket{le=\"+Inf\"} 0\n") != std::string::npos);
    CHECK(text.find("h_seconds_sum 0\n") != std::string::npos);
    CHECK(text.find("h_seconds_count 0\n") != std::string::npos);
    CHECK(text.find("h_seconds_bucket{le=\"0.0005\"} 0\n") != std::string::npos);
}

TEST_CASE("samples of one family stay together under one HELP/TYPE", "[metrics]") {
    exposition e;
    e.gauge("members", "by state", 2, {{"state", "alive"}});
    e.counter("other_total", "x", 5);
    e.gauge("members", "by state", 1, {{"state", "failed"}});
    CHECK(e.str() == "# HELP members by state\n# TYPE members gauge\n"
                     "members{state=\"alive\"} 2\nmembers{state=\"failed\"} 1\n"
                     "# HELP other_total x\n# TYPE other_total counter\nother_total 5\n");
}
