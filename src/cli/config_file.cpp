#include "cli/config_file.hpp"

#include "cli/option_groups.hpp"
#include "common/error.hpp"

#include <boost/program_options.hpp>

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <typeinfo>
#include <utility>

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace rpcnetd::cli {
namespace {

constexpr std::array<std::string_view, 8> modes{"director", "worker", "client", "members",
                                                "events",   "stats",  "keys",   "bench"};

// Keys that are never configuration: they act on this one invocation.
bool is_command_key(const std::string& key) {
    return key == "help" || key == "config" || key == "print-config" || key == "action";
}

// The environment variables that set a key (option_groups' defaults read them); when one is set,
// it wins over the file.
std::vector<const char*> env_names(const std::string& mode, const std::string& key) {
    if (key == "log-level") {
        return {"RPCNET_LOG", "RUST_LOG"};
    }
    if (mode == "director" && key == "addr") {
        return {"DIRECTOR_ADDR"};
    }
    if (mode == "worker") {
        if (key == "addr") {
            return {"WORKER_ADDR"};
        }
        if (key == "label") {
            return {"WORKER_LABEL"};
        }
        if (key == "join") {
            return {"DIRECTOR_ADDR"};
        }
        if (key == "simulate-failures") {
            return {"WORKER_FAILURE_ENABLED"};
        }
    }
    if (key == "director" || (mode == "stats" && key == "target")) {
        return {"DIRECTOR_ADDR"};
    }
    return {};
}

bool env_sets(env_lookup env, const std::string& mode, const std::string& key) {
    for (const char* name : env_names(mode, key)) {
        const auto v = env(name);
        if (v && !v->empty()) {
            return true;
        }
    }
    return false;
}

std::string read_file(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        throw usage_error("cannot read --config file '" + path + "': it is a directory");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw usage_error("cannot read --config file '" + path +
                          "' (see 'rpcnetd MODE --print-config' for its format)");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

bool is_path_key(const std::string& key) {
    return key == "cert" || key == "key" || key == "ca" || key == "gossip-key" || key == "key-file";
}

void apply_config_file(const std::string& mode, const std::string& path,
                       const po::options_description& desc, po::variables_map& vm, env_lookup env) {
    std::istringstream text(read_file(path));
    po::parsed_options raw(nullptr);
    try {
        raw = po::parse_config_file(text, desc, true);
    } catch (const po::error& e) {
        throw usage_error("--config file '" + path + "': " + e.what());
    }
    const fs::path folder = fs::absolute(fs::path(path)).parent_path();
    po::parsed_options own(&desc);     // [mode]
    po::parsed_options common(&desc);  // [common] and keys before any section
    for (auto opt : raw.options) {
        const auto dot = opt.string_key.find('.');
        const std::string section =
            dot == std::string::npos ? "common" : opt.string_key.substr(0, dot);
        const std::string key =
            dot == std::string::npos ? opt.string_key : opt.string_key.substr(dot + 1);
        const auto where = "--config file '" + path + "' [" + section + "]: ";
        if (is_command_key(key)) {
            throw usage_error(where + "'" + key + "' is a command-line flag, not a setting");
        }
        bool known_mode = false;
        for (auto m : modes) {
            known_mode = known_mode || section == m;
        }
        if (section != "common" && !known_mode) {
            throw usage_error(where + "unknown section (expected [common] or a mode: director, "
                                      "worker, client, members, events, stats, keys, bench)");
        }
        if (section == "common") {
            option_groups probe(env);
            if (probe.common_options().find_nothrow(key, false) == nullptr) {
                throw usage_error(where + "unknown key '" + key +
                                  "' (only the common options belong here; see 'rpcnetd MODE "
                                  "--print-config')");
            }
        } else if (section != mode) {
            option_groups other(env);  // checked, not applied: a typo in [worker] is still a typo
            if (other.for_mode(section).find_nothrow(key, false) == nullptr) {
                throw usage_error(where + "unknown key '" + key + "'");
            }
            continue;
        } else if (desc.find_nothrow(key, false) == nullptr) {
            throw usage_error(where + "unknown key '" + key + "' (see 'rpcnetd " + mode +
                              " --help')");
        }
        if (env_sets(env, mode, key)) {
            continue;  // the environment wins over the file
        }
        if (is_path_key(key)) {
            for (auto& v : opt.value) {
                if (!v.empty() && fs::path(v).is_relative()) {
                    v = (folder / v).lexically_normal().string();
                }
            }
        }
        opt.string_key = key;
        opt.unregistered = false;
        opt.original_tokens.clear();
        (section == mode ? own : common).options.push_back(std::move(opt));
    }
    try {
        // Stored after the command line: Program_options keeps values stored first, so flags win,
        // and [mode] is stored before [common] so the mode's own section wins.
        po::store(own, vm);
        reject_negative_counts(own, vm);
        po::store(common, vm);
        reject_negative_counts(common, vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw usage_error("--config file '" + path + "': " + e.what());
    } catch (const usage_error& e) {
        throw usage_error("--config file '" + path + "': " + e.what());
    }
}

namespace {

std::string value_text(const std::string& key, const boost::any& v) {
    const auto& t = v.type();
    if (t == typeid(std::string)) {
        auto s = boost::any_cast<std::string>(v);
        if (is_path_key(key) && !s.empty()) {
            s = fs::absolute(fs::path(s)).lexically_normal().string();
        }
        return s;
    }
    std::ostringstream out;
    if (t == typeid(bool)) {
        out << (boost::any_cast<bool>(v) ? "true" : "false");
    } else if (t == typeid(unsigned)) {
        out << boost::any_cast<unsigned>(v);
    } else if (t == typeid(unsigned long long)) {
        out << boost::any_cast<unsigned long long>(v);
    } else if (t == typeid(int)) {
        out << boost::any_cast<int>(v);
    } else if (t == typeid(double)) {
        out << boost::any_cast<double>(v);
    } else {
        throw usage_error("--print-config cannot print '" + key + "'");  // a new option type
    }
    return out.str();
}

}  // namespace

std::string print_config(const std::string& mode, const po::options_description& desc,
                         const po::variables_map& vm) {
    std::ostringstream out;
    out << "# rpcnetd " << mode << ": effective configuration (flag > environment > file > "
        << "default)\n# use it with: rpcnetd " << mode << " --config FILE\n[" << mode << "]\n";
    for (const auto& opt : desc.options()) {
        const std::string key = opt->long_name();
        if (is_command_key(key)) {
            continue;
        }
        const auto it = vm.find(key);
        if (it == vm.end() || it->second.empty()) {
            out << "# " << key << " =\n";  // no value and no default (a repeatable flag)
            continue;
        }
        const boost::any& v = it->second.value();
        if (v.type() == typeid(std::vector<std::string>)) {
            for (const auto& item : boost::any_cast<std::vector<std::string>>(v)) {
                out << key << " = " << item << "\n";
            }
            continue;
        }
        out << key << " = " << value_text(key, v) << "\n";
    }
    return out.str();
}

}  // namespace rpcnetd::cli
