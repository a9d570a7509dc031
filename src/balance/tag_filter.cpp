#include "balance/tag_filter.hpp"

#include "common/error.hpp"

#include <fmt/format.h>

namespace rpcnetd::balance {
namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

bool has_space_or_equals(std::string_view s) {
    for (const char c : s) {
        if (c == '=' || is_space(c)) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::variant<tag_filter, tag_filter_error> tag_filter::parse(std::string_view text) {
    tag_map required;
    if (trim(text).empty()) {
        return tag_filter{};
    }
    std::string_view rest = text;
    for (;;) {
        const auto comma = rest.find(',');
        const std::string_view raw = rest.substr(0, comma);
        const std::string_view item = trim(raw);
        if (item.empty()) {
            return tag_filter_error{
                "empty item (two commas in a row, or a leading/trailing comma)"};
        }
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) {
            return tag_filter_error{
                fmt::format("item \"{}\" has no '=' (expected key=value)", item)};
        }
        const std::string_view key = trim(item.substr(0, eq));
        const std::string_view value = trim(item.substr(eq + 1));
        if (key.empty()) {
            return tag_filter_error{fmt::format("item \"{}\" has an empty key", item)};
        }
        if (value.empty()) {
            return tag_filter_error{fmt::format("item \"{}\" has an empty value", item)};
        }
        if (has_space_or_equals(key) || has_space_or_equals(value)) {
            return tag_filter_error{
                fmt::format("item \"{}\": keys and values may not contain '=' or spaces", item)};
        }
        if (!required.emplace(std::string(key), std::string(value)).second) {
            return tag_filter_error{fmt::format("key \"{}\" is given more than once", key)};
        }
        if (comma == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(comma + 1);
    }
    return tag_filter{std::move(required)};
}

tag_filter tag_filter::parse_or_throw(std::string_view text) {
    auto parsed = parse(text);
    if (auto* error = std::get_if<tag_filter_error>(&parsed)) {
        throw usage_error(fmt::format("invalid filter \"{}\": {}", text, error->message));
    }
    return std::get<tag_filter>(std::move(parsed));
}

bool tag_filter::matches(const tag_map& tags) const {
    for (const auto& [key, value] : required_) {
        const auto it = tags.find(key);
        if (it == tags.end() || it->second != value) {
            return false;
        }
    }
    return true;
}

std::string tag_filter::to_string() const {
    std::string out;
    for (const auto& [key, value] : required_) {
        if (!out.empty()) {
            out += ',';
        }
        out += key;
        out += '=';
        out += value;
    }
    return out;
}

}  // namespace rpcnetd::balance
