#pragma once
// The command line of the CLI tests: parse_command_line with an environment the test sets.
#include "cli/options.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rpcnetd::test {

inline std::map<std::string, std::string>& fake_env() {
    static std::map<std::string, std::string> env;
    return env;
}

inline std::optional<std::string> lookup(const char* name) {
    auto it = fake_env().find(name);
    if (it == fake_env().end()) {
        return std::nullopt;
    }
    return it->second;
}

// `rpcnetd ARGS...` under fake_env().
inline cli::command parse(std::vector<std::string> args) {
    std::vector<const char*> argv{"rpcnetd"};
    for (auto& a : args) {
        argv.push_back(a.c_str());
    }
    return cli::parse_command_line(static_cast<int>(argv.size()), argv.data(), lookup);
}

}  // namespace rpcnetd::test
