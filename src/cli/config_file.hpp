#pragma once
// --config FILE and --print-config: Program_options' `key = value` file with one [section] per
// mode ([director], [worker], [client], ...) and an optional [common] section (keys before any
// section are common too). Precedence: flag > environment > file > default.
#include "cli/options.hpp"

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/variables_map.hpp>

#include <string>

namespace rpcnetd::cli {

// Throws usage_error when a negative number was given to an unsigned option (Boost would wrap it).
void reject_negative_counts(const boost::program_options::parsed_options& parsed,
                            const boost::program_options::variables_map& vm);

// Keys whose values are file paths: relative ones in a file resolve against the file's folder.
bool is_path_key(const std::string& key);

// Stores the [common] and [mode] keys of `path` into vm (after the command line was stored, so
// flags win) and skips keys whose environment variable is set (the environment wins over the
// file). Keys of other modes' sections are checked but not applied. Throws usage_error on an
// unreadable file, an unknown section or key, or a bad value.
void apply_config_file(const std::string& mode, const std::string& path,
                       const boost::program_options::options_description& desc,
                       boost::program_options::variables_map& vm, env_lookup env);

// The effective configuration of `mode` in the --config format: one [mode] section, every key
// with its value; relative paths made absolute so the text can be saved anywhere and reused.
std::string print_config(const std::string& mode,
                         const boost::program_options::options_description& desc,
                         const boost::program_options::variables_map& vm);

}  // namespace rpcnetd::cli
