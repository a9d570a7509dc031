// push_pull_rpc's server side without a network call (issue #11 item 2): a sealed push-pull
// request is merged once, only by the member it was sealed for, only as a push-pull body; the
// reply echoes the request's stamp. swim_service runs on a real UDP socket on 127.0.0.1.
#include "app/push_pull_rpc.hpp"

#include "membership/gossip_envelope.hpp"
#include "membership/member_proto.hpp"
#include "membership/swim_service.hpp"
#include "proto/rpcnetd.pb.h"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using namespace rpcnetd;
namespace ms = rpcnetd::membership;

namespace {

struct no_transport final : ms::push_pull_transport {
    net::awaitable<std::optional<std::vector<ms::member>>>
    exchange(common::endpoint, std::vector<ms::member>, bool) override {
        co_return std::nullopt;
    }
};

struct outcome {
    rpc::status first;
    bool reply_echoes = false;
    bool merged = false;
    rpc::status replayed;
    rpc::status elsewhere;
    rpc::status as_datagram;
    std::uint64_t refused = 0;
    bool finished = false;
};

std::string text(const std::vector<std::uint8_t>& v) {
    return {v.begin(), v.end()};
}

std::span<const std::uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

net::awaitable<void> scenario(outcome& out) {
    auto ex = co_await net::asio::this_coro::executor;
    auto envelope = std::make_shared<ms::gossip_envelope>(
        std::make_shared<ms::gossip_cipher>(ms::gossip_cipher::generate_key()), "prod");
    no_transport transport;
    ms::swim_service_options o;
    o.name = "y";
    o.addr = {"127.0.0.1", 0};
    o.envelope = envelope;
    ms::swim_service swim(ex, o, transport, {});
    swim.start();
    app::push_pull_rpc rpc(
        ex, "y", "prod", envelope, [] { return nullptr; }, {}, true);
    rpc.attach(swim);

    v1::PushPullRequest req;
    ms::fill(*req.mutable_members(), {{"x", {"127.0.0.1", 9}, 1, ms::member_status::alive, {}}});
    req.set_cluster("prod");
    const auto body = req.SerializeAsString();
    const ms::gossip_stamp stamp{"x", 1, 1, ms::receiver_of(swim.local_endpoint())};
    const auto sealed = text(envelope->seal(ms::envelope_kind::push_pull, stamp, bytes(body)));

    auto [st, reply] = rpc.handle(sealed, "test");
    out.first = st;
    const auto opened = envelope->open(ms::envelope_kind::push_pull_reply, bytes(reply));
    out.reply_echoes = opened && opened->stamp == stamp;
    out.merged = swim.find("x").has_value();
    out.replayed = rpc.handle(sealed, "test").first;
    auto other = swim.local_endpoint();
    other.port = static_cast<std::uint16_t>(other.port + 1);
    out.elsewhere =
        rpc.handle(text(envelope->seal(ms::envelope_kind::push_pull,
                                       {"x", 1, 2, ms::receiver_of(other)}, bytes(body))),
                   "test")
            .first;
    out.as_datagram =
        rpc.handle(text(envelope->seal(ms::envelope_kind::datagram,
                                       {"x", 1, 3, ms::receiver_of(swim.local_endpoint())},
                                       bytes(body))),
                   "test")
            .first;
    out.refused = rpc.refused();
    co_await swim.stop();
    out.finished = true;
}

}  // namespace

TEST_CASE(
    "gossip push-pull: a sealed request is merged once only by its receiver and only as its kind",
    "[membership][replay]") {
    net::asio::io_context io;
    outcome out;
    std::exception_ptr failure;
    net::asio::co_spawn(io, scenario(out), [&](std::exception_ptr e) { failure = e; });
    io.run_for(20s);
    if (failure) {
        std::rethrow_exception(failure);
    }
    REQUIRE(out.finished);
    CHECK(out.first.ok());
    CHECK(out.reply_echoes);
    CHECK(out.merged);
    CHECK(out.replayed.code == v1::UNAUTHENTICATED);
    CHECK(out.elsewhere.code == v1::UNAUTHENTICATED);
    CHECK(out.as_datagram.code == v1::UNAUTHENTICATED);
    CHECK(out.refused == 3);
}
