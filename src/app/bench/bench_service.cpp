#include "app/bench/bench_service.hpp"

#include "common/log.hpp"
#include "proto/rpcnetd.pb.h"

#include <cstdio>

namespace rpcnetd::app {
namespace {

constexpr std::size_t token_len = 16;

void format_token(char (&out)[token_len + 1], std::uint64_t sequence) {
    std::snprintf(out, sizeof out, "token-%010llu",
                  static_cast<unsigned long long>(sequence % 10000000000ULL));
}

net::awaitable<std::pair<rpc::status, std::string>> echo(rpc::call_context& ctx,
                                                         std::string request) {
    (void)ctx;
    v1::EchoMsg msg;
    if (!msg.ParseFromString(request)) {
        co_return std::pair{rpc::status{v1::INVALID_ARGUMENT, "malformed EchoMsg"}, std::string()};
    }
    co_return std::pair{rpc::status{}, msg.SerializeAsString()};
}

net::awaitable<rpc::status> stream_tokens(rpc::call_context& ctx, std::string request,
                                          rpc::stream_writer& out) {
    // Parsed in a scope of its own: a lite message keeps unknown fields (the padding of a large
    // held request) as a copy, which must not stay alive beside `request` while the call holds.
    std::uint32_t count = 0;
    bool hold = false;
    {
        v1::StreamReq req;
        if (!req.ParseFromString(request)) {
            co_return rpc::status{v1::INVALID_ARGUMENT, "malformed StreamReq"};
        }
        hold = req.hold();
        count = hold ? std::min<std::uint32_t>(req.count(), 1) : req.count();
    }
    v1::BenchToken token;
    std::string wire;
    char text[token_len + 1];
    for (std::uint32_t seq = 0; seq < count; ++seq) {
        format_token(text, seq);
        token.set_token(text, token_len);
        token.SerializeToString(&wire);
        if (auto ec = co_await out.write(wire)) {
            co_return rpc::status{v1::CANCELLED, ec.message()};
        }
    }
    if (hold) {
        co_await ctx.wait_cancelled();
        co_return rpc::status{v1::CANCELLED, "cancelled"};
    }
    co_return rpc::status{};
}

}  // namespace

std::string bench_token(std::uint64_t sequence) {
    char text[token_len + 1];
    format_token(text, sequence);
    return {text, token_len};
}

void register_bench_service(rpc::server& srv, std::string worker_label) {
    common::logger("app").debug("bench service registered worker={}", worker_label);
    srv.add_unary("Bench.Echo", [](rpc::call_context& ctx, std::string request) {
        return echo(ctx, std::move(request));
    });
    srv.add_stream("Bench.Stream",
                   [](rpc::call_context& ctx, std::string request, rpc::stream_writer& out) {
                       return stream_tokens(ctx, std::move(request), out);
                   });
}

}  // namespace rpcnetd::app
