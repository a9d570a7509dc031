#include "cli/fake_env.hpp"
#include "cli/options.hpp"
#include "common/error.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

using namespace rpcnetd;
using namespace std::chrono_literals;

using test::fake_env;
using test::parse;

TEST_CASE("options: defaults follow DESIGN.md §5 and §6", "[cli]") {
    fake_env().clear();
    auto d = std::get<cli::director_config>(parse({"director"}));
    CHECK(d.member.addr.to_string() == "127.0.0.1:61000");
    CHECK(d.member.name == "director");
    CHECK(d.strategy == cli::balance_strategy::least_connections);
    CHECK(d.member.tags.at("role") == "director");
    CHECK(d.member.swim.probe_interval == 200ms);
    CHECK(d.member.swim.probe_timeout == 100ms);
    CHECK(d.member.swim.indirect_probes == 3);
    CHECK(d.member.swim.phi_threshold == Approx(8.0));
    CHECK(d.member.swim.push_pull_interval == 15s);
    CHECK(d.member.swim.phi_max_samples == 200);
    CHECK(d.member.swim.phi_min_std_deviation == 100ms);
    CHECK(d.member.swim.phi_first_heartbeat == 1s);
    CHECK(d.member.swim.gossip_fanout == 3);
    CHECK(d.member.limits.max_frame == 4U * 1024U * 1024U);
    CHECK(d.member.limits.handshake_timeout == 5s);
    CHECK(d.member.limits.max_queued_bytes == 8U * 1024U * 1024U);
    CHECK(d.member.limits.min_ping_interval == 10ms);
    CHECK(d.member.limits.max_ping_strikes == 100);
    CHECK(d.common.tls.cert_file == "certs/test_cert.pem");

    auto w = std::get<cli::worker_config>(parse({"worker"}));
    CHECK(w.member.addr.to_string() == "127.0.0.1:62001");
    CHECK(w.label == "worker-1");
    REQUIRE(w.member.join.size() == 1);
    CHECK(w.member.join[0].to_string() == "127.0.0.1:61000");
    CHECK(w.member.tags.at("role") == "worker");
    CHECK(w.member.tags.at("label") == "worker-1");
    CHECK(w.token_interval == 100ms);
    CHECK_FALSE(w.failures.enabled);

    auto c = std::get<cli::client_config>(parse({"client"}));
    REQUIRE(c.directors.size() == 1);
    CHECK(c.tokens == 0);
    CHECK(c.output == cli::client_output::text);
}

TEST_CASE("options: environment variables apply and flags win", "[cli]") {
    fake_env() = {{"DIRECTOR_ADDR", "127.0.0.1:7000"},
                  {"WORKER_LABEL", "worker-env"},
                  {"WORKER_ADDR", "127.0.0.1:7001"},
                  {"WORKER_FAILURE_ENABLED", "true"},
                  {"RUST_LOG", "debug"}};
    auto w = std::get<cli::worker_config>(parse({"worker"}));
    CHECK(w.label == "worker-env");
    CHECK(w.member.addr.port == 7001);
    CHECK(w.member.join[0].port == 7000);
    CHECK(w.failures.enabled);
    CHECK(w.common.log_level == "debug");

    auto w2 = std::get<cli::worker_config>(parse(
        {"worker", "--label", "worker-a", "--addr", "127.0.0.1:7100", "--log-level", "warn"}));
    CHECK(w2.label == "worker-a");
    CHECK(w2.member.name == "worker-a");
    CHECK(w2.member.addr.port == 7100);
    CHECK(w2.common.log_level == "warn");

    fake_env()["RPCNET_LOG"] = "trace";
    auto d = std::get<cli::director_config>(parse({"director"}));
    CHECK(d.member.addr.port == 7000);
    CHECK(d.common.log_level == "trace");
    fake_env().clear();
}

TEST_CASE("options: worker tags, client filter, durations", "[cli]") {
    fake_env().clear();
    auto w = std::get<cli::worker_config>(
        parse({"worker", "--tag", "gpu=true", "--tag", "zone=eu", "--simulate-failures",
               "--token-interval", "0ms", "--join", "127.0.0.1:1,127.0.0.1:2"}));
    CHECK(w.member.tags.at("gpu") == "true");
    CHECK(w.member.tags.at("zone") == "eu");
    CHECK(w.failures.enabled);
    CHECK(w.token_interval == 0ms);
    CHECK(w.member.join.size() == 2);

    auto c = std::get<cli::client_config>(
        parse({"client", "--filter", "gpu=true,zone=eu", "--tokens", "200", "--output", "jsonl"}));
    CHECK(c.filter.size() == 2);
    CHECK(c.tokens == 200);
    CHECK(c.output == cli::client_output::jsonl);
}

TEST_CASE("options: bad input is a usage error naming the flag", "[cli]") {
    fake_env().clear();
    CHECK_THROWS_AS(parse({}), usage_error);
    CHECK_THROWS_AS(parse({"--bogus"}), usage_error);
    CHECK_THROWS_AS(parse({"director", "--bogus"}), usage_error);
    CHECK_THROWS_WITH(parse({"worker", "--token-interval", "5"}),
                      Catch::Contains("--token-interval"));
    CHECK_THROWS_WITH(parse({"director", "--strategy", "fastest"}), Catch::Contains("strategy"));
    CHECK_THROWS_WITH(parse({"director", "--addr", "nowhere"}), Catch::Contains("--addr"));
    CHECK_THROWS_WITH(parse({"client", "--filter", "gpu"}), Catch::Contains("--filter"));
    CHECK_THROWS_WITH(parse({"client", "--output", "xml"}), Catch::Contains("--output"));
    CHECK_THROWS_WITH(parse({"members", "--output", "jsonl"}), Catch::Contains("--output"));
    CHECK_THROWS_WITH(parse({"director", "--log-level", "loud"}), Catch::Contains("log level"));
    CHECK_THROWS_WITH(parse({"director", "--probe-timeout", "300ms"}),
                      Catch::Contains("--probe-timeout"));
    fake_env()["WORKER_FAILURE_ENABLED"] = "maybe";
    CHECK_THROWS_WITH(parse({"worker"}), Catch::Contains("WORKER_FAILURE_ENABLED"));
    fake_env().clear();
    // Boost would wrap "-1" into an unsigned as 4294967295: a negative count is refused instead.
    CHECK_THROWS_WITH(parse({"worker", "--max-frame=-1"}), Catch::Contains("--max-frame"));
    CHECK_THROWS_WITH(parse({"client", "--tokens=-5"}), Catch::Contains("--tokens"));
    CHECK_THROWS_WITH(parse({"events", "--replay=-1"}), Catch::Contains("--replay"));
    CHECK_THROWS_WITH(parse({"director", "--indirect-probes=-3"}),
                      Catch::Contains("--indirect-probes"));
    CHECK_THROWS_WITH(parse({"director", "--affinity-epsilon", "-1"}),
                      Catch::Contains("--affinity-epsilon"));
    CHECK_THROWS_WITH(parse({"director", "--queue-timeout", "0s"}),
                      Catch::Contains("--queue-timeout"));
    CHECK_THROWS_WITH(parse({"drain"}), Catch::Contains("--target"));
    CHECK_THROWS_WITH(parse({"undrain", "--target", "nowhere"}), Catch::Contains("--target"));
    CHECK_THROWS_AS(parse({"undrain", "--target", "127.0.0.1:1", "--handoff"}), usage_error);
}

TEST_CASE("options: high-availability flags (#10)", "[cli]") {
    fake_env().clear();
    auto d = std::get<cli::director_config>(parse({"director"}));
    CHECK(d.queue_size == 128);
    CHECK(d.queue_timeout == std::chrono::seconds(30));
    CHECK(d.affinity_epsilon == Approx(0.25));
    d = std::get<cli::director_config>(parse(
        {"director", "--strategy", "power-of-two", "--queue-size", "0", "--queue-timeout", "2s"}));
    CHECK(d.strategy == cli::balance_strategy::power_of_two);
    CHECK(d.queue_size == 0);
    CHECK(d.queue_timeout == std::chrono::seconds(2));
    d = std::get<cli::director_config>(
        parse({"director", "--strategy", "affinity", "--affinity-epsilon", "0.5"}));
    CHECK(d.strategy == cli::balance_strategy::affinity);
    CHECK(d.affinity_epsilon == Approx(0.5));
    const auto c = std::get<cli::client_config>(parse({"client", "--affinity", "user-7"}));
    CHECK(c.affinity == "user-7");
    const auto dr =
        std::get<cli::drain_config>(parse({"drain", "--target", "127.0.0.1:62001", "--handoff"}));
    CHECK(dr.drain);
    CHECK(dr.handoff);
    const auto un = std::get<cli::drain_config>(parse({"undrain", "--target", "127.0.0.1:62001"}));
    CHECK_FALSE(un.drain);
    const auto b = std::get<cli::bench_config>(
        parse({"bench", "--mode", "assign", "--target", "127.0.0.1:61000"}));
    CHECK(b.mode == cli::bench_mode::assign);
}

TEST_CASE("options: every RPC limit is a flag", "[cli]") {
    fake_env().clear();
    auto w = std::get<cli::worker_config>(
        parse({"worker", "--max-queued-bytes", "5000000", "--min-ping-interval", "50ms",
               "--max-ping-strikes", "0", "--max-frame", "1048576"}));
    CHECK(w.member.limits.max_queued_bytes == 5000000);
    CHECK(w.member.limits.min_ping_interval == 50ms);
    CHECK(w.member.limits.max_ping_strikes == 0);
    // The queue must hold one whole frame.
    CHECK_THROWS_WITH(parse({"worker", "--max-queued-bytes", "4194304"}),
                      Catch::Contains("--max-queued-bytes"));
    CHECK_THROWS_WITH(parse({"worker", "--min-ping-interval", "10"}),
                      Catch::Contains("--min-ping-interval"));
}

TEST_CASE("options: names and tags are UTF-8 of at most 255 bytes, at most 64 tags", "[cli]") {
    fake_env().clear();
    CHECK_NOTHROW(parse({"worker", "--label", "wörker-é", "--tag", "zone=eu"}));
    CHECK_THROWS_WITH(parse({"worker", "--label", "bad\xFF"}), Catch::Contains("--label"));
    CHECK_THROWS_WITH(parse({"director", "--name", std::string(256, 'n')}),
                      Catch::Contains("--name"));
    CHECK_THROWS_WITH(parse({"worker", "--tag", "k=\xC0\xAF"}), Catch::Contains("UTF-8"));
    CHECK_THROWS_WITH(parse({"worker", "--tag", std::string(300, 'k') + "=v"}),
                      Catch::Contains("255"));
    std::vector<std::string> many{"worker"};
    for (int i = 0; i < 70; ++i) {
        many.push_back("--tag");
        many.push_back("key" + std::to_string(i) + "=v");
    }
    CHECK_THROWS_WITH(parse(many), Catch::Contains("64 tags"));
}

TEST_CASE("options: events replays 10 recent events unless told otherwise", "[cli]") {
    fake_env().clear();
    CHECK(std::get<cli::events_config>(parse({"events"})).replay == 10);
    CHECK(std::get<cli::events_config>(parse({"events", "--replay", "0"})).replay == 0);
    CHECK(std::get<cli::events_config>(parse({"events", "--replay", "300"})).replay == 300);
}

TEST_CASE("options: help and version are requests, not errors", "[cli]") {
    fake_env().clear();
    CHECK(std::get<cli::help_request>(parse({"--help"})).text.find("director") !=
          std::string::npos);
    CHECK(std::get<cli::help_request>(parse({"--version"})).text.find("rpcnetd") !=
          std::string::npos);
    auto h = std::get<cli::help_request>(parse({"worker", "--help"}));
    CHECK(h.text.find("--simulate-failures") != std::string::npos);
    CHECK(h.text.find("--probe-interval") != std::string::npos);
}

TEST_CASE("options: keys takes an action, a key file and the current gossip key", "[cli][keys]") {
    fake_env().clear();
    const auto c =
        std::get<cli::keys_config>(parse({"keys", "install", "--director", "127.0.0.1:7000",
                                          "--key-file", "new.key", "--gossip-key", "cur.key"}));
    CHECK(c.action == cli::keys_action::install);
    CHECK(c.director.port == 7000);
    CHECK(c.key_file == "new.key");
    CHECK(c.common.gossip_key_file == "cur.key");
    const auto l = std::get<cli::keys_config>(parse({"keys", "list", "--gossip-key", "cur.key"}));
    CHECK(l.action == cli::keys_action::list);
    CHECK(l.director.port == 61000);

    CHECK_THROWS_WITH(parse({"keys", "--gossip-key", "k"}), Catch::Contains("action"));
    CHECK_THROWS_WITH(parse({"keys", "rotate", "--gossip-key", "k"}), Catch::Contains("action"));
    CHECK_THROWS_WITH(parse({"keys", "use", "--gossip-key", "k"}), Catch::Contains("--key-file"));
    CHECK_THROWS_WITH(parse({"keys", "list"}), Catch::Contains("--gossip-key"));
    CHECK_THROWS_AS(parse({"keys", "list", "extra", "--gossip-key", "k"}), usage_error);
    auto h = std::get<cli::help_request>(parse({"keys", "--help"}));
    CHECK(h.text.find("install|use|remove|list") != std::string::npos);
    CHECK(h.text.find("--key-file") != std::string::npos);
}

TEST_CASE("options: --http-addr is off by default and must be an address to bind", "[cli]") {
    fake_env().clear();
    CHECK_FALSE(std::get<cli::director_config>(parse({"director"})).member.http_addr);
    const auto d =
        std::get<cli::director_config>(parse({"director", "--http-addr", "127.0.0.1:9464"}));
    REQUIRE(d.member.http_addr);
    CHECK(d.member.http_addr->port == 9464);
    const auto w = std::get<cli::worker_config>(parse({"worker", "--http-addr", "localhost:9465"}));
    REQUIRE(w.member.http_addr);
    CHECK(w.member.http_addr->host == "localhost");
    CHECK(std::get<cli::worker_config>(parse({"worker", "--http-addr", "[::1]:9465"}))
              .member.http_addr);
    CHECK_THROWS_WITH(parse({"director", "--http-addr", "9464"}), Catch::Contains("--http-addr"));
    CHECK_THROWS_WITH(parse({"worker", "--http-addr", "example.com:9464"}),
                      Catch::Contains("--http-addr"));
}

TEST_CASE("options: worker --exec flags (issue #8)", "[cli][exec]") {
    fake_env().clear();
    SECTION("built-in generator: no program, unlimited") {
        auto w = std::get<cli::worker_config>(parse({"worker"}));
        CHECK_FALSE(w.exec.enabled());
        CHECK(w.exec.max_jobs == 0);
        CHECK(w.member.tags.count("capacity") == 0);
    }
    SECTION("--exec is split like a shell would; capacity defaults to the CPUs") {
        auto w = std::get<cli::worker_config>(
            parse({"worker", "--exec", "prog 'two words' a\\ b", "--resume", "continue"}));
        CHECK(w.exec.argv == std::vector<std::string>{"prog", "two words", "a b"});
        CHECK(w.exec.resume == cli::exec_resume::continue_from_context);
        CHECK(w.exec.max_jobs >= 1);
        CHECK(w.member.tags.at("capacity") == std::to_string(w.exec.max_jobs));
        CHECK(w.exec.max_token_bytes == 64 * 1024);
        CHECK(w.exec.kill_timeout == 2s);
        CHECK(w.exec.job_timeout == 0ms);
    }
    SECTION("--exec-shell runs /bin/sh -c; explicit limits") {
        auto w = std::get<cli::worker_config>(
            parse({"worker", "--exec-shell", "yes | head", "--max-jobs", "3", "--job-timeout", "5s",
                   "--exec-kill-timeout", "500ms", "--max-token-bytes", "100"}));
        CHECK(w.exec.argv == std::vector<std::string>{"/bin/sh", "-c", "yes | head"});
        CHECK(w.exec.max_jobs == 3);
        CHECK(w.member.tags.at("capacity") == "3");
        CHECK(w.exec.job_timeout == 5s);
        CHECK(w.exec.kill_timeout == 500ms);
        CHECK(w.exec.max_token_bytes == 100);
    }
    SECTION("bad combinations are usage errors") {
        CHECK_THROWS_AS(parse({"worker", "--exec", "a", "--exec-shell", "b"}), usage_error);
        CHECK_THROWS_AS(parse({"worker", "--exec", "a", "--exec-framing", "chunks"}), usage_error);
        CHECK_THROWS_AS(parse({"worker", "--exec", "a", "--resume", "again"}), usage_error);
        CHECK_THROWS_AS(parse({"worker", "--exec", "a", "--max-token-bytes", "0"}), usage_error);
        CHECK_THROWS_AS(parse({"worker", "--exec", "''"}), usage_error);
    }
}

TEST_CASE("options: client --prompt-file, --output raw, --resume-context-limit", "[cli][exec]") {
    fake_env().clear();
    auto c = std::get<cli::client_config>(parse({"client"}));
    CHECK(c.prompt_file.empty());
    CHECK(c.resume_context_limit == 1024 * 1024);
    c = std::get<cli::client_config>(
        parse({"client", "--prompt-file", "-", "--output", "raw", "--resume-context-limit", "0"}));
    CHECK(c.prompt_file == "-");
    CHECK(c.output == cli::client_output::raw);
    CHECK(c.resume_context_limit == 0);
    CHECK_THROWS_AS(parse({"client", "--prompt", "x", "--prompt-file", "f"}), usage_error);
    CHECK_THROWS_AS(parse({"client", "--resume-context-limit", "4000000"}), usage_error);
}
