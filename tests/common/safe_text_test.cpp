// common::escape_text and the log formats (issue #9): untrusted text can neither forge a line nor
// reach the terminal as a control sequence, and every JSON log line parses whatever it carries.
#include "common/log.hpp"
#include "common/safe_text.hpp"
#include "common/utf8.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

using namespace rpcnetd;
using namespace std::string_literals;

namespace {

bool has_raw_control(const std::string& s) {
    for (const unsigned char c : s) {
        if (c < 0x20 || c == 0x7F) {
            return true;
        }
    }
    return false;
}

// Everything the component loggers write to stderr while `body` runs.
template <typename Body>
std::string capture_stderr(Body body) {
    char path[] = "/tmp/rpcnetd-log-test-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    std::fflush(stderr);
    const int saved = ::dup(2);
    ::dup2(fd, 2);
    body();
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    ::close(fd);
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    std::remove(path);
    return text.str();
}

const std::vector<std::string> hostile = {
    "plain-name",
    "quote\" backslash\\ end",
    "new\nline 🟢 NodeJoined node=forged addr=1.2.3.4:5 incarnation=9",
    "cr\rtab\tnul"s + '\0' + "bell\a",
    "\x1b[31mred\x1b[0m \x1b]0;title\x07",
    "c1 \xC2\x9B" "31m csi, bidi \xE2\x80\xAE" "txet",
    "bad utf8 \xFF\xFE \xC0\xAF \xED\xA0\x80 end",
    "emoji 🟡 and ü stay",
};

} // namespace

TEST_CASE("escape_text: printable text passes, controls and bad bytes are escaped",
          "[common][safe_text]") {
    CHECK(common::escape_text("worker-1 🟢 ü") == "worker-1 🟢 ü");
    CHECK(common::escape_text("a\nb") == "a\\nb");
    CHECK(common::escape_text("a\\nb") == "a\\\\nb");  // a literal backslash-n stays distinct
    CHECK(common::escape_text("\x1b[31m") == "\\x1b[31m");
    CHECK(common::escape_text("\x7f") == "\\x7f");
    CHECK(common::escape_text("\xC2\x9B") == "\\u{009b}");
    CHECK(common::escape_text("\xE2\x80\xAE") == "\\u{202e}");
    CHECK(common::escape_text("\xFF") == "\\xff");
    CHECK(common::escape_text("\xE2\x82") == "\\xe2\\x82");  // truncated sequence
    for (const auto& s : hostile) {
        const auto out = common::escape_text(s);
        CHECK_FALSE(has_raw_control(out));
        CHECK(common::valid_utf8(out));
        CHECK(out.find("\xC2\x9B") == std::string::npos);
        CHECK(out.find("\xE2\x80\xAE") == std::string::npos);
    }
}

TEST_CASE("valid_utf8_or_replaced: well-formed UTF-8 out, U+FFFD for each bad byte",
          "[common][safe_text]") {
    CHECK(common::valid_utf8_or_replaced("ok ü") == "ok ü");
    CHECK(common::valid_utf8_or_replaced("a\xFF" "b") == "a\xEF\xBF\xBD" "b");
    for (const auto& s : hostile) {
        CHECK(common::valid_utf8(common::valid_utf8_or_replaced(s)));
    }
}

TEST_CASE("log: --log-format json writes one parseable JSON object per line, whatever the "
          "message holds",
          "[common][log]") {
    const auto out = capture_stderr([] {
        common::init_logging("info", common::log_format::json);
        for (const auto& s : hostile) {
            common::logger("safe-text-test").warn("member joined node={} reason={}", s, s);
        }
    });
    std::istringstream lines(out);
    std::string line;
    std::size_t n = 0;
    while (std::getline(lines, line)) {
        INFO(line);
        boost::system::error_code ec;
        const auto doc = boost::json::parse(line, ec);
        REQUIRE_FALSE(ec);
        REQUIRE(doc.is_object());
        CHECK(doc.at("component").as_string() == "safe-text-test");
        CHECK(doc.at("level").as_string() == "warning");
        CHECK(std::string(doc.at("msg").as_string().c_str()).rfind("member joined node=", 0) == 0);
        ++n;
    }
    CHECK(n == hostile.size());  // no message was split into several lines

    const auto text = capture_stderr([] {
        common::init_logging("info", common::log_format::text);
        for (const auto& s : hostile) {
            common::logger("safe-text-test").warn("member joined node={}", s);
        }
    });
    std::istringstream text_lines(text);
    n = 0;
    while (std::getline(text_lines, line)) {
        INFO(line);
        CHECK_FALSE(has_raw_control(line));
        CHECK(line.find("member joined node=") != std::string::npos);
        ++n;
    }
    CHECK(n == hostile.size());
    common::init_logging("info", common::log_format::text);
}
