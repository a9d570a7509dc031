// Issue #11 item 3 against a real director: lease ids are 16 unguessable bytes, and only the
// caller that was assigned a lease (here: its connection; no mTLS) may release it or report its
// worker failed (alone or riding on an Assign). Another caller's attempt is refused and counted
// in director.leases_refused.
#include "../rpc/loopback.hpp"
#include "support/cluster.hpp"

using namespace std::chrono_literals;
using namespace rpcnetd;
using namespace rpcnetd::test;

namespace {

net::awaitable<rpc::channel> connect_director(common::endpoint target) {
    auto ssl = rpc::tls_context::make_client(client_tls(source_dir() + "/certs/test_cert.pem"));
    auto r = co_await rpc::channel::connect(co_await net::asio::this_coro::executor, target, ssl,
                                            rpc::channel_options{});
    if (!r) {
        throw std::runtime_error("connect failed: " + r.error().message());
    }
    co_return *r;
}

net::awaitable<v1::AssignResponse> assign(rpc::channel& c) {
    auto r = co_await c.unary("Director.Assign", v1::AssignRequest().SerializeAsString(), 10s);
    REQUIRE(r.st.ok());
    v1::AssignResponse resp;
    REQUIRE(resp.ParseFromString(r.response));
    CHECK(resp.label() == "lease-worker");
    co_return resp;
}

std::string release_request(const std::string& lease) {
    v1::ReleaseRequest req;
    req.set_lease(lease);
    return req.SerializeAsString();
}

std::string report_request(const std::string& worker, const std::string& lease) {
    v1::ReportFailureRequest req;
    req.set_worker(worker);
    req.set_reason("test: not my lease");
    req.set_lease(lease);
    return req.SerializeAsString();
}

net::awaitable<void> leases_belong_to_their_client(common::endpoint director) {
    rpc::channel owner = co_await connect_director(director);
    rpc::channel other = co_await connect_director(director);

    const auto a = co_await assign(owner);
    const std::string first = a.lease();
    const std::string second = (co_await assign(owner)).lease();
    REQUIRE(first.size() == 16);
    REQUIRE(second.size() == 16);
    CHECK(first != second);

    // Another client may neither release the lease nor report its worker failed with it.
    auto r = co_await other.unary("Director.Release", release_request(first), 10s);
    CHECK(r.st.code == v1::PERMISSION_DENIED);
    r = co_await other.unary("Director.ReportFailure", report_request(a.worker(), second), 10s);
    CHECK(r.st.code == v1::PERMISSION_DENIED);
    // The refused report did not mark the worker unhealthy: it is still assigned.
    const std::string third = (co_await assign(other)).lease();
    CHECK(third.size() == 16);

    // The owners release their own leases.
    r = co_await owner.unary("Director.Release", release_request(first), 10s);
    CHECK(r.st.ok());
    r = co_await other.unary("Director.Release", release_request(third), 10s);
    CHECK(r.st.ok());
    // Releasing again, or a lease nobody was given, is a harmless no-op.
    r = co_await owner.unary("Director.Release", release_request(first), 10s);
    CHECK(r.st.ok());
    r = co_await owner.unary("Director.Release", release_request(std::string(16, '\x01')), 10s);
    CHECK(r.st.ok());

    // A report riding on Assign (AssignRequest.report, what a failing-over client sends) is
    // checked like ReportFailure: another caller's lease refuses the whole call...
    const auto assign_reporting = [&](const std::string& lease) {
        v1::AssignRequest req;
        REQUIRE(req.mutable_report()->ParseFromString(report_request(a.worker(), lease)));
        return req.SerializeAsString();
    };
    r = co_await other.unary("Director.Assign", assign_reporting(second), 10s);
    CHECK(r.st.code == v1::PERMISSION_DENIED);
    // ...and the owner's is applied before the pick: its worker, the only one, is not assigned.
    r = co_await owner.unary("Director.Assign", assign_reporting(second), 10s);
    CHECK(r.st.code == v1::NO_WORKERS);
    owner.close();
    other.close();
}

}  // namespace

TEST_CASE("director: a lease belongs to the client it was assigned to", "[cluster][integration]") {
    cluster c;
    c.add_worker("lease-worker");
    REQUIRE(c.wait_alive_workers(1, 20s));
    net::asio::io_context ioc(1);
    run_coro(ioc, leases_belong_to_their_client({"127.0.0.1", port_of(c.director_addr())}), 60s);
    const auto refused = json_uint(c.stats_json(), "director.leases_refused");
    REQUIRE(refused);
    CHECK(*refused == 3);
}
