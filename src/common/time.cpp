#include "common/time.hpp"

#include <charconv>
#include <cstdint>

namespace rpcnetd::common {

std::optional<duration> parse_duration(std::string_view text) {
    std::uint64_t value = 0;
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc{} || ptr == begin) {
        return std::nullopt;
    }
    const std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
    constexpr std::uint64_t max_hours = 24ULL * 365 * 100;  // a century is plenty
    if (value > max_hours * 3600 * 1000 * 1000) {
        return std::nullopt;
    }
    if (unit == "us") {
        return std::chrono::duration_cast<duration>(std::chrono::microseconds(value));
    }
    if (unit == "ms") {
        return std::chrono::duration_cast<duration>(std::chrono::milliseconds(value));
    }
    if (value > max_hours * 3600) {
        return std::nullopt;
    }
    if (unit == "s") {
        return std::chrono::duration_cast<duration>(std::chrono::seconds(value));
    }
    if (unit == "m") {
        return std::chrono::duration_cast<duration>(std::chrono::minutes(value));
    }
    if (unit == "h" && value <= max_hours) {
        return std::chrono::duration_cast<duration>(std::chrono::hours(value));
    }
    return std::nullopt;
}

std::string format_duration(duration d) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    if (ms % 1000 == 0 && ms != 0) {
        return std::to_string(ms / 1000) + "s";
    }
    if (ms == 0 && d.count() != 0) {
        return std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(d).count()) +
               "us";
    }
    return std::to_string(ms) + "ms";
}

}  // namespace rpcnetd::common
