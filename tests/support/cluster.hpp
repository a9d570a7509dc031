#pragma once
// A real rpcnetd cluster on 127.0.0.1 for integration tests: director and workers on free ports,
// each a child_process killed by PID. Waits are polls with generous bounds, never fixed sleeps.
#include "support/process.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rpcnetd::test {

// Pulls "key":value out of one JSON line (numbers and strings only; enough for our own output).
std::optional<std::uint64_t> json_uint(const std::string& line, const std::string& key);
std::optional<std::string> json_string(const std::string& line, const std::string& key);
std::vector<std::string> split_lines(const std::string& text);
// True when text holds a C0 control character or DEL (what must never reach a terminal raw).
bool has_raw_control(const std::string& text);
// The port of "host:port".
unsigned short port_of(const std::string& addr);

struct member_view {
    std::string name;
    std::string state;
    std::string addr;
    std::uint64_t incarnation = 0;
    std::uint64_t active_streams = 0;
    bool assignable = false;
    std::string health;  // ok | failing | unknown
    bool draining = false;
};

class cluster {
public:
    explicit cluster(std::vector<std::string> director_flags = {});

    std::string director_addr() const { return "127.0.0.1:" + std::to_string(director_port_); }
    child_process& director() { return *director_; }

    // Starts a worker; returns its index. Extra flags are appended.
    std::size_t add_worker(const std::string& label, std::vector<std::string> flags = {});
    // Restarts worker i (same label, address and flags) after it was killed.
    void restart_worker(std::size_t i);
    child_process& worker(std::size_t i) { return *workers_.at(i).process; }
    const std::string& worker_addr(std::size_t i) const { return workers_.at(i).addr; }

    // `rpcnetd members --output json` against the director (or another one); empty on failure.
    std::vector<member_view> members(const std::string& director = {});
    // Polls members() until `pred` holds or `limit` passes.
    template <typename Pred>
    bool wait_members(Pred pred, std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        do {
            if (pred(members())) {
                return true;
            }
            pause(std::chrono::milliseconds(100));
        } while (std::chrono::steady_clock::now() < deadline);
        return false;
    }
    bool wait_alive_workers(std::size_t n, std::chrono::milliseconds limit);
    std::optional<std::string> state_of(const std::string& name);
    bool has_member(const std::string& name) { return state_of(name).has_value(); }

    // Client with the given flags against the director (jsonl output is added).
    std::unique_ptr<child_process> start_client(std::vector<std::string> flags);
    std::vector<std::string> common_flags() const;

    // `rpcnetd stats --target T --output json` (T defaults to the director): the JSON text, or
    // an empty string when the call failed.
    std::string stats_json(const std::string& target = {});

private:
    static void pause(std::chrono::milliseconds d);
    struct worker_entry {
        std::string label;
        std::string addr;
        std::vector<std::string> flags;
        std::unique_ptr<child_process> process;
    };
    std::unique_ptr<child_process> spawn_worker(const worker_entry& w);

    unsigned short director_port_;
    std::unique_ptr<child_process> director_;
    std::vector<worker_entry> workers_;
};

// Parses client jsonl output: token sequences in arrival order, workers seen, failovers.
struct client_run {
    // An "assigned" or "failover" line: which worker, and how many tokens had arrived by then.
    struct step {
        std::string event;
        std::string worker;
        std::size_t tokens_before = 0;
    };
    std::vector<std::uint64_t> sequences;
    std::vector<std::string> token_workers;
    std::vector<step> steps;
    std::size_t failovers = 0;
    std::size_t waiting = 0;
    std::size_t queued = 0;
    std::vector<std::string> assigned_by;  // the director of each assigned event
    bool done = false;
};
client_run parse_client_output(const std::string& output);
// True when sequences are exactly 1..n, each once, in order.
bool exactly_once_in_order(const std::vector<std::uint64_t>& sequences, std::uint64_t n);

}  // namespace rpcnetd::test
