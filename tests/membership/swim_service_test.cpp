// swim_service over real UDP on 127.0.0.1 (ports bound as 0), bounded by io_context::run_for.
// Push-pull runs in-process through the injected transport.
#include "membership/gossip_cipher.hpp"
#include "membership/gossip_envelope.hpp"
#include "membership/swim_codec.hpp"
#include "membership/swim_service.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <memory>

using namespace std::chrono_literals;
using namespace rpcnetd;
using membership::member_event;
using membership::member_event_kind;
using membership::member_status;
using membership::swim_service;
namespace asio = net::asio;

namespace {

membership::swim_config fast_config() {
    membership::swim_config c;
    c.probe_interval = 100ms;
    c.probe_timeout = 50ms;
    c.gossip_interval = 50ms;
    c.reconnect_interval = 1s;
    return c;
}

struct registry final : membership::push_pull_transport {
    std::map<std::uint16_t, swim_service*> by_port;

    net::awaitable<std::optional<std::vector<membership::member>>>
    exchange(common::endpoint to, std::vector<membership::member> mine, bool) override {
        auto it = by_port.find(to.port);
        if (it == by_port.end() || it->second->paused()) {
            co_return std::nullopt;
        }
        co_return it->second->handle_push_pull(mine);
    }
};

struct node {
    std::vector<member_event> events;
    std::unique_ptr<swim_service> service;

    node(asio::any_io_executor ex, registry& reg, const std::string& name,
         std::vector<common::endpoint> seeds, std::size_t receive_buffer = 4 << 20,
         std::shared_ptr<const membership::gossip_envelope> envelope = nullptr) {
        membership::swim_service_options o;
        o.config = fast_config();
        o.name = name;
        o.addr = {"127.0.0.1", 0};
        o.seeds = std::move(seeds);
        o.receive_buffer = receive_buffer;
        o.envelope = std::move(envelope);
        service = std::make_unique<swim_service>(
            ex, o, reg, [this](const member_event& e) { events.push_back(e); });
    }

    std::size_t count(member_event_kind kind, const std::string& about) const {
        return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](auto& e) {
            return e.kind == kind && e.snapshot.name == about;
        }));
    }
    bool sees(const std::string& name, member_status s) const {
        auto m = service->find(name);
        return m && m->status == s;
    }
};

net::awaitable<bool> wait_until(std::function<bool()> pred, common::duration limit) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    const auto end = common::clock::now() + limit;
    while (!pred()) {
        if (common::clock::now() > end) {
            co_return false;
        }
        t.expires_after(20ms);
        co_await t.async_wait(net::use_tuple);
    }
    co_return true;
}

struct outcome {
    bool all_alive = false;
    bool c_failed = false;
    bool b_left = false;
    std::size_t b_failed_events = 0;
    std::size_t b_left_events = 0;
    std::size_t c_failed_events = 0;
    bool finished = false;
};

net::awaitable<void> three_members(outcome& out) {
    auto ex = co_await asio::this_coro::executor;
    registry reg;
    node a(ex, reg, "a", {});
    a.service->start();
    reg.by_port[a.service->local_endpoint().port] = a.service.get();
    node b(ex, reg, "b", {a.service->local_endpoint()});
    node c(ex, reg, "c", {a.service->local_endpoint()});
    for (auto* n : {&b, &c}) {
        n->service->start();
        reg.by_port[n->service->local_endpoint().port] = n->service.get();
    }
    out.all_alive = co_await wait_until(
        [&] {
            for (auto* n : {&a, &b, &c}) {
                for (auto name : {"a", "b", "c"}) {
                    if (!n->sees(name, member_status::alive)) {
                        return false;
                    }
                }
            }
            return true;
        },
        10s);

    // c crashes: stopped without leave.
    reg.by_port.erase(c.service->local_endpoint().port);
    co_await c.service->stop();
    out.c_failed = co_await wait_until(
        [&] { return a.sees("c", member_status::failed) && b.sees("c", member_status::failed); },
        15s);
    out.c_failed_events = a.count(member_event_kind::failed, "c");

    // b leaves gracefully.
    co_await b.service->leave(1s);
    reg.by_port.erase(b.service->local_endpoint().port);
    co_await b.service->stop();
    out.b_left = co_await wait_until([&] { return a.sees("b", member_status::left); }, 10s);
    out.b_failed_events = a.count(member_event_kind::failed, "b");
    out.b_left_events = a.count(member_event_kind::left, "b");
    co_await a.service->stop();
    out.finished = true;
}

struct rejecting_outcome {
    std::uint64_t rejected = 0;
    bool peer_gave_up = false;
    bool finished = false;
};

net::awaitable<void> rejecting_envelope(rejecting_outcome& out) {
    auto ex = co_await asio::this_coro::executor;
    registry reg;
    // Every datagram y sends fails to open at x (y has no key): x must stay silent.
    node x(
        ex, reg, "x", {}, 4 << 20,
        std::make_shared<membership::gossip_envelope>(
            std::make_shared<membership::gossip_cipher>(membership::gossip_cipher::generate_key()),
            "prod"));
    x.service->start();
    reg.by_port[x.service->local_endpoint().port] = x.service.get();
    node y(ex, reg, "y", {x.service->local_endpoint()});
    y.service->start();
    out.peer_gave_up = co_await wait_until(
        [&] { return y.sees("x", member_status::suspect) || y.sees("x", member_status::failed); },
        10s);
    out.rejected = x.service->counters().datagrams_rejected;
    co_await y.service->stop();
    co_await x.service->stop();
    out.finished = true;
}

struct pause_outcome {
    bool failed_while_paused = false;
    bool recovered = false;
    std::size_t recovered_events = 0;
    bool finished = false;
};

net::awaitable<void> pause_and_resume(pause_outcome& out) {
    auto ex = co_await asio::this_coro::executor;
    registry reg;
    node a(ex, reg, "a", {});
    a.service->start();
    reg.by_port[a.service->local_endpoint().port] = a.service.get();
    node b(ex, reg, "b", {a.service->local_endpoint()});
    b.service->start();
    reg.by_port[b.service->local_endpoint().port] = b.service.get();
    co_await wait_until([&] { return a.sees("b", member_status::alive); }, 10s);
    b.service->set_paused(true);  // the worker's simulated hang
    out.failed_while_paused =
        co_await wait_until([&] { return a.sees("b", member_status::failed); }, 10s);
    b.service->set_paused(false);
    out.recovered = co_await wait_until([&] { return a.sees("b", member_status::alive); }, 10s);
    out.recovered_events = a.count(member_event_kind::recovered, "b");
    co_await b.service->stop();
    co_await a.service->stop();
    out.finished = true;
}

struct replay_outcome {
    bool first_acked = false;
    bool replay_answered = false;
    bool fresh_acked = false;
    std::uint64_t replayed = 0;
    std::uint64_t received_before = 0;
    std::uint64_t received_after = 0;
    bool finished = false;
};

// Sends `datagram` from `sock` to `to` and returns the ack's seq if one arrives within `wait`.
net::awaitable<std::optional<std::uint32_t>>
send_and_wait_ack(net::udp::socket& sock, const net::udp::endpoint& to,
                  const std::vector<std::uint8_t>& datagram,
                  const membership::gossip_envelope& envelope, common::duration wait) {
    using namespace asio::experimental::awaitable_operators;
    co_await sock.async_send_to(asio::buffer(datagram), to, net::use_tuple);
    std::vector<std::uint8_t> buf(2048);
    net::udp::endpoint from;
    asio::steady_timer timer(co_await asio::this_coro::executor, wait);
    for (;;) {
        auto r = co_await (sock.async_receive_from(asio::buffer(buf), from, net::use_tuple) ||
                           timer.async_wait(net::use_tuple));
        if (r.index() == 1) {
            co_return std::nullopt;
        }
        const auto [ec, n] = std::get<0>(r);
        if (ec) {
            co_return std::nullopt;
        }
        auto opened = envelope.open(membership::envelope_kind::datagram, std::span(buf.data(), n));
        auto packet = opened ? membership::wire::decode_packet(opened->payload)
                             : boost::system::result<membership::wire::packet>(
                                   boost::system::error_code(1, boost::system::generic_category()));
        if (!packet) {
            continue;
        }
        for (const auto& m : packet->messages) {
            if (const auto* ack = std::get_if<membership::wire::ack_msg>(&m)) {
                co_return ack->seq;
            }
        }
    }
}

net::awaitable<void> replayed_datagram(replay_outcome& out) {
    auto ex = co_await asio::this_coro::executor;
    registry reg;
    auto envelope = std::make_shared<membership::gossip_envelope>(
        std::make_shared<membership::gossip_cipher>(membership::gossip_cipher::generate_key()),
        "prod");
    node x(ex, reg, "x", {}, 4 << 20, envelope);
    x.service->start();
    const net::udp::endpoint to(asio::ip::make_address("127.0.0.1"),
                                x.service->local_endpoint().port);
    net::udp::socket sock(ex, net::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));

    // What an eavesdropper would have captured: a ping from member "peer", sealed with the key.
    auto sealed_ping = [&](std::uint64_t sequence, std::uint32_t ping_seq) {
        const std::vector<membership::wire::message> m{membership::wire::ping_msg{ping_seq, "x"}};
        const auto packet = membership::wire::encode_packet("peer", m);
        const membership::gossip_stamp stamp{"peer", 1, sequence,
                                             membership::receiver_of(x.service->local_endpoint())};
        return envelope->seal(membership::envelope_kind::datagram, stamp, packet);
    };
    const auto captured = sealed_ping(1, 42);
    out.first_acked = co_await send_and_wait_ack(sock, to, captured, *envelope, 3s) ==
                      std::optional<std::uint32_t>{42};
    out.received_before = x.service->counters().datagrams_received;
    out.replay_answered =
        (co_await send_and_wait_ack(sock, to, captured, *envelope, 1s)).has_value();
    out.replayed = x.service->counters().datagrams_replayed;
    out.received_after = x.service->counters().datagrams_received;
    // The same sender's next datagram is still welcome.
    out.fresh_acked = co_await send_and_wait_ack(sock, to, sealed_ping(2, 43), *envelope, 3s) ==
                      std::optional<std::uint32_t>{43};
    co_await x.service->stop();
    out.finished = true;
}

struct cross_replay_outcome {
    bool y_acked = false;
    bool z_answered = false;
    bool z_learned_ghost = false;
    std::uint64_t z_wrong_receiver = 0;
    std::uint64_t z_received = 0;
    bool finished = false;
};

// A datagram sealed by member "peer" for y (ping y + gossip about a member "ghost"), captured on
// the wire and replayed to z, which holds the same key: z drops it (sealed for another
// receiver), counts it, does not answer and learns nothing from it.
net::awaitable<void> replayed_to_another_member(cross_replay_outcome& out) {
    auto ex = co_await asio::this_coro::executor;
    registry reg;
    auto envelope = std::make_shared<membership::gossip_envelope>(
        std::make_shared<membership::gossip_cipher>(membership::gossip_cipher::generate_key()),
        "prod");
    node y(ex, reg, "y", {}, 4 << 20, envelope);
    node z(ex, reg, "z", {}, 4 << 20, envelope);
    y.service->start();
    z.service->start();
    net::udp::socket sock(ex, net::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const std::vector<membership::wire::message> m{
        membership::wire::ping_msg{7, "y"},
        membership::wire::alive_msg{"ghost", {"127.0.0.1", 9}, 1, {}}};
    const membership::gossip_stamp stamp{"peer", 1, 1,
                                         membership::receiver_of(y.service->local_endpoint())};
    const auto captured = envelope->seal(membership::envelope_kind::datagram, stamp,
                                         membership::wire::encode_packet("peer", m));
    auto udp = [](const swim_service& s) {
        return net::udp::endpoint(asio::ip::make_address("127.0.0.1"), s.local_endpoint().port);
    };
    out.y_acked = (co_await send_and_wait_ack(sock, udp(*y.service), captured, *envelope, 3s)) ==
                  std::optional<std::uint32_t>{7};
    out.z_answered =
        (co_await send_and_wait_ack(sock, udp(*z.service), captured, *envelope, 1s)).has_value();
    out.z_learned_ghost = z.service->find("ghost").has_value();
    out.z_wrong_receiver = z.service->counters().datagrams_wrong_receiver;
    out.z_received = z.service->counters().datagrams_received;
    co_await y.service->stop();
    co_await z.service->stop();
    out.finished = true;
}

struct drops_outcome {
    std::uint64_t sent = 0;
    std::uint64_t dropped_while_unread = 0;
    std::uint64_t rejected = 0;
    std::uint64_t dropped = 0;
    bool accounted = false;
    bool finished = false;
};

// A tiny receive buffer and a burst sent before the reader ever runs (nothing is awaited in
// between): the kernel drops most of it, and counters() reports those drops (SO_MEMINFO).
net::awaitable<void> kernel_drops(drops_outcome& out) {
    auto ex = co_await asio::this_coro::executor;
    registry reg;
    node n(ex, reg, "x", {}, 8192);
    auto& x = *n.service;
    x.start();
    net::udp::socket sock(ex, net::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const net::udp::endpoint to(asio::ip::make_address("127.0.0.1"), x.local_endpoint().port);
    const std::vector<std::uint8_t> junk(1000, 0xff);  // not a SWIM packet: rejected when read
    for (int i = 0; i < 200; ++i) {
        boost::system::error_code ec;
        sock.send_to(asio::buffer(junk), to, 0, ec);
        out.sent += ec ? 0 : 1;
    }
    out.dropped_while_unread = x.counters().datagrams_dropped_by_kernel;
    out.accounted = co_await wait_until(
        [&] {
            const auto c = x.counters();
            return c.datagrams_rejected + c.datagrams_dropped_by_kernel >= out.sent;
        },
        5s);
    out.rejected = x.counters().datagrams_rejected;
    out.dropped = x.counters().datagrams_dropped_by_kernel;
    co_await x.stop();
    out.finished = true;
}

template <typename Outcome>
void run_scenario(net::awaitable<void> (*scenario)(Outcome&), Outcome& out) {
    asio::io_context io;
    std::exception_ptr failure;
    asio::co_spawn(io, scenario(out), [&](std::exception_ptr e) { failure = e; });
    io.run_for(60s);
    if (failure) {
        std::rethrow_exception(failure);
    }
}

}  // namespace

TEST_CASE("swim_service: three members see each other, a crash and a graceful leave",
          "[membership][integration]") {
    outcome out;
    run_scenario(&three_members, out);
    REQUIRE(out.finished);
    CHECK(out.all_alive);
    CHECK(out.c_failed);
    CHECK(out.c_failed_events == 1);
    CHECK(out.b_left);
    CHECK(out.b_left_events == 1);
    CHECK(out.b_failed_events == 0);
}

TEST_CASE("swim_service: datagrams that fail to open are dropped, counted and not answered",
          "[membership][integration]") {
    rejecting_outcome out;
    run_scenario(&rejecting_envelope, out);
    REQUIRE(out.finished);
    CHECK(out.rejected > 0);
    CHECK(out.peer_gave_up);
}

TEST_CASE("swim_service: a paused (hung) member is found failed and recovers when resumed",
          "[membership][integration]") {
    pause_outcome out;
    run_scenario(&pause_and_resume, out);
    REQUIRE(out.finished);
    CHECK(out.failed_while_paused);
    CHECK(out.recovered);
    CHECK(out.recovered_events == 1);
}

TEST_CASE("swim_service: a replayed authenticated datagram is dropped, counted, not answered",
          "[membership][integration][replay]") {
    replay_outcome out;
    run_scenario(&replayed_datagram, out);
    REQUIRE(out.finished);
    CHECK(out.first_acked);
    CHECK_FALSE(out.replay_answered);
    CHECK(out.replayed == 1);
    CHECK(out.received_after == out.received_before);  // never reached the SWIM core
    CHECK(out.fresh_acked);
}

TEST_CASE("swim_service: a datagram captured on its way to y and replayed to z is dropped by z",
          "[membership][integration][replay]") {
    cross_replay_outcome out;
    run_scenario(&replayed_to_another_member, out);
    REQUIRE(out.finished);
    CHECK(out.y_acked);  // the receiver it was sealed for takes it
    CHECK_FALSE(out.z_answered);
    CHECK_FALSE(out.z_learned_ghost);
    CHECK(out.z_wrong_receiver == 1);
    CHECK(out.z_received == 0);  // never reached z's SWIM core
}

TEST_CASE("swim_service: datagrams the kernel drops on a full receive buffer are counted",
          "[membership][integration]") {
    drops_outcome out;
    run_scenario(&kernel_drops, out);
    REQUIRE(out.finished);
    REQUIRE(out.sent == 200);
    CHECK(out.dropped_while_unread > 0);
    CHECK(out.dropped_while_unread < out.sent);
    CHECK(out.accounted);
    CHECK(out.dropped == out.dropped_while_unread);  // nothing more once the reader runs
    CHECK(out.rejected + out.dropped == out.sent);
}
