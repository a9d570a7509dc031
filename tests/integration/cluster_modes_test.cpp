// Issue #4 acceptance with real processes on loopback: director, workers and clients started as
// children on free ports, killed by PID. All waits are polls with generous bounds.
#include "support/cluster.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <set>
#include <thread>

using namespace std::chrono_literals;
using namespace rpcnetd::test;

namespace {

// Waits until the client has printed at least n tokens; returns the worker of the last one.
std::string wait_tokens(child_process& client, std::size_t n, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        auto run = parse_client_output(client.output());
        if (run.sequences.size() >= n) {
            return run.token_workers.back();
        }
        std::this_thread::sleep_for(20ms);
    }
    FAIL("client did not reach " << n << " tokens; output:\n" << client.output());
    return {};
}

}  // namespace

TEST_CASE("cluster: client receives 1..200 exactly once through director and 2 workers",
          "[cluster][integration]") {
    cluster c;
    c.add_worker("worker-a", {"--token-interval", "5ms"});
    c.add_worker("worker-b", {"--token-interval", "5ms"});
    REQUIRE(c.wait_alive_workers(2, 20s));
    auto client = c.start_client({"--tokens", "200"});
    auto code = client->wait_exit(60s);
    REQUIRE(code);
    CHECK(*code == 0);
    auto run = parse_client_output(client->output());
    CHECK(exactly_once_in_order(run.sequences, 200));
    CHECK(run.done);
}

TEST_CASE("cluster: kill -9 of the serving worker twice loses and repeats nothing, and the "
          "killed process never serves again",
          "[cluster][integration]") {
    cluster c;
    for (const char* label : {"worker-a", "worker-b", "worker-c"}) {
        c.add_worker(label, {"--token-interval", "10ms"});
    }
    REQUIRE(c.wait_alive_workers(3, 20s));
    auto client = c.start_client({"--tokens", "400"});
    // Each killed worker is restarted at once (same label and address), so it *could* serve the
    // client again: the check below is about the killed process, not about an absent label.
    std::vector<std::pair<std::string, std::size_t>> kills;  // label, tokens seen at the kill
    std::size_t at = 50;
    for (int round = 0; round < 2; ++round) {
        const std::string serving = wait_tokens(*client, at, 30s);
        const std::size_t idx = serving == "worker-a" ? 0 : serving == "worker-b" ? 1 : 2;
        c.worker(idx).signal(SIGKILL);
        kills.emplace_back(serving, parse_client_output(client->output()).sequences.size());
        REQUIRE(c.worker(idx).wait_exit(10s));
        c.restart_worker(idx);
        // Tokens after the kill must come from someone else.
        at = kills.back().second + 50;
    }
    auto code = client->wait_exit(60s);
    REQUIRE(code);
    CHECK(*code == 0);
    auto run = parse_client_output(client->output());
    CHECK(exactly_once_in_order(run.sequences, 400));
    CHECK(run.failovers >= 2);
    // The killed process never serves again: after the client's failover from it, a token from
    // its label comes only from a new assignment (the restarted process).
    INFO("client output:\n" << client->output());
    for (const auto& [label, seen] : kills) {
        std::optional<std::size_t> failover;
        for (const auto& st : run.steps) {
            if (st.event == "failover" && st.worker == label && st.tokens_before >= seen) {
                failover = st.tokens_before;
                break;
            }
        }
        REQUIRE(failover);
        std::size_t assigned_from = run.token_workers.size();  // none yet
        for (const auto& st : run.steps) {
            if (st.event == "assigned" && st.tokens_before >= *failover && st.worker == label) {
                assigned_from = std::min(assigned_from, st.tokens_before);
            }
        }
        for (std::size_t i = *failover; i < assigned_from; ++i) {
            CHECK(run.token_workers[i] != label);
        }
    }
}

TEST_CASE("cluster: simulated failures cause lossless failovers and the worker rejoins",
          "[cluster][integration]") {
    cluster c;
    const std::vector<std::string> cycle{"--simulate-failures",
                                         "--failure-healthy",
                                         "3s",
                                         "--failure-warning",
                                         "1s",
                                         "--failure-failed",
                                         "2s",
                                         "--token-interval",
                                         "20ms"};
    c.add_worker("worker-a", cycle);
    std::this_thread::sleep_for(2500ms);  // offset the cycles so both never fail together
    c.add_worker("worker-b", cycle);
    REQUIRE(c.wait_alive_workers(2, 20s));
    auto client = c.start_client({"--tokens", "600"});
    auto code = client->wait_exit(90s);
    REQUIRE(code);
    CHECK(*code == 0);
    auto run = parse_client_output(client->output());
    CHECK(exactly_once_in_order(run.sequences, 600));
    CHECK(run.failovers >= 1);
    // A recovered worker is assigned again: some worker the client failed over from is assigned
    // to it later and serves tokens after that assignment.
    bool reassigned = false;
    for (std::size_t i = 0; i < run.steps.size() && !reassigned; ++i) {
        if (run.steps[i].event != "failover") {
            continue;
        }
        for (std::size_t j = i + 1; j < run.steps.size() && !reassigned; ++j) {
            const auto& later = run.steps[j];
            if (later.event == "assigned" && later.worker == run.steps[i].worker) {
                const auto end = j + 1 < run.steps.size() ? run.steps[j + 1].tokens_before
                                                          : run.token_workers.size();
                reassigned = end > later.tokens_before &&
                             run.token_workers[later.tokens_before] == later.worker;
            }
        }
    }
    INFO("client output:\n" << client->output());
    CHECK(reassigned);
}

TEST_CASE("cluster: a killed worker restarted under the same label is alive and assigned",
          "[cluster][integration]") {
    cluster c;
    c.add_worker("worker-a", {"--token-interval", "5ms"});
    c.add_worker("worker-b", {"--token-interval", "5ms"});
    REQUIRE(c.wait_alive_workers(2, 20s));
    std::uint64_t old_inc = 0;
    for (const auto& m : c.members()) {
        if (m.name == "worker-a") {
            old_inc = m.incarnation;
        }
    }
    c.worker(0).signal(SIGKILL);
    REQUIRE(c.wait_members(
        [](const std::vector<member_view>& ms) {
            return std::any_of(ms.begin(), ms.end(), [](const member_view& m) {
                return m.name == "worker-a" && m.state == "failed";
            });
        },
        20s));
    c.restart_worker(0);
    REQUIRE(c.wait_members(
        [&](const std::vector<member_view>& ms) {
            return std::any_of(ms.begin(), ms.end(), [&](const member_view& m) {
                return m.name == "worker-a" && m.state == "alive" && m.incarnation > old_inc;
            });
        },
        20s));
    auto client = c.start_client({"--tokens", "20", "--filter", "label=worker-a"});
    REQUIRE(client->wait_exit(30s) == std::optional<int>(0));
    auto run = parse_client_output(client->output());
    CHECK(exactly_once_in_order(run.sequences, 20));
    CHECK(std::all_of(run.token_workers.begin(), run.token_workers.end(),
                      [](const std::string& w) { return w == "worker-a"; }));
}

TEST_CASE("cluster: least-connections spreads 30 clients evenly and counts return to 0",
          "[cluster][integration]") {
    cluster c;
    for (const char* label : {"worker-a", "worker-b", "worker-c"}) {
        c.add_worker(label, {"--token-interval", "50ms"});
    }
    REQUIRE(c.wait_alive_workers(3, 20s));
    // Judged by the workers' own counts of running Worker.Generate streams (Node.Stats
    // worker.active_streams), not by the director's estimate that the balancer itself uses.
    const auto own_counts = [&] {
        std::vector<std::uint64_t> counts;
        for (std::size_t i = 0; i < 3; ++i) {
            counts.push_back(
                json_uint(c.stats_json(c.worker_addr(i)), "worker.active_streams").value_or(0));
        }
        return counts;
    };
    const auto total = [](const std::vector<std::uint64_t>& v) { return v[0] + v[1] + v[2]; };
    // Six waves of five, each streaming before the next starts. Least-connections must correct
    // any skew with the next wave: a worker briefly suspect or unhealthy while a wave assigns
    // (34 sanitizer processes starting at once on two cores can starve one for a second, and
    // the director rightly skips it) gets the next wave's clients, so the end is even anyway.
    std::vector<std::unique_ptr<child_process>> clients;
    std::vector<std::uint64_t> counts;
    for (int wave = 0; wave < 6; ++wave) {
        for (int i = 0; i < 5; ++i) {
            // A generous idle timeout: this test is about balancing, and a loaded machine can
            // stall a stream long enough to trigger a legitimate failover. --tokens 0 streams
            // until stopped, so all 30 overlap however slowly they start.
            clients.push_back(c.start_client(
                {"--tokens", "0", "--stream-idle-timeout", "10s", "--connect-timeout", "10s"}));
        }
        for (const auto deadline = std::chrono::steady_clock::now() + 30s;
             std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(100ms)) {
            counts = own_counts();
            if (total(counts) == clients.size()) {
                break;
            }
        }
    }
    bool balanced = false;
    for (const auto deadline = std::chrono::steady_clock::now() + 30s;
         !balanced && std::chrono::steady_clock::now() < deadline;) {
        counts = own_counts();
        const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
        balanced = total(counts) == 30 && *hi - *lo <= 1;
        if (!balanced) {
            std::this_thread::sleep_for(200ms);
        }
    }
    if (!balanced) {
        UNSCOPED_INFO("workers' own stream counts: " << counts[0] << " " << counts[1] << " "
                                                     << counts[2]);
        for (const auto& m : c.members()) {
            UNSCOPED_INFO(m.name << " " << m.state << " active_streams=" << m.active_streams);
        }
        std::size_t failovers = 0;
        for (const auto& cl : clients) {
            failovers += parse_client_output(cl->output()).failovers;
        }
        UNSCOPED_INFO("client failovers: " << failovers);
        // What the director saw: suspicion, failed health checks, reports from clients.
        for (const auto& line : split_lines(c.director().output())) {
            if (line.find("Suspect") != std::string::npos ||
                line.find("health") != std::string::npos ||
                line.find("Failed") != std::string::npos ||
                line.find("report") != std::string::npos) {
                UNSCOPED_INFO("director: " << line);
            }
        }
    }
    CHECK(balanced);
    // Half the clients vanish without a word; the rest are stopped normally.
    for (int i = 0; i < 15; ++i) {
        clients[static_cast<std::size_t>(i)]->signal(SIGKILL);
    }
    for (int i = 15; i < 30; ++i) {
        clients[static_cast<std::size_t>(i)]->signal(SIGTERM);
    }
    for (auto& cl : clients) {
        CHECK(cl->wait_exit(20s));
    }
    const bool drained = c.wait_members(
        [](const std::vector<member_view>& ms) {
            return !ms.empty() && std::all_of(ms.begin(), ms.end(), [](const member_view& m) {
                return m.active_streams == 0;
            });
        },
        30s);
    if (!drained) {
        for (const auto& m : c.members()) {
            UNSCOPED_INFO(m.name << " " << m.state << " active_streams=" << m.active_streams);
        }
    }
    CHECK(drained);
    CHECK(own_counts() == std::vector<std::uint64_t>{0, 0, 0});
}

TEST_CASE("cluster: tag filters pick matching workers or wait", "[cluster][integration]") {
    cluster c;
    c.add_worker("worker-gpu", {"--tag", "gpu=true", "--token-interval", "5ms"});
    c.add_worker("worker-cpu", {"--token-interval", "5ms"});
    REQUIRE(c.wait_alive_workers(2, 20s));
    for (int i = 0; i < 4; ++i) {
        auto client = c.start_client({"--tokens", "10", "--filter", "gpu=true"});
        REQUIRE(client->wait_exit(30s) == std::optional<int>(0));
        auto run = parse_client_output(client->output());
        CHECK(exactly_once_in_order(run.sequences, 10));
        CHECK(std::all_of(run.token_workers.begin(), run.token_workers.end(),
                          [](const std::string& w) { return w == "worker-gpu"; }));
    }
    auto nobody =
        c.start_client({"--tokens", "10", "--filter", "zone=mars", "--wait-timeout", "2s"});
    auto code = nobody->wait_exit(30s);
    REQUIRE(code);
    CHECK(*code == 1);
    auto run = parse_client_output(nobody->output());
    CHECK(run.waiting >= 1);
    CHECK(run.sequences.empty());
}

TEST_CASE("cluster: no director reachable is one line and exit 1", "[cluster][integration]") {
    const std::string nowhere = "127.0.0.1:" + std::to_string(free_port());
    auto r = run_command({rpcnetd_binary(), "client", "--director", nowhere, "--wait-timeout", "1s",
                          "--cert", source_dir() + "/certs/test_cert.pem", "--key",
                          source_dir() + "/certs/test_key.pem"},
                         30s);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("director") != std::string::npos);
}

TEST_CASE("cluster: events replays recent history then follows joins and leaves, members prints "
          "the contract's JSON",
          "[cluster][integration]") {
    cluster c;
    auto common = c.common_flags();
    const auto follower = [&](const std::string& replay) {
        std::vector<std::string> argv{rpcnetd_binary(), "events", "--director", c.director_addr(),
                                      "--output",       "jsonl",  "--replay",   replay};
        argv.insert(argv.end(), common.begin(), common.end());
        return std::make_unique<child_process>(argv);
    };
    // The worker joins before anyone follows: the default replay must still show the join, and
    // --replay 0 must show only what happens afterwards.
    const auto w = c.add_worker("worker-ev");
    REQUIRE(c.wait_alive_workers(1, 20s));
    auto replayed = follower("10");
    auto live_only = follower("0");
    const std::string joined = R"("event":"joined","node":"worker-ev")";
    const std::string left = R"("event":"left","node":"worker-ev")";
    CHECK(replayed->wait_for_output(joined, 20s));
    INFO("replay 10 printed: " << replayed->output());
    // Both followers are subscribed once the director counts them (Node.Stats).
    std::optional<std::uint64_t> subscribers;
    for (int i = 0; i < 100 && subscribers != std::optional<std::uint64_t>(2); ++i) {
        subscribers = json_uint(c.stats_json(), "events.subscribers");
        if (subscribers != std::optional<std::uint64_t>(2)) {
            std::this_thread::sleep_for(200ms);
        }
    }
    REQUIRE(subscribers == std::optional<std::uint64_t>(2));
    REQUIRE(live_only->running());
    c.worker(w).signal(SIGTERM);
    CHECK(c.worker(w).wait_exit(20s) == std::optional<int>(0));
    CHECK(replayed->wait_for_output(left, 20s));
    CHECK(live_only->wait_for_output(left, 20s));
    INFO("replay 0 printed: " << live_only->output());
    CHECK(live_only->output().find(joined) == std::string::npos);

    std::vector<std::string> margv{rpcnetd_binary(),  "members",  "--director",
                                   c.director_addr(), "--output", "json"};
    margv.insert(margv.end(), common.begin(), common.end());
    const auto r = run_command(margv, 10s);
    CHECK(r.exit_code == 0);
    CHECK(r.output.rfind("[{\"name\":", 0) == 0);
    for (const char* key :
         {"\"addr\":", "\"state\":", "\"incarnation\":", "\"tags\":{", "\"active_streams\":"}) {
        CHECK(r.output.find(key) != std::string::npos);
    }
}
