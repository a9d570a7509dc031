#include "common/log.hpp"

#include "common/error.hpp"

#include <mutex>

#include <google/protobuf/stubs/logging.h>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace rpcnetd::common {
namespace {

struct settings {
    std::mutex mutex;
    spdlog::sink_ptr sink;
    spdlog::level::level_enum level = spdlog::level::info;
    log_format format = log_format::text;
};

settings& state() {
    static settings s;
    return s;
}

void apply_pattern(spdlog::logger& l, log_format f) {
    if (f == log_format::json) {
        l.set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","component":"%n","msg":"%v"})");
    } else {
        l.set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %n: %v");
    }
}

// libprotobuf writes straight to stderr, and a peer can make it write (a string field with
// invalid UTF-8 logs an ERROR on every parse): route it to our "proto" logger at debug. The
// parse failure itself reaches the caller, which reports the message as malformed and counts it.
void protobuf_log(google::protobuf::LogLevel level, const char* file, int line,
                  const std::string& message) {
    auto& l = logger("proto");
    if (level == google::protobuf::LOGLEVEL_FATAL) {
        l.critical("libprotobuf {}:{}: {}", file, line, message);  // protobuf aborts next
    } else {
        l.debug("libprotobuf {}:{}: {}", file, line, message);
    }
}

} // namespace

spdlog::level::level_enum parse_log_level(std::string_view level) {
    // RUST_LOG style filters: "rpcnetd=debug,warn" -> take our crate's level, else the bare one.
    std::string_view chosen = level;
    if (level.find(',') != std::string_view::npos || level.find('=') != std::string_view::npos) {
        chosen = "info";
        std::string_view rest = level;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const std::string_view item = rest.substr(0, comma);
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            const auto eq = item.find('=');
            if (eq == std::string_view::npos) {
                chosen = item;
            } else if (item.substr(0, eq) == "rpcnetd" || item.substr(0, eq) == "rpcnet") {
                chosen = item.substr(eq + 1);
                break;
            }
        }
    }
    if (chosen == "warning") {
        chosen = "warn";
    }
    if (chosen == "error") {
        chosen = "err";
    }
    if (chosen == "trace" || chosen == "debug" || chosen == "info" || chosen == "warn" ||
        chosen == "err" || chosen == "critical" || chosen == "off") {
        return spdlog::level::from_str(std::string(chosen));
    }
    throw usage_error("unknown log level '" + std::string(level) +
                      "' (expected trace, debug, info, warn, error or off)");
}

void init_logging(std::string_view level, log_format format) {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    s.level = parse_log_level(level);
    s.format = format;
    if (!s.sink) {
        s.sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    }
    google::protobuf::SetLogHandler(&protobuf_log);
    spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
        l->set_level(s.level);
        apply_pattern(*l, s.format);
    });
}

spdlog::logger& logger(const std::string& component) {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    if (auto existing = spdlog::get(component)) {
        return *existing;
    }
    if (!s.sink) {
        s.sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    }
    auto l = std::make_shared<spdlog::logger>(component, s.sink);
    l->set_level(s.level);
    apply_pattern(*l, s.format);
    spdlog::register_logger(l);
    return *l;
}

} // namespace rpcnetd::common
