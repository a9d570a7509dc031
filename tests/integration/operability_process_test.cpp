// Issue #9 through real processes: hostile member names, tags and client-reported reasons keep
// every --log-format json line parseable and every text line free of control characters; a
// worker whose certificate the director refuses says why, and `members` on it says it has not
// joined.
#include "../rpc/loopback.hpp"
#include "../rpc/mtls_fixture.hpp"
#include "app/member_node.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/channel.hpp"
#include "rpc/tls_context.hpp"
#include "support/cluster.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace rpcnetd;
using namespace rpcnetd::test;
using namespace std::chrono_literals;

namespace {

// argv with stderr to its own file: `sh -c 'exec "$@" 2>"$0"' FILE argv...` passes every byte of
// the arguments unchanged.
std::vector<std::string> with_stderr_to(const std::string& file, std::vector<std::string> argv) {
    std::vector<std::string> out{"/bin/sh", "-c", "exec \"$@\" 2>\"$0\"", file};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

// Every line of a --log-format json log parses as a JSON object with the four fields; returns the
// decoded messages.
std::vector<std::string> json_messages(const std::string& log) {
    std::vector<std::string> msgs;
    for (const auto& line : split_lines(log)) {
        if (line.empty()) {
            continue;
        }
        INFO("log line: " << line);
        boost::system::error_code ec;
        const auto doc = boost::json::parse(line, ec);
        REQUIRE_FALSE(ec);
        REQUIRE(doc.is_object());
        REQUIRE(doc.as_object().contains("ts"));
        REQUIRE(doc.as_object().contains("level"));
        msgs.emplace_back(doc.at("msg").as_string().c_str());
    }
    return msgs;
}

const std::string hostile_label =
    "evil\"\\\n🟢 NodeJoined node=forged addr=6.6.6.6:6 incarnation=1\x1b[31m\x07\r\t\xC2\x9B";
const std::string hostile_reason =
    "boom\n🔴 NodeFailed node=director addr=1.1.1.1:1 incarnation=99\x1b]0;pwned\x07 \"q\" \\";

}  // namespace

TEST_CASE("logs process: hostile names, tags and reasons: json lines parse, text lines carry no "
          "control characters",
          "[process][logs]") {
    const std::string dir = "/tmp/rpcnetd-logs-test-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    const unsigned short dport = free_port();
    const std::string daddr = "127.0.0.1:" + std::to_string(dport);
    child_process director(with_stderr_to(dir + "/director.err",
                                          {rpcnetd_binary(), "director", "--addr", daddr,
                                           "--log-format", "json", "--status-interval", "300ms"}));
    REQUIRE(director.wait_for_output("Seed node ready", 20s));
    const unsigned short wport = free_port();
    child_process worker(with_stderr_to(
        dir + "/worker.err", {rpcnetd_binary(), "worker", "--label", hostile_label, "--addr",
                              "127.0.0.1:" + std::to_string(wport), "--join", daddr, "--tag",
                              "zone\x1b[2J=\"x\\y\"\n", "--log-format", "json"}));
    REQUIRE(director.wait_for_output("forged", 20s));  // the NodeJoined line, escaped

    // A client reports the hostile worker failed, with a hostile reason.
    asio::io_context ioc{1};
    run_coro(
        ioc,
        [&]() -> net::awaitable<void> {
            rpc::channel_options o;
            o.tls.cert_file = "";
            o.tls.key_file = "";
            o.tls.ca_file = source_dir() + "/certs/test_cert.pem";  // the director's default
            o.node_name = "hostile-client";
            // Named, not a braced temporary: GCC 12 destroys temporaries of a co_await twice.
            const common::endpoint target{"127.0.0.1", dport};
            const auto ssl = rpc::tls_context::make_client(o.tls);
            auto conn = co_await rpc::channel::connect(ioc.get_executor(), target, ssl, o);
            REQUIRE(conn.has_value());
            v1::ReportFailureRequest req;
            req.set_worker(hostile_label);
            req.set_reason(hostile_reason);
            const std::string body = req.SerializeAsString();
            auto r = co_await conn->unary("Director.ReportFailure", body, 5s);
            conn->close();
            CHECK(r.st.ok());
        }(),
        20s);
    REQUIRE(director.wait_for_output("pwned", 10s));
    REQUIRE(director.wait_for_output("Worker pool status", 10s));

    // members and events print the hostile member in text too.
    const auto table = run_command({rpcnetd_binary(), "members", "--director", daddr}, 10s);
    CHECK(table.exit_code == 0);
    CHECK(table.output.find("forged") != std::string::npos);
    const auto events = run_command(
        {"/usr/bin/timeout", "3", rpcnetd_binary(), "events", "--director", daddr}, 10s);
    CHECK(events.output.find("forged") != std::string::npos);
    // What the director and the operator commands print about others (the worker's own stdout
    // echoes its own --label, which is its operator's input, not a peer's).
    for (const auto& text : {director.output(), table.output, events.output}) {
        for (const auto& line : split_lines(text)) {
            INFO("text line: " << line);
            CHECK_FALSE(has_raw_control(line));
            CHECK(line.find("\xC2\x9B") == std::string::npos);  // C1 CSI
        }
    }
    // A forged event line would start a line of its own.
    for (const auto& line : split_lines(director.output())) {
        CHECK(line.rfind("🟢 NodeJoined node=forged", 0) == std::string::npos);
        CHECK(line.rfind("🔴 NodeFailed node=director addr=1.1.1.1", 0) == std::string::npos);
    }

    worker.signal(SIGTERM);
    CHECK(worker.wait_exit(15s).has_value());
    director.signal(SIGTERM);
    CHECK(director.wait_exit(15s).has_value());

    const auto worker_msgs = json_messages(read_file(dir + "/worker.err"));
    const auto director_msgs = json_messages(read_file(dir + "/director.err"));
    CHECK_FALSE(worker_msgs.empty());
    CHECK_FALSE(director_msgs.empty());
    // The director logged the hostile name, decoded back to its exact bytes.
    bool logged_name = false;
    for (const auto& m : director_msgs) {
        logged_name = logged_name || m.find(hostile_label) != std::string::npos;
    }
    CHECK(logged_name);
    std::filesystem::remove_all(dir);
}

TEST_CASE("say why process: a worker whose certificate the director refuses logs why within 5 s",
          "[process][logs]") {
    const unsigned short dport = free_port();
    const std::string daddr = "127.0.0.1:" + std::to_string(dport);
    const auto& p = pki();
    child_process director({rpcnetd_binary(), "director", "--addr", daddr, "--cert",
                            p.director.cert, "--key", p.director.key, "--ca", p.ca.ca_file(),
                            "--require-client-cert"});
    REQUIRE(director.wait_for_output("Seed node ready", 20s));
    const std::string waddr = "127.0.0.1:" + std::to_string(free_port());
    // A certificate of our CA without a role (no OU): TLS works, Membership.PushPull is refused.
    child_process worker({rpcnetd_binary(), "worker", "--label", "no-role", "--addr", waddr,
                          "--join", daddr, "--cert", p.no_role.cert, "--key", p.no_role.key, "--ca",
                          p.ca.ca_file(), "--require-client-cert"});
    REQUIRE(worker.wait_for_output("serving Worker.Generate", 20s));
    const auto start = std::chrono::steady_clock::now();
    CHECK(worker.wait_for_output("PERMISSION_DENIED", 5s));
    INFO(worker.output());
    CHECK(std::chrono::steady_clock::now() - start < 6s);
    CHECK(worker.output().find("cannot exchange membership with peer=" + daddr) !=
          std::string::npos);
    CHECK(worker.output().find("role") != std::string::npos);

    // Once per change: the retries (--reconnect-interval 5s default) do not repeat it; wait for
    // one more attempt.
    std::this_thread::sleep_for(6s);
    const auto out = worker.output();
    std::size_t count = 0;
    for (auto at = out.find("cannot exchange membership"); at != std::string::npos;
         at = out.find("cannot exchange membership", at + 1)) {
        ++count;
    }
    CHECK(count == 1);

    // `members --director WORKER` says it has not joined (exit 1), and a joined member says so.
    const std::vector<std::string> client_tls{
        "--cert",       p.director.cert,        "--key", p.director.key, "--ca",
        p.ca.ca_file(), "--require-client-cert"};
    auto args = std::vector<std::string>{rpcnetd_binary(), "members", "--director", waddr};
    args.insert(args.end(), client_tls.begin(), client_tls.end());
    const auto on_worker = run_command(args, 10s);
    CHECK(on_worker.exit_code == 1);
    CHECK(on_worker.output.find("no-role is a member, not a director: joined no") !=
          std::string::npos);
    args.emplace_back("--output");
    args.emplace_back("json");
    const auto as_json = run_command(args, 10s);
    CHECK(as_json.output.find("\"joined\":false") != std::string::npos);

    const std::string good_addr = "127.0.0.1:" + std::to_string(free_port());
    child_process good({rpcnetd_binary(), "worker", "--label", "good", "--addr", good_addr,
                        "--join", daddr, "--cert", p.worker.cert, "--key", p.worker.key, "--ca",
                        p.ca.ca_file(), "--require-client-cert"});
    REQUIRE(director.wait_for_output("NodeJoined node=good", 20s));
    args = {rpcnetd_binary(), "members", "--director", good_addr};
    args.insert(args.end(), client_tls.begin(), client_tls.end());
    const auto on_good = run_command(args, 10s);
    CHECK(on_good.exit_code == 0);
    CHECK(on_good.output.find("good is a member, not a director: joined yes") != std::string::npos);
}

TEST_CASE("dev certificate: recognised by fingerprint, not path, and warned about off loopback",
          "[logs]") {
    // A copy elsewhere is still the published development certificate.
    const std::string copy = "/tmp/rpcnetd-devcert-" + std::to_string(::getpid()) + ".pem";
    std::filesystem::copy_file(source_dir() + "/certs/test_cert.pem", copy,
                               std::filesystem::copy_options::overwrite_existing);
    rpc::tls_config t;
    t.cert_file = copy;
    t.key_file = source_dir() + "/certs/test_key.pem";
    const auto dev = rpc::tls_context::own_fingerprint(*rpc::tls_context::make_server(t));
    std::filesystem::remove(copy);
    CHECK(app::exposes_dev_cert(dev, {"10.1.2.3", 61000}));
    CHECK(app::exposes_dev_cert(dev, {"0.0.0.0", 61000}));
    CHECK(app::exposes_dev_cert(dev, {"db.example", 61000}));
    CHECK_FALSE(app::exposes_dev_cert(dev, {"127.0.0.1", 61000}));
    CHECK_FALSE(app::exposes_dev_cert(dev, {"::1", 61000}));
    CHECK_FALSE(app::exposes_dev_cert(dev, {"localhost", 61000}));
    const auto& p = pki();
    const auto own =
        rpc::tls_context::own_fingerprint(*rpc::tls_context::make_server(identity(p.worker)));
    CHECK(own.size() == 64);
    CHECK_FALSE(app::exposes_dev_cert(own, {"10.1.2.3", 61000}));
}
