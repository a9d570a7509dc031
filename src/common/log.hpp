#pragma once
// Logging set-up: one spdlog logger per component ("swim", "fd", "rpc", "lb", "app").
// Messages are lowercase key=value. Cores never log; shells do.
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace rpcnetd::common {

enum class log_format { text, json };

// Creates the component loggers on stderr. level: trace|debug|info|warn|error|off, or an
// env-filter string as RUST_LOG accepts ("info", "rpcnetd=debug,info": the last bare level or the
// first "rpcnetd=" level wins). Throws usage_error on an unknown level. Also routes libprotobuf's
// own messages to the "proto" logger at debug, so peer input cannot flood stderr through it.
void init_logging(std::string_view level, log_format format);

// Parses a level the way init_logging does; nullopt-like: throws usage_error when unknown.
spdlog::level::level_enum parse_log_level(std::string_view level);

// The named component logger; created on demand with the current settings.
spdlog::logger& logger(const std::string& component);

}  // namespace rpcnetd::common
