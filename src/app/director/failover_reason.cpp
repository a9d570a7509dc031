#include "app/director/failover_reason.hpp"

#include "proto/rpcnetd.pb.h"

#include <algorithm>
#include <string>
#include <utility>

namespace rpcnetd::app {

std::string failover_reason_class(std::string_view reason) {
    static constexpr std::pair<std::string_view, std::string_view> prefixes[] = {
        {"connect:", "connect"},
        {"no token for", "idle_timeout"},
        {"stream ended early", "ended_early"},
        {"sequence gap", "sequence_gap"},
        {"malformed", "malformed"},
        {"director sent a bad worker address", "bad_address"},
    };
    if (reason.empty()) {
        return "unspecified";
    }
    for (const auto& [prefix, cls] : prefixes) {
        if (reason.starts_with(prefix)) {
            return std::string(cls);
        }
    }
    // rpc::status::to_string(): "CODE" or "CODE: message"; only the enum's own names count.
    const auto code = reason.substr(0, std::min(reason.find(':'), std::size_t{40}));
    v1::StatusCode parsed{};
    if (v1::StatusCode_Parse(std::string(code), &parsed)) {
        // Lower-cased from the enum's own name table, never from the client's text.
        std::string lowered;
        for (const char c : v1::StatusCode_Name(parsed)) {
            lowered += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        return lowered;
    }
    return "other";
}

}  // namespace rpcnetd::app
