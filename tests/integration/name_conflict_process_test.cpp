// Issue #14 with real processes: a second worker started with a name a live worker holds is
// refused (exit 1, one line naming the holder's address) and the holder keeps serving; a worker
// restarted at a new address after its old process was killed takes its name over.
#include "support/cluster.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>

using namespace std::chrono_literals;
using namespace rpcnetd::test;

namespace {

std::vector<std::string> worker_argv(cluster& c, const std::string& label,
                                     const std::string& addr) {
    std::vector<std::string> argv{rpcnetd_binary(), "worker", "--label", label,
                                  "--addr",         addr,     "--join",  c.director_addr()};
    for (auto& f : c.common_flags()) {
        argv.push_back(f);
    }
    return argv;
}

bool listed_at(const std::vector<member_view>& ms, const std::string& name,
               const std::string& addr) {
    return std::any_of(ms.begin(), ms.end(), [&](const member_view& m) {
        return m.name == name && m.addr == addr && m.state == "alive";
    });
}

// A 3-token client run against the director: every token from `worker`, exactly once, in order.
void check_assignable(cluster& c, const std::string& worker) {
    auto client = c.start_client({"--tokens", "3"});
    REQUIRE(client->wait_exit(30s) == std::optional<int>(0));
    const auto run = parse_client_output(client->output());
    CHECK(exactly_once_in_order(run.sequences, 3));
    REQUIRE_FALSE(run.token_workers.empty());
    for (const auto& w : run.token_workers) {
        CHECK(w == worker);
    }
}

}  // namespace

TEST_CASE("name conflict process: a newcomer with a live member's name is refused",
          "[membership][integration]") {
    cluster c;
    const auto holder = c.add_worker("same");
    REQUIRE(c.wait_alive_workers(1, 20s));
    const std::string holder_addr = c.worker_addr(holder);
    const std::string newcomer_addr = "127.0.0.1:" + std::to_string(free_port());

    child_process newcomer(worker_argv(c, "same", newcomer_addr));
    REQUIRE(newcomer.wait_exit(20s) == std::optional<int>(1));
    // One line of its own says why, naming the address that holds the name.
    const auto lines = split_lines(newcomer.output());
    const auto reason = std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
        return l.rfind("rpcnetd: ", 0) == 0;
    });
    CHECK(reason == 1);
    REQUIRE_FALSE(lines.empty());
    INFO(newcomer.output());
    CHECK(lines.back().rfind("rpcnetd: ", 0) == 0);
    CHECK(lines.back().find("'same'") != std::string::npos);
    CHECK(lines.back().find(holder_addr) != std::string::npos);

    // The director's log and `events` show the conflict, holder first.
    const std::string addrs = holder_addr + "," + newcomer_addr;
    CHECK(c.director().wait_for_output("NameConflict node=same addrs=" + addrs, 10s));
    std::vector<std::string> events{rpcnetd_binary(), "events", "--director", c.director_addr(),
                                    "--output",       "jsonl",  "--replay",   "50"};
    for (auto& f : c.common_flags()) {
        events.push_back(f);
    }
    const auto ev = run_command(events, 3s);  // follows forever: stopped (by PID) after 3 s
    CHECK(ev.output.find("\"event\":\"conflict\",\"node\":\"same\"") != std::string::npos);
    CHECK(ev.output.find("\"addrs\":[\"" + holder_addr + "\",\"" + newcomer_addr + "\"]") !=
          std::string::npos);

    // The holder is untouched: running, listed at its address, never left, and still assigned.
    CHECK(c.worker(holder).running());
    CHECK(listed_at(c.members(), "same", holder_addr));
    CHECK(c.director().output().find("NodeLeft node=same") == std::string::npos);
    CHECK(c.director().output().find("NodeFailed node=same") == std::string::npos);
    check_assignable(c, "same");
}

TEST_CASE("name conflict process: a member restarted elsewhere after kill -9 takes its name over",
          "[membership][integration]") {
    cluster c;
    const auto holder = c.add_worker("same");
    REQUIRE(c.wait_alive_workers(1, 20s));
    c.worker(holder).signal(SIGKILL);
    REQUIRE(c.worker(holder).wait_exit(10s));
    const std::string newcomer_addr = "127.0.0.1:" + std::to_string(free_port());

    child_process newcomer(worker_argv(c, "same", newcomer_addr));
    CHECK(
        c.wait_members([&](const auto& ms) { return listed_at(ms, "same", newcomer_addr); }, 20s));
    INFO(newcomer.output());
    CHECK(newcomer.running());
    check_assignable(c, "same");
}
