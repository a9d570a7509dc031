#pragma once
// rpcnetd's own error codes, in their own category, so untrusted input is reported as a value.
#include <boost/system/error_code.hpp>
#include <stdexcept>
#include <string>
#include <system_error>

namespace rpcnetd {

enum class errc {
    ok = 0,
    frame_too_large = 1,
    malformed_frame,
    protocol_version,
    unknown_method,
    stream_limit,
    connection_limit,
    handshake_timeout,
    idle_timeout,
    cancelled,
    worker_failed,
    no_workers,
    malformed_packet,
    authentication_failed,
    not_implemented,
    unavailable,
    deadline_exceeded,
    internal,
    ping_abuse,      // peer flooded PING frames (limits::max_ping_strikes)
    queue_overflow,  // outbound queue above limits::max_queued_bytes (peer not reading)
    permission_denied,
};

const boost::system::error_category& rpcnetd_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), rpcnetd_category()};
}

// Configuration or usage error: main prints the one-line reason and exits with 2.
class usage_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Runtime failure that ends the process: main prints the reason and exits with 1.
class runtime_failure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace rpcnetd

template <>
struct boost::system::is_error_code_enum<rpcnetd::errc> : std::true_type {};
