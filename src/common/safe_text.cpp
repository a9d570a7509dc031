#include "common/safe_text.hpp"

#include "common/utf8.hpp"

#include <cstdint>

namespace rpcnetd::common {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

std::uint32_t code_point(std::string_view seq) {
    const auto b = [&](std::size_t k) {
        return static_cast<std::uint32_t>(static_cast<std::uint8_t>(seq[k]));
    };
    switch (seq.size()) {
    case 1:
        return b(0);
    case 2:
        return ((b(0) & 0x1FU) << 6U) | (b(1) & 0x3FU);
    case 3:
        return ((b(0) & 0x0FU) << 12U) | ((b(1) & 0x3FU) << 6U) | (b(2) & 0x3FU);
    default:
        return ((b(0) & 0x07U) << 18U) | ((b(1) & 0x3FU) << 12U) | ((b(2) & 0x3FU) << 6U) |
               (b(3) & 0x3FU);
    }
}

bool invisible_control(std::uint32_t cp) {
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

void append_hex_byte(std::string& out, std::uint8_t byte) {
    out += "\\x";
    out += hex_digits[byte >> 4U];
    out += hex_digits[byte & 0xFU];
}

}  // namespace

std::string escape_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t len = utf8_sequence(text, i);
        const auto byte = static_cast<std::uint8_t>(text[i]);
        if (len == 0) {
            append_hex_byte(out, byte);
            ++i;
            continue;
        }
        const std::string_view seq = text.substr(i, len);
        i += len;
        if (len == 1) {
            switch (byte) {
            case '\\':
                out += "\\\\";
                continue;
            case '\n':
                out += "\\n";
                continue;
            case '\r':
                out += "\\r";
                continue;
            case '\t':
                out += "\\t";
                continue;
            default:
                break;
            }
            if (byte < 0x20 || byte == 0x7F) {
                append_hex_byte(out, byte);
            } else {
                out += seq;
            }
            continue;
        }
        const std::uint32_t cp = code_point(seq);
        if (invisible_control(cp)) {
            out += "\\u{";
            for (int shift = 12; shift >= 0; shift -= 4) {
                out += hex_digits[(cp >> static_cast<unsigned>(shift)) & 0xFU];
            }
            out += '}';
        } else {
            out += seq;
        }
    }
    return out;
}

std::string valid_utf8_or_replaced(std::string_view text) {
    if (valid_utf8(text)) {
        return std::string(text);
    }
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t len = utf8_sequence(text, i);
        if (len == 0) {
            out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
            ++i;
        } else {
            out += text.substr(i, len);
            i += len;
        }
    }
    return out;
}

}  // namespace rpcnetd::common
