#pragma once
// A worker filter: a set of key=value tags that must all be present on a member, with equal values
// (DESIGN.md §3, `client --filter K=V[,K=V…]`, AssignRequest.filter). The empty filter matches
// every member.
#include "common/tags.hpp"

#include <map>
#include <string>
#include <string_view>
#include <variant>

namespace rpcnetd::balance {

// The members' gossiped tags (common/tags.hpp).
using common::tag_map;

struct tag_filter_error {
    std::string message;  // one line, names the offending item, e.g. `item "gpu" has no '='`
};

class tag_filter {
public:
    tag_filter() = default;
    explicit tag_filter(tag_map required) : required_(std::move(required)) {}

    // Parses "k=v[,k=v…]". Spaces around keys and values are trimmed; the empty (or all-space)
    // string is the empty filter. Errors: an empty item ("a=1,,b=2"), an item without '=', an
    // empty key or value, a key or value containing '=' or whitespace, a key given twice.
    // Never throws on bad input.
    static std::variant<tag_filter, tag_filter_error> parse(std::string_view text);

    // parse() for configuration input: throws rpcnetd::usage_error("invalid filter …: <reason>").
    static tag_filter parse_or_throw(std::string_view text);

    // True when every required tag is present in tags with the same value.
    bool matches(const tag_map& tags) const;

    const tag_map& required() const noexcept { return required_; }
    bool empty() const noexcept { return required_.empty(); }

    // "k=v,k=v" in key order; parse(to_string()) round-trips.
    std::string to_string() const;

    friend bool operator==(const tag_filter&, const tag_filter&) = default;

private:
    tag_map required_;
};

}  // namespace rpcnetd::balance
