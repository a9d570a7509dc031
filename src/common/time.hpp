#pragma once
// Time vocabulary shared by the pure cores and the shells. Pure cores receive time_point values
// as arguments; only shells call clock::now().
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace rpcnetd::common {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;
using duration = clock::duration;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Parses "500ms", "2s", "1m", "250us", "1h"; a bare number is rejected (units are mandatory so
// that "--probe-timeout 100" cannot silently mean 100 seconds). Returns nullopt on bad input.
std::optional<duration> parse_duration(std::string_view text);

// Formats a duration the way parse_duration reads it ("1500ms", "2s").
std::string format_duration(duration d);

// Seconds as a double, for logs and benchmarks.
inline double to_seconds(duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace rpcnetd::common
