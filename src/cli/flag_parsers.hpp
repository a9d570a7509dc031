#pragma once
// Validation of individual flag values; each throws usage_error naming the flag on bad input.
#include "cli/options.hpp"
#include "common/error.hpp"

#include <initializer_list>
#include <utility>

#include <chrono>
#include <string>
#include <string_view>

namespace rpcnetd::cli {

std::chrono::milliseconds parse_duration_flag(std::string_view flag, const std::string& value);
common::endpoint parse_endpoint_flag(std::string_view flag, const std::string& value);
std::vector<common::endpoint> parse_endpoint_list_flag(std::string_view flag,
                                                       const std::string& value);
// "k=v[,k=v…]"; keys non-empty; values may be empty. Adds into `into`.
void parse_tags_flag(std::string_view flag, const std::string& value, tag_map& into);
balance_strategy parse_strategy(const std::string& value);
bool parse_bool_env(std::string_view name, const std::string& value);

// The default addresses of the director and of a worker.
inline constexpr const char* default_director = "127.0.0.1:61000";
inline constexpr const char* default_worker = "127.0.0.1:62001";

// One of `choices` by name, or usage_error listing them.
template <typename Enum>
Enum pick(const std::string& flag, const std::string& value,
          std::initializer_list<std::pair<const char*, Enum>> choices) {
    std::string names;
    for (const auto& [name, e] : choices) {
        if (value == name) {
            return e;
        }
        names += names.empty() ? name : std::string(", ") + name;
    }
    throw usage_error("invalid --" + flag + " '" + value + "' (expected " + names + ")");
}

void require_positive(const char* flag, unsigned long long value);

// What gossip carries about a member (its name and tags) must pass the codec's rules; named flag
// by flag (option_mode_member.cpp).
void check_identity(const member_config& m, const std::string& name_flag);

}  // namespace rpcnetd::cli
