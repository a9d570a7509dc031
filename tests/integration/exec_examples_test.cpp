// The programs in examples/ (issue #8): the Markov generator is deterministic in its seed, and
// the continue handler sends prompt + delivered context to an OpenAI-compatible endpoint (a fake
// server-sent-events server on 127.0.0.1) and prints the streamed pieces as they are.
#include "support/cluster.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <unistd.h>

using namespace std::chrono_literals;
using namespace rpcnetd::test;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

run_result run_in_env(std::vector<std::string> env, const std::string& program,
                      std::vector<std::string> args, const std::string& stdin_file) {
    std::string cmd = "exec env";
    for (const auto& e : env) {
        cmd += " '" + e + "'";
    }
    cmd += " '" + program + "'";
    for (const auto& a : args) {
        cmd += " '" + a + "'";
    }
    cmd += " < '" + stdin_file + "'";
    return run_command(
        {"/usr/bin/env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin", "/bin/sh", "-c", cmd}, 30s);
}

}  // namespace

TEST_CASE("examples: markov.sh is deterministic in RPCNETD_SEED", "[exec][examples]") {
    const auto prog = source_dir() + "/examples/markov/markov.sh";
    const auto tmp = fs::temp_directory_path() / ("rpcnetd-markov-" + std::to_string(::getpid()));
    std::ofstream(tmp) << "Alice\n";
    const auto a = run_in_env({"RPCNETD_SEED=12345678901234567890"}, prog, {"50"}, tmp.string());
    const auto b = run_in_env({"RPCNETD_SEED=12345678901234567890"}, prog, {"50"}, tmp.string());
    const auto c = run_in_env({"RPCNETD_SEED=42"}, prog, {"50"}, tmp.string());
    fs::remove(tmp);
    REQUIRE(a.exit_code == 0);
    CHECK(std::count(a.output.begin(), a.output.end(), '\n') == 50);
    CHECK(a.output == b.output);
    CHECK(a.output != c.output);
    CHECK(a.output.rfind("Alice ", 0) == 0);  // the prompt's first word starts the chain
}

TEST_CASE("examples: complete.sh sends prompt + context and streams the pieces",
          "[exec][examples]") {
    const auto dir = fs::temp_directory_path() / ("rpcnetd-sse-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const auto record = (dir / "requests.jsonl").string();
    const auto context = (dir / "context").string();
    const auto prompt = (dir / "prompt").string();
    std::ofstream(context) << "Once upon a time";
    std::ofstream(prompt) << "Tell a story: ";
    child_process server(
        {source_dir() + "/tests/support/fake_completions.py", record, " there, was a, fox.", "20"});
    REQUIRE(server.wait_for_output("\n", 10s));
    const auto port = std::stoi(server.output());
    const auto r = run_in_env(
        {"RPCNETD_CONTEXT_FILE=" + context, "RPCNETD_CONTEXT_DROPPED=0", "RPCNETD_RESUME_FROM=4"},
        source_dir() + "/examples/openai-continue/complete.sh",
        {"http://127.0.0.1:" + std::to_string(port), "fake-model", "16"}, prompt);
    server.signal(SIGTERM);
    CHECK(r.exit_code == 0);
    CHECK(r.output == " there was a fox.");
    const auto sent = slurp(record);
    CHECK(sent.find("\"prompt\":\"Tell a story: Once upon a time\"") != std::string::npos);
    CHECK(sent.find("\"model\":\"fake-model\"") != std::string::npos);
    CHECK(sent.find("\"stream\":true") != std::string::npos);
    std::error_code ec;
    fs::remove_all(dir, ec);
}

TEST_CASE("examples: complete.sh behind a worker (continue, chunks) into client --output raw",
          "[exec][examples][integration]") {
    const auto dir = fs::temp_directory_path() / ("rpcnetd-sse-w-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const auto record = (dir / "requests.jsonl").string();
    child_process server({source_dir() + "/tests/support/fake_completions.py", record,
                          "Once, upon, a time\n, there was, a fox.", "20"});
    REQUIRE(server.wait_for_output("\n", 10s));
    const auto port = std::stoi(server.output());
    cluster c;
    c.add_worker("worker-a",
                 {"--resume", "continue", "--exec-framing", "chunks", "--exec",
                  source_dir() + "/examples/openai-continue/complete.sh http://127.0.0.1:" +
                      std::to_string(port) + " fake-model 32"});
    REQUIRE(c.wait_alive_workers(1, 20s));
    const auto out = (dir / "out.txt").string();
    std::string cmd = "exec '" + rpcnetd_binary() + "' client --director " + c.director_addr() +
                      " --output raw --prompt 'Tell a story:'";
    for (const auto& f : c.common_flags()) {
        cmd += " '" + f + "'";
    }
    cmd += " > '" + out + "'";
    auto r = run_command({"/bin/sh", "-c", cmd}, 30s);
    server.signal(SIGTERM);
    CHECK(r.exit_code == 0);
    CHECK(slurp(out) == "Once upon a time\n there was a fox.");
    CHECK(slurp(record).find("\"prompt\":\"Tell a story:\"") != std::string::npos);
    std::error_code ec;
    fs::remove_all(dir, ec);
}
