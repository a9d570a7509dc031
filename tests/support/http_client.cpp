#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>

namespace rpcnetd::test {

std::string http_exchange(unsigned short port, const std::string& request,
                          std::chrono::milliseconds limit) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return {};
    }
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(limit.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((limit.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return {};
    }
    std::size_t sent = 0;
    while (sent < request.size()) {
        const auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            break;  // the server may refuse before reading everything; read what it said
        }
        sent += static_cast<std::size_t>(n);
    }
    std::string out;
    char buf[4096];
    for (;;) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

http_reply parse_http_reply(const std::string& raw) {
    http_reply r;
    if (raw.rfind("HTTP/1.", 0) == 0 && raw.size() >= 12) {
        r.status = std::atoi(raw.substr(9, 3).c_str());
    }
    const auto sep = raw.find("\r\n\r\n");
    r.head = raw.substr(0, sep);
    if (sep != std::string::npos) {
        r.body = raw.substr(sep + 4);
    }
    return r;
}

http_reply http_request(unsigned short port, const std::string& method, const std::string& path) {
    return parse_http_reply(http_exchange(
        port, method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
}

}  // namespace rpcnetd::test
