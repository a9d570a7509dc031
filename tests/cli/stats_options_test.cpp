// `rpcnetd stats` (issue #5): target and output flags, DIRECTOR_ADDR default, bad output refused.
#include "cli/options.hpp"
#include "common/error.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace rpcnetd;

namespace {

std::optional<std::string> director_env(const char* name) {
    if (std::string(name) == "DIRECTOR_ADDR") {
        return std::string("10.0.0.5:61000");
    }
    return std::nullopt;
}

std::optional<std::string> no_env(const char*) {
    return std::nullopt;
}

cli::command parse(std::vector<std::string> args, cli::env_lookup env) {
    std::vector<const char*> argv{"rpcnetd"};
    for (auto& a : args) {
        argv.push_back(a.c_str());
    }
    return cli::parse_command_line(static_cast<int>(argv.size()), argv.data(), env);
}

}  // namespace

TEST_CASE("options: stats mode takes --target and --output text|json", "[cli]") {
    auto d = std::get<cli::stats_config>(parse({"stats"}, no_env));
    CHECK(d.target.to_string() == "127.0.0.1:61000");
    CHECK(d.output == cli::stats_output::text);

    auto e = std::get<cli::stats_config>(parse({"stats"}, director_env));
    CHECK(e.target.to_string() == "10.0.0.5:61000");

    auto j = std::get<cli::stats_config>(
        parse({"stats", "--target", "127.0.0.1:62001", "--output", "json"}, director_env));
    CHECK(j.target.to_string() == "127.0.0.1:62001");
    CHECK(j.output == cli::stats_output::json);

    CHECK_THROWS_AS(parse({"stats", "--output", "table"}, no_env), usage_error);
    auto help = std::get<cli::help_request>(parse({"stats", "--help"}, no_env));
    CHECK(help.text.find("--target") != std::string::npos);
}
