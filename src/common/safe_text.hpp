#pragma once
// Untrusted text (member names, tags, addresses from gossip, failure reasons reported by clients,
// job ids, prompts) on its way to a terminal or a log. One rule for every printer, so a name can
// neither forge a line (newline, carriage return), hide text (bidi overrides) nor drive the
// terminal (ESC, CSI, other C0/C1 controls).
#include <string>
#include <string_view>

namespace rpcnetd::common {

// For text output: printable UTF-8 passes unchanged; a backslash becomes "\\"; \n \r \t become
// "\n" "\r" "\t"; other C0 controls, DEL and bytes that are not well-formed UTF-8 become "\xNN";
// C1 controls (U+0080..U+009F) and invisible direction/line controls (U+200E, U+200F,
// U+2028..U+202E, U+2066..U+2069) become "\u{XXXX}". The result is printable ASCII plus
// well-formed printable UTF-8, and reads back unambiguously.
std::string escape_text(std::string_view text);

// For JSON output: the text as well-formed UTF-8, each byte that is not part of a well-formed
// sequence replaced by U+FFFD. (The JSON writer then escapes quotes and control characters.)
std::string valid_utf8_or_replaced(std::string_view text);

}  // namespace rpcnetd::common
