#include "common/log.hpp"

#include "common/error.hpp"
#include "common/safe_text.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <mutex>

#include <google/protobuf/stubs/logging.h>

#include <spdlog/pattern_formatter.h>
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

// %* : the message, made safe. Messages carry names, tags and reasons that peers chose: in text
// they are escaped (common::escape_text: no newline, no terminal control), in JSON the message is
// a JSON string of well-formed UTF-8 (Boost.JSON escapes quotes, backslashes and controls).
class safe_payload final : public spdlog::custom_flag_formatter {
public:
    explicit safe_payload(log_format f) : format_(f) {}
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        const std::string_view payload(msg.payload.data(), msg.payload.size());
        const std::string out =
            format_ == log_format::json
                ? boost::json::serialize(boost::json::string(valid_utf8_or_replaced(payload)))
                : escape_text(payload);
        dest.append(out.data(), out.data() + out.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<safe_payload>(format_);
    }

private:
    log_format format_;
};

void apply_pattern(spdlog::logger& l, log_format f) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<safe_payload>('*', f);
    if (f == log_format::json) {
        // Component names are ours (fixed identifiers); only the message needs escaping.
        formatter->set_pattern(
            R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","component":"%n","msg":%*})");
    } else {
        formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %n: %*");
    }
    l.set_formatter(std::move(formatter));
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

}  // namespace

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

}  // namespace rpcnetd::common
