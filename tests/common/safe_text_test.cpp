// common::escape_text and valid_utf8_or_replaced (issue #9): untrusted text can neither forge a
// line nor reach the terminal as a control sequence; JSON gets well-formed UTF-8.
#include "common/safe_text.hpp"
#include "common/utf8.hpp"
#include "support/cluster.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace rpcnetd;
using rpcnetd::test::has_raw_control;
using namespace std::string_literals;

namespace {

const std::vector<std::string> hostile = {
    "plain-name",
    "quote\" backslash\\ end",
    "new\nline 🟢 NodeJoined node=forged addr=1.2.3.4:5 incarnation=9",
    "cr\rtab\tnul"s + '\0' + "bell\a",
    "\x1b[31mred\x1b[0m \x1b]0;title\x07",
    "c1 \xC2\x9B"
    "31m csi, bidi \xE2\x80\xAE"
    "txet",
    "bad utf8 \xFF\xFE \xC0\xAF \xED\xA0\x80 end",
    "emoji 🟡 and ü stay",
};

}  // namespace

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
    CHECK(common::valid_utf8_or_replaced("a\xFF"
                                         "b") == "a\xEF\xBF\xBD"
                                                 "b");
    for (const auto& s : hostile) {
        CHECK(common::valid_utf8(common::valid_utf8_or_replaced(s)));
    }
}
