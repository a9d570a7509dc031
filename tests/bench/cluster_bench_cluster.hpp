#pragma once
// A real rpcnetd cluster on 127.0.0.1 for the process-level benchmarks: director and workers on
// free ports, each a piped_process (stdout lines stamped on arrival), killed and restarted by PID
// under the same label and address. `members` runs `rpcnetd members --output json`.
// Header-only (see cluster_piped_process.hpp).
#include "bench/cluster_bench_common.hpp"
#include "bench/cluster_piped_process.hpp"
#include "support/cluster.hpp"
#include "support/process.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace rpcnetd::bench {

struct bench_member {
    std::string name;  // the worker label; the director's name is learned from `members`
    std::string addr;
    std::vector<std::string> argv;
    std::unique_ptr<piped_process> proc;

    void start() { proc = std::make_unique<piped_process>(argv); }
    pid_t pid() const { return proc->pid(); }
};

struct member_row {
    std::string name;
    std::string addr;
    std::string state;
    std::uint64_t incarnation = 0;
};

// The binary under test: --binary PATH, else $RPCNETD_BIN, else the build's rpcnetd.
inline std::string binary_from(const bench_args& args) {
    if (auto b = args.value("--binary")) {
        return *b;
    }
    if (const char* env = std::getenv("RPCNETD_BIN")) {
        return env;
    }
    return test::rpcnetd_binary();
}

class bench_cluster {
public:
    explicit bench_cluster(std::string binary) : binary_(std::move(binary)) {
        if (::access(binary_.c_str(), X_OK) != 0) {
            throw std::runtime_error("rpcnetd binary not executable: " + binary_ +
                                     " (build it, or pass --binary PATH)");
        }
    }

    const std::string& binary() const { return binary_; }

    std::vector<std::string> common_flags() const {
        const std::string certs = test::source_dir() + "/certs/";
        return {"--cert", certs + "test_cert.pem", "--key", certs + "test_key.pem"};
    }

    void start_director(std::vector<std::string> flags = {}) {
        director_.addr = fmt::format("127.0.0.1:{}", test::free_port());
        director_.name = "director";
        director_.argv = {binary_, "director", "--addr", director_.addr};
        append(director_.argv, common_flags());
        append(director_.argv, flags);
        director_.start();
    }

    std::size_t add_worker(const std::string& label, std::vector<std::string> flags = {}) {
        bench_member w;
        w.name = label;
        w.addr = fmt::format("127.0.0.1:{}", test::free_port());
        w.argv = {binary_, "worker", "--label", label, "--addr", w.addr, "--join", director_.addr};
        append(w.argv, common_flags());
        append(w.argv, flags);
        w.start();
        workers_.push_back(std::move(w));
        return workers_.size() - 1;
    }

    bench_member& director() { return director_; }
    bench_member& worker(std::size_t i) { return workers_.at(i); }
    std::size_t worker_count() const { return workers_.size(); }
    std::optional<std::size_t> worker_index(const std::string& label) const {
        for (std::size_t i = 0; i < workers_.size(); ++i) {
            if (workers_[i].name == label) {
                return i;
            }
        }
        return std::nullopt;
    }

    // Client against the director with jsonl output, plus the given flags.
    std::unique_ptr<piped_process> start_client(std::vector<std::string> flags) const {
        std::vector<std::string> argv{binary_,        "client",   "--director",
                                      director_.addr, "--output", "jsonl"};
        append(argv, common_flags());
        append(argv, flags);
        return std::make_unique<piped_process>(std::move(argv));
    }

    // `rpcnetd members --output json` against the director; empty when it fails.
    std::vector<member_row> members() const {
        std::vector<std::string> argv{binary_,        "members",  "--director",
                                      director_.addr, "--output", "json"};
        append(argv, common_flags());
        const auto r = test::run_command(std::move(argv), std::chrono::seconds(5));
        std::vector<member_row> out;
        if (r.exit_code != 0) {
            return out;
        }
        std::size_t pos = 0;
        while ((pos = r.output.find("{\"name\":", pos)) != std::string::npos) {
            const auto end = r.output.find("{\"name\":", pos + 1);
            const std::string obj =
                r.output.substr(pos, end == std::string::npos ? end : end - pos);
            out.push_back({test::json_string(obj, "name").value_or(""),
                           test::json_string(obj, "addr").value_or(""),
                           test::json_string(obj, "state").value_or(""),
                           test::json_uint(obj, "incarnation").value_or(0)});
            pos = end == std::string::npos ? r.output.size() : end;
        }
        return out;
    }

    // Polls members() every 50 ms until pred holds or the deadline passes.
    template <class Pred>
    bool wait_members(Pred pred, bclock::time_point deadline) const {
        for (;;) {
            if (pred(members())) {
                return true;
            }
            if (bclock::now() >= deadline) {
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

    bool wait_state(const std::string& name, const std::string& state,
                    bclock::time_point deadline) const {
        return wait_members(
            [&](const std::vector<member_row>& ms) {
                for (const auto& m : ms) {
                    if (m.name == name) {
                        return m.state == state;
                    }
                }
                return false;
            },
            deadline);
    }

    // Waits until every worker is alive in the director's view; learns the director's name.
    bool wait_all_alive(bclock::time_point deadline) {
        return wait_members(
            [&](const std::vector<member_row>& ms) {
                std::size_t alive = 0;
                for (const auto& m : ms) {
                    if (m.addr == director_.addr) {
                        director_.name = m.name;
                    } else if (m.state == "alive" && worker_index(m.name)) {
                        ++alive;
                    }
                }
                return alive == workers_.size();
            },
            deadline);
    }

    // Polls `members` until the director lists itself (matched by address); records its name.
    bool learn_director_name(bclock::time_point deadline) {
        return wait_members(
            [&](const std::vector<member_row>& ms) {
                for (const auto& m : ms) {
                    if (m.addr == director_.addr) {
                        director_.name = m.name;
                        return true;
                    }
                }
                return false;
            },
            deadline);
    }

private:
    static void append(std::vector<std::string>& to, const std::vector<std::string>& from) {
        to.insert(to.end(), from.begin(), from.end());
    }

    std::string binary_;
    bench_member director_;
    std::vector<bench_member> workers_;
};

}  // namespace rpcnetd::bench
