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

// A host that prints and parses back unchanged: 1..255 bytes of visible ASCII with no '[', ']',
// ',' or '/', and never exactly one ':' (IPv6 literals have two or more and print in brackets). The
// gossip codec and push-pull apply the same rule to peer-supplied addresses as the command line
// does.
bool valid_host(std::string_view host) noexcept;

// Parses "host:port"; nullopt when the port is missing or out of range, or the host is not
// valid_host().
// Port 0 is accepted (bind to any free port).
std::optional<endpoint> parse_endpoint(std::string_view text);

// Parses a comma-separated list; nullopt if any item is bad or the list is empty.
std::optional<std::vector<endpoint>> parse_endpoint_list(std::string_view text);

}  // namespace rpcnetd::common
