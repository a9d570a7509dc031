#pragma once
// host:port values as users type them ("127.0.0.1:61000", "[::1]:61000", "localhost:61000").
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rpcnetd::common {

struct endpoint {
    std::string host;
    std::uint16_t port = 0;

    std::string to_string() const;
    friend bool operator==(const endpoint&, const endpoint&) = default;
};

// Parses "host:port"; nullopt when the port is missing, zero-length host, or out of range.
// Port 0 is accepted (bind to any free port).
std::optional<endpoint> parse_endpoint(std::string_view text);

// Parses a comma-separated list; nullopt if any item is bad or the list is empty.
std::optional<std::vector<endpoint>> parse_endpoint_list(std::string_view text);

} // namespace rpcnetd::common
