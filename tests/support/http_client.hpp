#pragma once
// A minimal blocking HTTP/1.1 client for tests of the --http-addr endpoint: raw requests, so
// tests can also send what a proper client never would (huge headers, half a request).
#include <chrono>
#include <string>

namespace rpcnetd::test {

// Sends `request` to 127.0.0.1:port and reads until the server closes or `limit` passes without
// data. Empty when the connection could not be made.
std::string http_exchange(unsigned short port, const std::string& request,
                          std::chrono::milliseconds limit = std::chrono::seconds(5));

struct http_reply {
    int status = 0;  // 0: no answer
    std::string head;
    std::string body;
};
// Splits a raw response.
http_reply parse_http_reply(const std::string& raw);
// One request with Connection: close.
http_reply http_request(unsigned short port, const std::string& method, const std::string& path);

}  // namespace rpcnetd::test
