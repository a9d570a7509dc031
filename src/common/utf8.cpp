#include "common/utf8.hpp"

#include <cstdint>

namespace rpcnetd::common {

std::size_t utf8_sequence(std::string_view text, std::size_t i) noexcept {
    if (i >= text.size()) {
        return 0;
    }
    const auto c = static_cast<std::uint8_t>(text[i]);
    std::size_t len = 0;
    std::uint8_t lo = 0x80;  // allowed range of the first continuation byte
    std::uint8_t hi = 0xBF;
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;  // E0 80..9F would be overlong
        hi = c == 0xED ? 0x9F : 0xBF;  // ED A0..BF would be a surrogate
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;  // F0 80..8F would be overlong
        hi = c == 0xF4 ? 0x8F : 0xBF;  // F4 90.. would be above U+10FFFF
    } else {
        return 0;  // continuation byte, C0/C1 (overlong) or F5..FF
    }
    if (text.size() - i < len) {
        return 0;
    }
    for (std::size_t k = 1; k < len; ++k) {
        const auto b = static_cast<std::uint8_t>(text[i + k]);
        const std::uint8_t min = k == 1 ? lo : 0x80;
        const std::uint8_t max = k == 1 ? hi : 0xBF;
        if (b < min || b > max) {
            return 0;
        }
    }
    return len;
}

bool valid_utf8(std::string_view text) noexcept {
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t len = utf8_sequence(text, i);
        if (len == 0) {
            return false;
        }
        i += len;
    }
    return true;
}

}  // namespace rpcnetd::common
