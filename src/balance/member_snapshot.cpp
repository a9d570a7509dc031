#include "balance/member_snapshot.hpp"

#include <charconv>

namespace rpcnetd::balance {

std::string_view to_string(member_state s) noexcept {
    switch (s) {
    case member_state::alive:
        return "alive";
    case member_state::suspect:
        return "suspect";
    case member_state::failed:
        return "failed";
    case member_state::left:
        return "left";
    }
    return "unknown";
}

namespace {

// A tag's value as a decimal count; nullopt when absent or not only digits.
std::optional<std::uint32_t> count_tag(const tag_map& tags, std::string_view key) {
    const auto it = tags.find(std::string(key));
    if (it == tags.end() || it->second.empty()) {
        return std::nullopt;
    }
    std::uint32_t value = 0;
    const char* first = it->second.data();
    const char* last = first + it->second.size();
    const auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc{} || end != last) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::optional<std::uint32_t> member_snapshot::reported_streams() const {
    if (active_streams) {
        return active_streams;
    }
    return count_tag(tags, active_streams_tag);
}

std::optional<std::uint32_t> member_snapshot::capacity() const {
    const auto value = count_tag(tags, capacity_tag);
    if (value && *value == 0) {
        return std::nullopt;
    }
    return value;
}

bool member_snapshot::is_worker() const {
    const auto it = tags.find(std::string(role_tag));
    return it != tags.end() && it->second == worker_role;
}

bool member_snapshot::draining() const {
    const auto it = tags.find(std::string(draining_tag));
    return it != tags.end() && it->second == "true";
}

}  // namespace rpcnetd::balance
