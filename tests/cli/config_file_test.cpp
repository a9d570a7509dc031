// --config FILE and --print-config (issue #9): sections, precedence flag > env > file > default,
// paths relative to the file, one-line errors.
#include "cli/fake_env.hpp"
#include "cli/options.hpp"
#include "common/error.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

using namespace rpcnetd;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

using test::fake_env;
using test::parse;

namespace {

// A folder of its own under the temp folder, removed at the end of the test.
struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "rpcnetd-config-XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& text) const {
        const auto p = path / name;
        std::ofstream(p) << text;
        return p.string();
    }
};

constexpr const char* sample = R"(# comment
[common]
cluster = blue
ca = certs/ca.pem
log-level = debug

[director]
addr = 127.0.0.1:7000
strategy = round-robin
cert = /abs/director.pem
key = director.key

[worker]
label = from-file
addr = 127.0.0.1:7001
join = 127.0.0.1:7000
tag = zone=a
tag = gpu=1
simulate-failures = true
)";

}  // namespace

TEST_CASE("config: the mode's section and [common] apply, paths resolve against the file",
          "[cli][config]") {
    fake_env().clear();
    temp_dir dir;
    const auto file = dir.write("rpcnetd.conf", sample);
    auto d = std::get<cli::director_config>(parse({"director", "--config", file}));
    CHECK(d.member.addr.to_string() == "127.0.0.1:7000");
    CHECK(d.strategy == cli::balance_strategy::round_robin);
    CHECK(d.common.cluster == "blue");
    CHECK(d.common.log_level == "debug");
    CHECK(d.common.tls.cert_file == "/abs/director.pem");
    CHECK(d.common.tls.key_file == (dir.path / "director.key").string());
    CHECK(d.common.tls.ca_file == (dir.path / "certs/ca.pem").string());
    CHECK(d.member.name == "director");  // not in the file: the default

    auto w = std::get<cli::worker_config>(parse({"worker", "--config", file}));
    CHECK(w.label == "from-file");
    CHECK(w.member.tags.at("zone") == "a");
    CHECK(w.member.tags.at("gpu") == "1");
    CHECK(w.failures.enabled);
    CHECK(w.member.join.at(0).to_string() == "127.0.0.1:7000");
    CHECK(w.common.tls.cert_file == cli::default_cert_file);  // [director]'s cert is not ours
}

TEST_CASE("config: a flag beats the environment, which beats the file", "[cli][config]") {
    fake_env().clear();
    temp_dir dir;
    const auto file = dir.write("rpcnetd.conf", sample);
    auto w =
        std::get<cli::worker_config>(parse({"worker", "--config", file, "--label", "from-flag"}));
    CHECK(w.label == "from-flag");
    CHECK(w.member.addr.to_string() == "127.0.0.1:7001");  // file

    fake_env()["WORKER_ADDR"] = "127.0.0.1:7101";
    fake_env()["WORKER_LABEL"] = "from-env";
    fake_env()["DIRECTOR_ADDR"] = "127.0.0.1:7100";
    fake_env()["RPCNET_LOG"] = "warn";
    fake_env()["WORKER_FAILURE_ENABLED"] = "false";
    w = std::get<cli::worker_config>(parse({"worker", "--config", file}));
    CHECK(w.label == "from-env");
    CHECK(w.member.addr.to_string() == "127.0.0.1:7101");
    CHECK(w.member.join.at(0).to_string() == "127.0.0.1:7100");
    CHECK(w.common.log_level == "warn");
    CHECK_FALSE(w.failures.enabled);
    CHECK(w.common.cluster == "blue");  // no environment variable: the file

    w = std::get<cli::worker_config>(
        parse({"worker", "--config", file, "--addr", "127.0.0.1:7201"}));
    CHECK(w.member.addr.to_string() == "127.0.0.1:7201");
    fake_env().clear();
}

TEST_CASE("config: the mode's section wins over [common]", "[cli][config]") {
    fake_env().clear();
    temp_dir dir;
    const auto file = dir.write("c.conf", "[common]\ncluster = one\n[director]\ncluster = two\n");
    CHECK(std::get<cli::director_config>(parse({"director", "--config", file})).common.cluster ==
          "two");
    CHECK(std::get<cli::members_config>(parse({"members", "--config", file})).common.cluster ==
          "one");
}

TEST_CASE("config: bad files are one-line usage errors", "[cli][config]") {
    fake_env().clear();
    temp_dir dir;
    CHECK_THROWS_WITH(parse({"director", "--config", (dir.path / "missing.conf").string()}),
                      Catch::Contains("cannot read --config file"));
    CHECK_THROWS_WITH(parse({"director", "--config", dir.path.string()}),
                      Catch::Contains("directory"));
    const auto unknown = dir.write("u.conf", "[director]\nadress = 127.0.0.1:1\n");
    CHECK_THROWS_WITH(parse({"director", "--config", unknown}),
                      Catch::Contains("unknown key 'adress'"));
    // A typo in another mode's section is found too, by any mode.
    const auto other = dir.write("o.conf", "[worker]\nlabl = x\n");
    CHECK_THROWS_WITH(parse({"director", "--config", other}), Catch::Contains("'labl'"));
    const auto section = dir.write("s.conf", "[directr]\naddr = 127.0.0.1:1\n");
    CHECK_THROWS_WITH(parse({"director", "--config", section}), Catch::Contains("unknown section"));
    const auto mode_key_in_common = dir.write("m.conf", "[common]\naddr = 127.0.0.1:1\n");
    CHECK_THROWS_WITH(parse({"director", "--config", mode_key_in_common}),
                      Catch::Contains("unknown key 'addr'"));
    const auto bad_value = dir.write("v.conf", "[director]\nhealth-interval = 5\n");
    CHECK_THROWS_WITH(parse({"director", "--config", bad_value}),
                      Catch::Contains("--health-interval"));
    const auto negative = dir.write("n.conf", "[director]\nmax-frame = -1\n");
    CHECK_THROWS_WITH(parse({"director", "--config", negative}), Catch::Contains("max-frame"));
    const auto twice = dir.write("t.conf", "[director]\nname = a\nname = b\n");
    CHECK_THROWS_AS(parse({"director", "--config", twice}), usage_error);
    const auto command = dir.write("h.conf", "[director]\nconfig = other.conf\n");
    CHECK_THROWS_WITH(parse({"director", "--config", command}),
                      Catch::Contains("command-line flag"));
}

TEST_CASE("config: --print-config prints a file that reads back to the same settings",
          "[cli][config]") {
    fake_env().clear();
    temp_dir dir;
    const auto file = dir.write("rpcnetd.conf", sample);
    auto printed =
        parse({"worker", "--config", file, "--token-interval", "250ms", "--print-config"});
    REQUIRE(std::holds_alternative<cli::help_request>(printed));
    const std::string text = std::get<cli::help_request>(printed).text;
    CHECK(text.find("[worker]\n") != std::string::npos);
    CHECK(text.find("\nlabel = from-file\n") != std::string::npos);
    CHECK(text.find("\ntoken-interval = 250ms\n") != std::string::npos);
    CHECK(text.find("\ntag = zone=a\n") != std::string::npos);
    CHECK(text.find("\nca = " + (dir.path / "certs/ca.pem").string() + "\n") != std::string::npos);
    CHECK(text.find("print-config") == std::string::npos);

    // Saved elsewhere, it gives the same configuration.
    fs::create_directories(dir.path / "elsewhere");
    const auto saved = dir.write("elsewhere/saved.conf", text);
    auto a = std::get<cli::worker_config>(
        parse({"worker", "--config", file, "--token-interval", "250ms"}));
    auto b = std::get<cli::worker_config>(parse({"worker", "--config", saved}));
    CHECK(a.label == b.label);
    CHECK(a.token_interval == b.token_interval);
    CHECK(a.member.tags == b.member.tags);
    CHECK(a.member.addr == b.member.addr);
    CHECK(a.common.tls.ca_file == b.common.tls.ca_file);
    CHECK(a.common.cluster == b.common.cluster);
    CHECK(a.failures.enabled == b.failures.enabled);
    CHECK(a.member.swim.phi_threshold == Approx(b.member.swim.phi_threshold));
    CHECK(fs::path(b.common.tls.cert_file).is_absolute());  // the default, made absolute

    // A bad setting is reported, not printed.
    CHECK_THROWS_AS(parse({"director", "--strategy", "x", "--print-config"}), usage_error);
}
