// Logging set-up: levels as users write them, and libprotobuf's messages kept off stderr unless
// asked for (a peer can trigger them).
#include "common/error.hpp"
#include "common/log.hpp"
#include "common/utf8.hpp"
#include "proto/rpcnetd.pb.h"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace rpcnetd;

namespace {

// Runs fn with file descriptor 2 pointed at a temporary file; returns what was written.
template <typename Fn>
std::string capture_stderr(Fn fn) {
    char path[] = "/tmp/rpcnetd-stderr-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    std::fflush(stderr);
    const int saved = ::dup(2);
    ::dup2(fd, 2);
    fn();
    spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    ::close(fd);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    ::unlink(path);
    return text.str();
}

bool parse_invalid_utf8() {
    const std::string wire{'\x0A', '\x02', '\xFF', '\xFE'};  // ClusterEvent.kind = FF FE
    v1::ClusterEvent e;
    return e.ParseFromString(wire);
}

}  // namespace

TEST_CASE("log: levels follow RUST_LOG style filters", "[common]") {
    CHECK(common::parse_log_level("info") == spdlog::level::info);
    CHECK(common::parse_log_level("warning") == spdlog::level::warn);
    CHECK(common::parse_log_level("error") == spdlog::level::err);
    CHECK(common::parse_log_level("rpcnetd=debug,warn") == spdlog::level::debug);
    CHECK(common::parse_log_level("other=trace,warn") == spdlog::level::warn);
    CHECK_THROWS_AS(common::parse_log_level("loud"), usage_error);
}

TEST_CASE("log: libprotobuf's complaints about peer input stay off stderr at info", "[common]") {
    common::init_logging("info", common::log_format::text);
    bool parsed = true;
    const auto quiet = capture_stderr([&] {
        for (int i = 0; i < 100; ++i) {
            parsed = parse_invalid_utf8() && parsed;
        }
    });
    CHECK_FALSE(parsed);
    CHECK(quiet.empty());

    // They are not lost: at debug they come through our logger, tagged "proto".
    common::init_logging("debug", common::log_format::text);
    const auto loud = capture_stderr([&] { parse_invalid_utf8(); });
    CHECK(loud.find("proto: libprotobuf") != std::string::npos);
    CHECK(loud.find("invalid UTF-8") != std::string::npos);
    common::init_logging("info", common::log_format::text);
}

TEST_CASE("log: every --log-format json line parses and every text line is one line without "
          "control characters, whatever the message holds",
          "[common][log]") {
    const std::vector<std::string> messages = {
        "name=\"q\" back\\slash",
        "forged\n🟢 NodeJoined node=x addr=1.2.3.4:5 incarnation=9",
        std::string("nul") + '\0' + " esc\x1b[2J bell\a cr\r",
        "bad utf8 \xFF\xC0\xAF \xED\xA0\x80, c1 \xC2\x9B, bidi \xE2\x80\xAE",
    };
    for (const auto format : {common::log_format::json, common::log_format::text}) {
        const auto out = capture_stderr([&] {
            common::init_logging("info", format);
            for (const auto& m : messages) {
                common::logger("log-test").warn("reason={}", m);
            }
        });
        std::istringstream lines(out);
        std::string line;
        std::size_t n = 0;
        while (std::getline(lines, line)) {
            INFO(line);
            ++n;
            CHECK(common::valid_utf8(line));
            for (const unsigned char c : line) {
                CHECK((c >= 0x20 && c != 0x7F));
            }
            if (format == common::log_format::json) {
                boost::system::error_code ec;
                const auto doc = boost::json::parse(line, ec);
                REQUIRE_FALSE(ec);
                CHECK(doc.at("component").as_string() == "log-test");
                CHECK(doc.at("level").as_string() == "warning");
                const std::string msg(doc.at("msg").as_string().c_str());
                CHECK(msg.rfind("reason=", 0) == 0);
            }
        }
        CHECK(n == messages.size());  // no message became two lines
    }
    common::init_logging("info", common::log_format::text);
}
