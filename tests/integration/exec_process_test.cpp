// Issue #8 acceptance with real processes: workers running the user's program (--exec), the
// client in raw and jsonl output, kills by PID. Programs are small sh scripts written into a
// temporary directory; every wait is a bounded poll.
#include "app/worker/job_environment.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/channel.hpp"
#include "rpc/tls_context.hpp"
#include "support/cluster.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

using namespace std::chrono_literals;
using namespace rpcnetd::test;
namespace fs = std::filesystem;

namespace {

// A private directory for one test's scripts and outputs, removed at the end.
struct scratch_dir {
    fs::path path;
    scratch_dir() {
        std::string tmpl = (fs::temp_directory_path() / "rpcnetd-exec-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~scratch_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string script(const std::string& name, const std::string& body) const {
        const auto p = path / name;
        std::ofstream(p) << "#!/bin/sh\n" << body;
        ::chmod(p.c_str(), 0755);
        return p.string();
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::size_t count_lines(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// The program run locally as a worker would run it for `job` (replay from 1).
std::string run_locally(const std::string& program, const std::string& job) {
    const auto seed = rpcnetd::app::worker::job_seed(job);
    auto r = run_command({"/usr/bin/env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin",
                          "RPCNETD_JOB=" + job, "RPCNETD_RESUME_FROM=1",
                          "RPCNETD_SEED=" + std::to_string(seed), program},
                         30s);
    REQUIRE(r.exit_code == 0);
    return r.output;
}

// `rpcnetd client --output raw` with stdout to `out_file` (stderr to the process log).
std::unique_ptr<child_process> raw_client(cluster& c, const std::string& out_file,
                                          std::vector<std::string> flags) {
    std::string cmd =
        "exec '" + rpcnetd_binary() + "' client --director " + c.director_addr() + " --output raw";
    for (const auto& f : c.common_flags()) {
        cmd += " '" + f + "'";
    }
    for (const auto& f : flags) {
        cmd += " '" + f + "'";
    }
    cmd += " > '" + out_file + "'";
    return std::make_unique<child_process>(std::vector<std::string>{"/bin/sh", "-c", cmd});
}

template <typename Pred>
bool poll_until(Pred pred, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return pred();
}

// The worker named in the last "assigned worker X" line of a text/raw client's stderr.
std::string serving_worker(const std::string& log) {
    const std::string key = "assigned worker ";
    const auto at = log.rfind(key);
    if (at == std::string::npos) {
        return {};
    }
    const auto start = at + key.size();
    return log.substr(start, log.find(' ', start) - start);
}

// Children of `pid` in state Z, from /proc.
std::vector<int> zombie_children(pid_t pid, std::size_t* children = nullptr) {
    std::vector<int> zombies;
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator("/proc")) {
        const auto name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        const std::string stat = slurp(e.path() / "stat");
        const auto close = stat.rfind(')');
        if (close == std::string::npos) {
            continue;
        }
        char state = 0;
        int ppid = 0;
        std::istringstream rest(stat.substr(close + 2));
        rest >> state >> ppid;
        if (ppid == pid) {
            ++n;
            if (state == 'Z') {
                zombies.push_back(std::stoi(name));
            }
        }
    }
    if (children != nullptr) {
        *children = n;
    }
    return zombies;
}

bool group_gone(pid_t pgid) {
    return ::kill(-pgid, 0) != 0 && errno == ESRCH;
}

// A deterministic program (replay): 200 lines derived from the seed, 10 ms apart.
const char* slow_deterministic =
    "m=$(echo \"$RPCNETD_SEED\" | cut -c1-9)\n"
    "i=1\n"
    "while [ $i -le 200 ]; do\n"
    "  echo \"line $i of job $RPCNETD_JOB seed $RPCNETD_SEED $(( (m % 997) * i ))\"\n"
    "  i=$((i+1)); sleep 0.01\n"
    "done\n";

}  // namespace

TEST_CASE("exec: replay survives kill -9 of the serving worker twice, byte-identical",
          "[exec][integration]") {
    scratch_dir dir;
    const auto prog = dir.script("gen.sh", slow_deterministic);
    const std::string expected = run_locally(prog, "job-replay");
    REQUIRE(count_lines(expected) == 200);
    cluster c;
    for (const char* label : {"worker-a", "worker-b", "worker-c"}) {
        c.add_worker(label, {"--exec", prog, "--max-jobs", "4"});
    }
    REQUIRE(c.wait_alive_workers(3, 20s));
    const auto out = dir.file("out.txt");
    auto client = raw_client(c, out, {"--job", "job-replay", "--stream-idle-timeout", "2s"});
    std::set<std::string> killed;
    std::size_t at = 30;
    for (int round = 0; round < 2; ++round) {
        REQUIRE(poll_until([&] { return count_lines(slurp(out)) >= at; }, 30s));
        const auto serving = serving_worker(client->output());
        REQUIRE(!serving.empty());
        REQUIRE(killed.count(serving) == 0);
        const std::size_t idx = serving == "worker-a" ? 0 : serving == "worker-b" ? 1 : 2;
        c.worker(idx).signal(SIGKILL);
        killed.insert(serving);
        at = count_lines(slurp(out)) + 30;
    }
    const auto code = client->wait_exit(60s);
    REQUIRE(code);
    CHECK(*code == 0);
    CHECK(slurp(out) == expected);
    CHECK(client->output().find("failed") != std::string::npos);
}

TEST_CASE("exec: continue hands the delivered text to the next worker, exactly once",
          "[exec][integration]") {
    scratch_dir dir;
    const auto marker = dir.file("context-seen");
    // Samples a fresh run id on every start; with a context it records what it saw and goes on
    // from RPCNETD_RESUME_FROM.
    const auto prog = dir.script(
        "sample.sh",
        "run=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')\n"
        "if [ -s \"$RPCNETD_CONTEXT_FILE\" ]; then\n"
        "  echo \"from=$RPCNETD_RESUME_FROM lines=$(wc -l < \"$RPCNETD_CONTEXT_FILE\" | tr -d ' ')"
        " last=$(tail -n 1 \"$RPCNETD_CONTEXT_FILE\") dropped=$RPCNETD_CONTEXT_DROPPED\" > '" +
            marker +
            "'\n"
            "fi\n"
            "i=$RPCNETD_RESUME_FROM\n"
            "while [ $i -le 120 ]; do echo \"n=$i run=$run\"; i=$((i+1)); sleep 0.02; done\n");
    cluster c;
    c.add_worker("worker-a", {"--exec", prog, "--resume", "continue"});
    c.add_worker("worker-b", {"--exec", prog, "--resume", "continue"});
    REQUIRE(c.wait_alive_workers(2, 20s));
    auto client = c.start_client({"--stream-idle-timeout", "2s"});
    REQUIRE(poll_until([&] { return parse_client_output(client->output()).sequences.size() >= 30; },
                       30s));
    const auto first = parse_client_output(client->output());
    c.worker(first.token_workers.back() == "worker-a" ? 0 : 1).signal(SIGKILL);
    const auto code = client->wait_exit(60s);
    REQUIRE(code);
    CHECK(*code == 0);
    const auto run = parse_client_output(client->output());
    CHECK(exactly_once_in_order(run.sequences, 120));
    CHECK(run.failovers == 1);
    // Texts: n=<seq> run=<id>; exactly two runs, the first one's tokens then the second's.
    std::vector<std::string> runs;
    std::string last_before_switch;
    std::uint64_t switch_at = 0;
    for (const auto& line : split_lines(client->output())) {
        const auto text = json_string(line, "text");
        const auto seq = json_uint(line, "sequence");
        if (!text || !seq || json_string(line, "event") != "token") {
            continue;
        }
        CHECK(text->rfind("n=" + std::to_string(*seq) + " ", 0) == 0);
        const auto id = text->substr(text->find("run=") + 4);
        if (runs.empty() || runs.back() != id) {
            runs.push_back(id);
            if (runs.size() == 2) {
                switch_at = *seq;
            }
        }
        if (runs.size() == 1) {
            last_before_switch = *text;
        }
    }
    REQUIRE(runs.size() == 2);
    CHECK(runs[0] != runs[1]);
    // The second run saw every delivered token (nothing dropped) and started right after.
    const auto seen = slurp(marker);
    CHECK(seen == "from=" + std::to_string(switch_at) + " lines=" + std::to_string(switch_at - 1) +
                      " last=" + last_before_switch + " dropped=0\n");
}

TEST_CASE("exec: a failing program ends the job with exit 3 and its stderr, no failover",
          "[exec][integration]") {
    scratch_dir dir;
    const auto prog = dir.script("fail.sh", "echo partial\necho \"boom: bad input\" >&2\nexit 7\n");
    cluster c;
    c.add_worker("worker-a", {"--exec", prog});
    c.add_worker("worker-b", {"--exec", prog});
    REQUIRE(c.wait_alive_workers(2, 20s));
    for (int i = 0; i < 2; ++i) {
        auto client = c.start_client({});
        const auto code = client->wait_exit(30s);
        REQUIRE(code);
        CHECK(*code == 3);
        const auto out = client->output();
        const auto run = parse_client_output(out);
        CHECK(run.failovers == 0);
        CHECK(run.sequences == std::vector<std::uint64_t>{1});
        bool saw_error = false;
        for (const auto& line : split_lines(out)) {
            if (json_string(line, "event") == "error") {
                saw_error = true;
                CHECK(json_string(line, "reason").value_or("").find("exit code 7") !=
                      std::string::npos);
                CHECK(json_string(line, "stderr").value_or("").find("boom: bad input") !=
                      std::string::npos);
            }
        }
        CHECK(saw_error);
    }
    // The workers are still healthy members.
    CHECK(c.wait_members(
        [](const std::vector<member_view>& ms) {
            return std::count_if(ms.begin(), ms.end(), [](const member_view& m) {
                       return m.name.rfind("worker-", 0) == 0 && m.state == "alive";
                   }) == 2;
        },
        10s));
    CHECK(c.worker(0).running());
    CHECK(c.worker(1).running());
}

TEST_CASE("exec: client Ctrl-C kills the job's whole process group, 100 jobs leave no zombie",
          "[exec][integration]") {
    scratch_dir dir;
    // Prints its process group id, then waits for two children of its group.
    const auto hang = dir.script("hang.sh", "sleep 1000 &\nsleep 1000 &\necho $$\nwait\n");
    const auto quick = dir.script("quick.sh", "echo one\necho two\n");
    cluster c;
    c.add_worker("worker-a", {"--exec-shell",
                              "if [ \"$RPCNETD_PROMPT\" = hang ]; then exec " + hang +
                                  "; else exec " + quick + "; fi",
                              "--max-jobs", "8"});
    REQUIRE(c.wait_alive_workers(1, 20s));
    const pid_t worker_pid = c.worker(0).pid();

    auto client = c.start_client({"--prompt", "hang"});
    REQUIRE(
        poll_until([&] { return !parse_client_output(client->output()).sequences.empty(); }, 20s));
    std::string pg_text;
    for (const auto& line : split_lines(client->output())) {
        if (json_string(line, "event") == "token") {
            pg_text = json_string(line, "text").value_or("");
        }
    }
    const pid_t pgid = static_cast<pid_t>(std::stol(pg_text));
    REQUIRE(!group_gone(pgid));
    client->signal(SIGINT);
    CHECK(client->wait_exit(10s));
    CHECK(poll_until([&] { return group_gone(pgid); }, 3s));

    // 100 clients, 4 at a time (the worker runs up to 8 jobs): each must get the whole output.
    std::vector<std::string> argv{rpcnetd_binary(),  "client",   "--director",
                                  c.director_addr(), "--output", "raw"};
    for (auto& f : c.common_flags()) {
        argv.push_back(f);
    }
    for (int wave = 0; wave < 25; ++wave) {
        std::vector<std::unique_ptr<child_process>> clients;
        for (int i = 0; i < 4; ++i) {
            clients.push_back(std::make_unique<child_process>(argv));
        }
        for (auto& cl : clients) {
            const auto code = cl->wait_exit(20s);
            INFO("client output: " << cl->output());
            REQUIRE(code == 0);
            REQUIRE(cl->output().find("one\ntwo\n") != std::string::npos);
        }
    }
    std::size_t children = 0;
    CHECK(poll_until(
        [&] { return zombie_children(worker_pid, &children).empty() && children == 0; }, 5s));
    CHECK(zombie_children(worker_pid).empty());
}

TEST_CASE("exec: worker SIGTERM past its drain timeout, the client resumes elsewhere",
          "[exec][integration]") {
    scratch_dir dir;
    const auto prog = dir.script("gen.sh", slow_deterministic);
    const std::string expected = run_locally(prog, "job-drain");
    cluster c;
    c.add_worker("worker-a", {"--exec", prog, "--drain-timeout", "500ms"});
    c.add_worker("worker-b", {"--exec", prog, "--drain-timeout", "500ms"});
    REQUIRE(c.wait_alive_workers(2, 20s));
    const auto out = dir.file("out.txt");
    auto client = raw_client(c, out, {"--job", "job-drain", "--stream-idle-timeout", "3s"});
    REQUIRE(poll_until([&] { return count_lines(slurp(out)) >= 40; }, 30s));
    const auto serving = serving_worker(client->output());
    auto& w = c.worker(serving == "worker-a" ? 0 : 1);
    w.signal(SIGTERM);
    const auto code = client->wait_exit(60s);
    REQUIRE(code);
    CHECK(*code == 0);
    CHECK(slurp(out) == expected);
    CHECK(client->output().find("WORKER_DRAINING") != std::string::npos);
    const auto wcode = w.wait_exit(20s);
    REQUIRE(wcode);
    CHECK(*wcode == 0);
}

TEST_CASE("exec: a full worker is not assigned, the waiting client gets it when a job ends",
          "[exec][integration]") {
    scratch_dir dir;
    const auto prog = dir.script(
        "slow.sh", "i=1\nwhile [ $i -le 15 ]; do echo \"t$i\"; i=$((i+1)); sleep 0.1; done\n");
    cluster c;
    c.add_worker("worker-a", {"--exec", prog, "--max-jobs", "1"});
    REQUIRE(c.wait_alive_workers(1, 20s));
    auto first = c.start_client({});
    REQUIRE(
        poll_until([&] { return !parse_client_output(first->output()).sequences.empty(); }, 20s));
    auto second = c.start_client({});
    const auto code1 = first->wait_exit(30s);
    REQUIRE(code1);
    CHECK(*code1 == 0);
    const auto code2 = second->wait_exit(30s);
    REQUIRE(code2);
    CHECK(*code2 == 0);
    const auto run1 = parse_client_output(first->output());
    const auto run2 = parse_client_output(second->output());
    CHECK(exactly_once_in_order(run1.sequences, 15));
    CHECK(exactly_once_in_order(run2.sequences, 15));
    // It had to wait: in the director's admission queue (on by default, --queue-size 128), or
    // polling when the queue is off.
    CHECK(run2.waiting + run2.queued >= 1);
    CHECK(run2.failovers == 0);
}

TEST_CASE("exec: a program that is not executable is a start-up error", "[exec][integration]") {
    scratch_dir dir;
    const auto not_exec = dir.file("plain.txt");
    std::ofstream(not_exec) << "echo hi\n";
    for (const auto& prog : {not_exec, std::string("/nonexistent/program")}) {
        auto r = run_command({rpcnetd_binary(), "worker", "--exec", prog, "--addr",
                              "127.0.0.1:" + std::to_string(free_port())},
                             10s);
        CHECK(r.exit_code == 2);
        CHECK(r.output.find("not an executable") != std::string::npos);
    }
}

TEST_CASE("exec: a program that thinks longer than the idle timeout is not a failed worker",
          "[exec][integration]") {
    scratch_dir dir;
    // Silent for 2.5 s (the client's --stream-idle-timeout is 1 s), then a replay of it must
    // skip its first line for as long again: keepalives cover both.
    const auto prog = dir.script("think.sh", "echo first\nsleep 2.5\necho second\nsleep 1.5\n"
                                             "echo third\n");
    cluster c;
    c.add_worker("worker-a", {"--exec", prog});
    REQUIRE(c.wait_alive_workers(1, 20s));
    auto client = c.start_client({});
    const auto code = client->wait_exit(30s);
    REQUIRE(code);
    CHECK(*code == 0);
    const auto run = parse_client_output(client->output());
    CHECK(exactly_once_in_order(run.sequences, 3));
    CHECK(run.failovers == 0);
    CHECK(run.done);
}

namespace {

// Straight to a worker, bypassing the director: one Generate holding the only slot, then a
// second one, which the full worker must refuse.
rpcnetd::net::awaitable<void> second_call_refused(std::string addr, rpcnetd::rpc::status* second,
                                                  bool* first_token) {
    namespace rpc = rpcnetd::rpc;
    auto ex = co_await rpcnetd::net::asio::this_coro::executor;
    rpc::channel_options o;
    o.tls.cert_file = source_dir() + "/certs/test_cert.pem";
    o.tls.key_file = source_dir() + "/certs/test_key.pem";
    const auto target = *rpcnetd::common::parse_endpoint(addr);
    auto r = co_await rpc::channel::connect(ex, target, rpc::tls_context::make_client(o.tls), o);
    REQUIRE(r.has_value());
    rpc::channel c = *r;
    rpcnetd::v1::GenerateRequest req;
    req.set_job("held");
    req.set_from_sequence(1);
    auto first = co_await c.open_stream("Worker.Generate", req.SerializeAsString());
    auto item = co_await first.next(std::chrono::seconds(10));
    *first_token = item.what == rpc::stream_item::kind::message;
    req.set_job("refused");
    auto other = co_await c.open_stream("Worker.Generate", req.SerializeAsString());
    for (;;) {
        auto it = co_await other.next(std::chrono::seconds(10));
        if (it.what != rpc::stream_item::kind::message) {
            *second = it.st;
            break;
        }
    }
    first.cancel();
    c.close();
}

}  // namespace

TEST_CASE("exec: a worker at --max-jobs refuses Generate with RESOURCE_EXHAUSTED",
          "[exec][integration]") {
    scratch_dir dir;
    const auto prog = dir.script("hold.sh", "echo holding\nsleep 5\n");
    cluster c;
    c.add_worker("worker-a", {"--exec", prog, "--max-jobs", "1"});
    REQUIRE(c.wait_alive_workers(1, 20s));
    rpcnetd::net::asio::io_context ioc;
    rpcnetd::rpc::status second;
    bool first_token = false;
    rpcnetd::net::asio::co_spawn(ioc, second_call_refused(c.worker_addr(0), &second, &first_token),
                                 [](const std::exception_ptr& e) {
                                     if (e) {
                                         std::rethrow_exception(e);
                                     }
                                 });
    ioc.run_for(30s);
    CHECK(first_token);
    CHECK(second.code == rpcnetd::v1::RESOURCE_EXHAUSTED);
}

TEST_CASE("exec: --job-timeout and --max-token-bytes fail the job, not the worker",
          "[exec][integration]") {
    scratch_dir dir;
    const auto slow = dir.script("slow.sh", "echo started\nsleep 20\n");
    const auto wide = dir.script("wide.sh", "echo short\necho 0123456789abcdef\nsleep 20\n");
    cluster c;
    c.add_worker("worker-slow", {"--exec", slow, "--job-timeout", "1s", "--tag", "kind=slow"});
    c.add_worker("worker-wide", {"--exec", wide, "--max-token-bytes", "10", "--tag", "kind=wide"});
    REQUIRE(c.wait_alive_workers(2, 20s));
    const std::pair<const char*, const char*> cases[] = {{"kind=slow", "job timeout after 1000ms"},
                                                         {"kind=wide", "--max-token-bytes 10"}};
    for (const auto& [filter, reason] : cases) {
        auto client = c.start_client({"--filter", filter});
        const auto code = client->wait_exit(20s);
        REQUIRE(code);
        CHECK(*code == 3);
        const auto out = client->output();
        CHECK(out.find(reason) != std::string::npos);
        CHECK(parse_client_output(out).sequences == std::vector<std::uint64_t>{1});
        CHECK(parse_client_output(out).failovers == 0);
    }
    CHECK(c.worker(0).running());
    CHECK(c.worker(1).running());
}
