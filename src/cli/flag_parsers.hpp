#pragma once
// Validation of individual flag values; each throws usage_error naming the flag on bad input.
#include "cli/options.hpp"

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

}  // namespace rpcnetd::cli
