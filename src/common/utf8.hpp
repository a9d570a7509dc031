#pragma once
// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. Protobuf
// refuses to parse a proto3 string field that fails this, so every name or tag we accept from a
// peer or the command line must pass it, or it would poison the messages that carry it later.
#include <cstddef>
#include <string_view>

namespace rpcnetd::common {

bool valid_utf8(std::string_view text) noexcept;

// The length (1..4) of the well-formed UTF-8 sequence starting at text[i], or 0 when the bytes
// there are not one (or i is past the end).
std::size_t utf8_sequence(std::string_view text, std::size_t i) noexcept;

}  // namespace rpcnetd::common
