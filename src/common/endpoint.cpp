#include "common/endpoint.hpp"

#include <algorithm>
#include <charconv>

namespace rpcnetd::common {

std::string endpoint::to_string() const {
    if (host.find(':') != std::string::npos) {
        return "[" + host + "]:" + std::to_string(port);
    }
    return host + ":" + std::to_string(port);
}

bool valid_host(std::string_view host) noexcept {
    if (host.empty() || host.size() > 255) {
        return false;
    }
    for (const char c : host) {
        if (c <= ' ' || c > '~' || c == '[' || c == ']' || c == ',' || c == '/') {
            return false;
        }
    }
    // An IPv6 literal has at least two colons; "a:b" would read as host "a", port "b".
    return std::count(host.begin(), host.end(), ':') != 1;
}

std::optional<endpoint> parse_endpoint(std::string_view text) {
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            return std::nullopt;  // bare IPv6 needs brackets
        }
    }
    if (!valid_host(host) || port.empty()) {
        return std::nullopt;
    }
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || ptr != port.data() + port.size() || value > 65535) {
        return std::nullopt;
    }
    return endpoint{std::string(host), static_cast<std::uint16_t>(value)};
}

std::optional<std::vector<endpoint>> parse_endpoint_list(std::string_view text) {
    std::vector<endpoint> out;
    while (true) {
        const auto comma = text.find(',');
        auto item = parse_endpoint(text.substr(0, comma));
        if (!item) {
            return std::nullopt;
        }
        out.push_back(std::move(*item));
        if (comma == std::string_view::npos) {
            break;
        }
        text.remove_prefix(comma + 1);
    }
    return out;
}

}  // namespace rpcnetd::common
