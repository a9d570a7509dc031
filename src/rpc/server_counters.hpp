#pragma once
// What an rpc::server counts: one monotonic counter per exceeded limit and per refusal, so an
// operator can see abuse (`rpcnetd stats`, the Node.Stats method). Touched only on the server's
// executor; read with server::counters().
#include <cstdint>
#include <string_view>

namespace rpcnetd::rpc {

struct server_counters {
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_refused = 0;      // over limits::max_connections (closed at accept)
    std::uint64_t tls_handshake_failures = 0;   // no TLS 1.3, bad or missing peer certificate, ...
    std::uint64_t handshake_timeouts = 0;       // TLS + Hello not done within handshake_timeout
    std::uint64_t idle_timeouts = 0;            // nothing received within idle_timeout
    std::uint64_t frames_too_large = 0;         // frame header above limits::max_frame
    std::uint64_t ping_abuse = 0;               // closed after limits::max_ping_strikes strikes
    std::uint64_t queue_overflows = 0;          // outbound queue above limits::max_queued_bytes
    std::uint64_t streams_refused = 0;          // over limits::max_streams_per_connection
    std::uint64_t permission_denied = 0;        // certificate role may not call the method
    std::uint64_t reloads = 0;                  // TLS context replaced (SIGHUP)
    std::uint64_t request_budget_refusals = 0;  // calls over limits::max_request_bytes[_per_conn.]

    // Calls fn(name, value) for every counter, in declaration order; names are stable (scripts
    // read them from `rpcnetd stats --output json`).
    template <typename Fn>
    void for_each(Fn&& fn) const {
        fn(std::string_view("connections_accepted"), connections_accepted);
        fn(std::string_view("connections_refused"), connections_refused);
        fn(std::string_view("tls_handshake_failures"), tls_handshake_failures);
        fn(std::string_view("handshake_timeouts"), handshake_timeouts);
        fn(std::string_view("idle_timeouts"), idle_timeouts);
        fn(std::string_view("frames_too_large"), frames_too_large);
        fn(std::string_view("ping_abuse"), ping_abuse);
        fn(std::string_view("queue_overflows"), queue_overflows);
        fn(std::string_view("streams_refused"), streams_refused);
        fn(std::string_view("permission_denied"), permission_denied);
        fn(std::string_view("tls_reloads"), reloads);
        fn(std::string_view("request_budget_refusals"), request_budget_refusals);
    }
};

}  // namespace rpcnetd::rpc
