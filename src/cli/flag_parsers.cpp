#include "cli/flag_parsers.hpp"

#include "common/error.hpp"
#include "common/time.hpp"

namespace rpcnetd::cli {

std::chrono::milliseconds parse_duration_flag(std::string_view flag, const std::string& value) {
    auto d = common::parse_duration(value);
    if (!d) {
        throw usage_error("invalid duration for --" + std::string(flag) + ": '" + value +
                          "' (use a unit: 500ms, 2s, 1m)");
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

common::endpoint parse_endpoint_flag(std::string_view flag, const std::string& value) {
    auto e = common::parse_endpoint(value);
    if (!e) {
        throw usage_error("invalid address for --" + std::string(flag) + ": '" + value +
                          "' (expected HOST:PORT)");
    }
    return *e;
}

std::vector<common::endpoint> parse_endpoint_list_flag(std::string_view flag,
                                                       const std::string& value) {
    auto list = common::parse_endpoint_list(value);
    if (!list) {
        throw usage_error("invalid address list for --" + std::string(flag) + ": '" + value +
                          "' (expected HOST:PORT[,HOST:PORT...])");
    }
    return *list;
}

void parse_tags_flag(std::string_view flag, const std::string& value, tag_map& into) {
    std::string_view rest = value;
    while (true) {
        const auto comma = rest.find(',');
        const std::string_view item = rest.substr(0, comma);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            throw usage_error("invalid tag for --" + std::string(flag) + ": '" + std::string(item) +
                              "' (expected KEY=VALUE)");
        }
        into[std::string(item.substr(0, eq))] = std::string(item.substr(eq + 1));
        if (comma == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(comma + 1);
    }
}

balance_strategy parse_strategy(const std::string& value) {
    if (value == "least-connections") {
        return balance_strategy::least_connections;
    }
    if (value == "round-robin") {
        return balance_strategy::round_robin;
    }
    if (value == "random") {
        return balance_strategy::random;
    }
    if (value == "power-of-two") {
        return balance_strategy::power_of_two;
    }
    if (value == "affinity") {
        return balance_strategy::affinity;
    }
    throw usage_error("invalid --strategy '" + value +
                      "' (expected least-connections, round-robin, random, power-of-two or "
                      "affinity)");
}

bool parse_bool_env(std::string_view name, const std::string& value) {
    if (value == "true" || value == "1" || value == "yes") {
        return true;
    }
    if (value == "false" || value == "0" || value == "no" || value.empty()) {
        return false;
    }
    throw usage_error("invalid value for " + std::string(name) + ": '" + value +
                      "' (expected true or false)");
}

void require_positive(const char* flag, unsigned long long value) {
    if (value == 0) {
        throw usage_error(std::string("--") + flag + " must be greater than 0");
    }
}

}  // namespace rpcnetd::cli
