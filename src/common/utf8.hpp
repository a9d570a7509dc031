#pragma once
// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. Protobuf
// refuses to parse a proto3 string field that fails this, so every name or tag we accept from a
// peer or the command line must pass it, or it would poison the messages that carry it later.
#include <string_view>

namespace rpcnetd::common {

bool valid_utf8(std::string_view text) noexcept;

} // namespace rpcnetd::common
