// The director's health-check budget (issue #10) keeps its promise: an idle worker that hangs
// (SIGSTOP: it keeps its sockets but answers nothing) stops being assigned, although idle workers
// are checked only every max(10 x --health-interval, N / 10 s). Membership's suspicion is what
// catches it. Children on free ports, killed by PID; the time is printed, the bound is generous.
#include "../rpc/loopback.hpp"
#include "support/cluster.hpp"

#include <csignal>
#include <iostream>
#include <thread>

using namespace std::chrono_literals;
using namespace rpcnetd;
using namespace rpcnetd::test;

namespace {

net::awaitable<void> assign_many(common::endpoint director, int n, std::vector<std::string>* got) {
    auto ssl = rpc::tls_context::make_client(client_tls(source_dir() + "/certs/test_cert.pem"));
    const rpc::channel_options opts{};
    auto ex = co_await net::asio::this_coro::executor;
    auto conn = co_await rpc::channel::connect(ex, director, ssl, opts);
    REQUIRE(conn.has_value());
    for (int i = 0; i < n; ++i) {
        auto r =
            co_await conn->unary("Director.Assign", v1::AssignRequest().SerializeAsString(), 10s);
        REQUIRE(r.st.ok());
        v1::AssignResponse resp;
        REQUIRE(resp.ParseFromString(r.response));
        got->push_back(resp.worker());  // leases held: least-connections spreads them
    }
    conn->close();
}

}  // namespace

TEST_CASE("director: an idle worker that hangs (SIGSTOP) stops being assigned",
          "[ha][integration]") {
    cluster c({"--health-interval", "100ms"});
    for (const char* l : {"worker-a", "worker-b", "worker-c"}) {
        c.add_worker(l);
    }
    REQUIRE(c.wait_members(
        [](const std::vector<member_view>& ms) {
            return std::count_if(ms.begin(), ms.end(), [](const member_view& m) {
                       return m.assignable && m.health == "ok";
                   }) == 3;
        },
        20s));
    const auto stopped_at = std::chrono::steady_clock::now();
    c.worker(1).signal(SIGSTOP);
    const bool out = c.wait_members(
        [](const std::vector<member_view>& ms) {
            for (const auto& m : ms) {
                if (m.name == "worker-b") {
                    return !m.assignable;
                }
            }
            return false;
        },
        15s);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - stopped_at)
                        .count();
    std::cout << "director health test: hung idle worker unassignable after " << ms << " ms\n";
    CHECK(out);

    // Nothing is sent to it while it hangs.
    std::vector<std::string> got;
    net::asio::io_context ioc(1);
    const common::endpoint director{"127.0.0.1", port_of(c.director_addr())};
    run_coro(ioc, assign_many(director, 12, &got), 30s);
    CHECK(std::count(got.begin(), got.end(), "worker-b") == 0);
    CHECK(got.size() == 12);
    c.worker(1).signal(SIGCONT);
}
