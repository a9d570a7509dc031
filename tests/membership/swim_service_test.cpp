// swim_service over real UDP on 127.0.0.1 (ports bound as 0), bounded by io_context::run_for.
// Push-pull runs in-process through the injected transport.
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

struct registry {
    std::map<std::uint16_t, swim_service*> by_port;

    net::awaitable<std::optional<std::vector<membership::member>>> exchange(
        common::endpoint to, std::vector<membership::member> mine) {
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
         std::vector<common::endpoint> seeds) {
        membership::swim_service_options o;
        o.config = fast_config();
        o.name = name;
        o.addr = {"127.0.0.1", 0};
        o.seeds = std::move(seeds);
        service = std::make_unique<swim_service>(
            ex, o, [this](const member_event& e) { events.push_back(e); });
        service->set_push_pull([&reg](common::endpoint to, std::vector<membership::member> m) {
            return reg.exchange(std::move(to), std::move(m));
        });
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
    node x(ex, reg, "x", {});
    // Every datagram fails to open: x must stay silent.
    x.service->set_envelope([](std::span<const std::uint8_t> p) {
        return std::vector<std::uint8_t>(p.begin(), p.end());
    }, [](std::span<const std::uint8_t>) { return std::optional<std::vector<std::uint8_t>>{}; }, 0);
    x.service->start();
    reg.by_port[x.service->local_endpoint().port] = x.service.get();
    node y(ex, reg, "y", {x.service->local_endpoint()});
    y.service->start();
    out.peer_gave_up = co_await wait_until(
        [&] {
            return y.sees("x", member_status::suspect) || y.sees("x", member_status::failed);
        },
        10s);
    out.rejected = x.service->counters().datagrams_rejected;
    co_await y.service->stop();
    co_await x.service->stop();
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

} // namespace

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
