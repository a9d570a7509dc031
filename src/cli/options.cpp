#include "cli/options.hpp"

#include "cli/config_file.hpp"
#include "cli/flag_parsers.hpp"
#include "cli/option_groups.hpp"
#include "common/error.hpp"

#include <boost/program_options.hpp>

#include <cstdlib>
#include <sstream>
#include <typeinfo>

namespace po = boost::program_options;

namespace rpcnetd::cli {

std::optional<std::string> real_env(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr) {
        return std::nullopt;
    }
    return std::string(v);
}

namespace {

constexpr const char* top_usage =
    R"(rpcnetd - cluster daemon: SWIM membership, TLS RPC streams, load-balanced workers

Usage: rpcnetd MODE [OPTIONS]

Modes:
  director   coordinator and seed node: discovers workers by gossip, assigns them to clients
  worker     joins the cluster, serves token streams over TLS (built-in, or your program: --exec)
  client     asks the director for a worker and consumes its stream, failing over losslessly
  members    prints the director's view of the cluster
  stats      prints one member's counters (limits hit, refusals, gossip)
  events     follows the director's cluster event stream
  keys       install|use|remove|list the gossip key on every live member (key rotation)
  drain      stops a worker taking new jobs; running streams finish (--handoff: resume elsewhere)
  undrain    makes a drained worker assignable again
  bench      measures the RPC layer against a running worker

Run 'rpcnetd MODE --help' for the options of a mode. 'rpcnetd --version' prints the version.
Signals: SIGTERM/SIGINT leave gracefully; SIGHUP reloads --cert/--key/--ca (director, worker).
Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error,
            3 (client) the job itself failed (APPLICATION_ERROR).
)";

}  // namespace

// Boost parses "-1" into an unsigned option as 2^N-1 (lexical_cast wraps); --max-frame=-1 must
// be a usage error, not a 4 GiB limit.
void reject_negative_counts(const po::parsed_options& parsed, const po::variables_map& vm) {
    for (const auto& opt : parsed.options) {
        const auto it = vm.find(opt.string_key);
        if (it == vm.end() || it->second.empty()) {
            continue;
        }
        const auto& type = it->second.value().type();
        if (type != typeid(unsigned) && type != typeid(unsigned long) &&
            type != typeid(unsigned long long)) {
            continue;
        }
        for (const auto& v : opt.value) {
            if (v.find('-') != std::string::npos) {
                throw usage_error("--" + opt.string_key +
                                  " must be a whole number of at least 0, got '" + v + "'");
            }
        }
    }
}

namespace {

po::variables_map parse_mode(const std::string& mode, const po::options_description& desc, int argc,
                             const char* const* argv) {
    po::variables_map vm;
    try {
        po::command_line_parser parser(argc, argv);
        parser.options(desc);
        po::positional_options_description positional;
        if (mode == "keys") {
            positional.add("action", 1);  // rpcnetd keys install ...
            parser.positional(positional);
        }
        auto parsed = parser.run();
        po::store(parsed, vm);
        reject_negative_counts(parsed, vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw usage_error(e.what());
    }
    return vm;
}

std::string help_text(const std::string& mode, const std::string& synopsis,
                      const po::options_description& desc) {
    std::ostringstream out;
    out << "Usage: rpcnetd " << mode << " " << synopsis << "\n\n" << desc;
    return out.str();
}

}  // namespace

command parse_command_line(int argc, const char* const* argv, env_lookup env) {
    if (argc < 2) {
        throw usage_error("missing mode (director, worker, client, members, events, keys, drain, "
                          "undrain, bench, stats); "
                          "see 'rpcnetd --help'");
    }
    const std::string mode = argv[1];
    if (mode == "--help" || mode == "-h" || mode == "help") {
        return help_request{top_usage};
    }
    if (mode == "--version" || mode == "-V") {
        return help_request{std::string("rpcnetd ") + RPCNETD_VERSION + "\n"};
    }
    // Sub-mode parsing skips argv[0] (binary) so argv[1] (mode) acts as the program name.
    const int sub_argc = argc - 1;
    const char* const* sub_argv = argv + 1;

    option_groups groups(env);
    po::options_description desc = groups.for_mode(mode);
    po::variables_map vm = parse_mode(mode, desc, sub_argc, sub_argv);
    if (vm.count("help") != 0U) {
        return help_request{help_text(mode, groups.synopsis(mode), desc)};
    }
    if (!groups.config_file().empty()) {
        apply_config_file(mode, groups.config_file(), desc, vm, env);
    }
    command cmd = groups.finish(mode, vm);  // a bad setting is an error, also for --print-config
    if (groups.print_config()) {
        return help_request{print_config(mode, desc, vm)};
    }
    return cmd;
}

}  // namespace rpcnetd::cli
