#pragma once
// Settings of the RPC layer, filled from the command line (cli/options.cpp).
#include <chrono>
#include <cstdint>
#include <string>

namespace rpcnetd::rpc {

// Certificates. The CA defaults to the certificate itself (self-signed dev certs).
struct tls_config {
    std::string cert_file = "certs/test_cert.pem";
    std::string key_file = "certs/test_key.pem";
    std::string ca_file;               // empty = cert_file
    bool require_client_cert = false;  // mTLS on servers
    std::string server_name;           // client side: name to verify; empty = host of the target
};

struct limits {
    std::uint32_t max_frame = 4U * 1024U * 1024U;  // bytes of one frame body
    std::uint32_t max_streams_per_connection = 1024;
    std::uint32_t max_connections = 4096;
    std::chrono::milliseconds handshake_timeout{5000};    // TCP accept -> hello received
    std::chrono::milliseconds idle_timeout{300000};       // no frame at all (pings count)
    std::chrono::milliseconds keepalive_interval{10000};  // ping when idle this long
    std::uint32_t max_queued_bytes = 8U * 1024U * 1024U;  // outbound queue bound per connection
    // Ping abuse: a PING arriving sooner than min_ping_interval after the previous one is a
    // strike; max_ping_strikes strikes close the connection with GOAWAY "too many pings". Our
    // own keep-alive pings are keepalive_interval apart, far above this.
    std::chrono::milliseconds min_ping_interval{10};
    std::uint32_t max_ping_strikes = 100;
    // Request bytes held by running calls (a handler keeps its request until it finishes): per
    // connection, and for the whole server. A CALL frame's length is charged when its header
    // arrives, before its body is buffered, and stays charged until the call ends. A call that
    // would exceed either budget is refused with RESOURCE_EXHAUSTED and counted
    // (request_budget_refusals); its body is read and dropped unbuffered; calls already running
    // are untouched. Without these, max_frame x max_streams x max_connections (4 MiB x 1024 x
    // 4096) lets peers pin terabytes.
    std::uint32_t max_request_bytes_per_connection = 64U * 1024U * 1024U;
    std::uint32_t max_request_bytes = 256U * 1024U * 1024U;
};

}  // namespace rpcnetd::rpc
