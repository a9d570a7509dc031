// rpcnetd members / rpcnetd events: operator views of the director (Director.Members, and the
// Director.Events server stream); rpcnetd stats: Node.Stats of any member.
#include "app/admin/admin_connection.hpp"
#include "app/member_printer.hpp"
#include "app/modes.hpp"
#include "app/shutdown.hpp"
#include "common/json.hpp"
#include "common/safe_text.hpp"
#include "net/asio.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/channel.hpp"
#include "rpc/tls_context.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <iostream>

namespace rpcnetd::app {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view node_name = "rpcnetd-admin";

// `members --director WORKER`: a worker has no member table to show, but it can say whether it
// has joined (gossip.joined of Node.Stats), which is what its operator wants to know first.
net::awaitable<int> member_joined(rpc::channel& c, const cli::members_config& cfg) {
    auto r = co_await c.unary("Node.Stats", v1::StatsRequest().SerializeAsString(), 5s);
    c.close();
    v1::StatsResponse resp;
    if (!r.st.ok() || !resp.ParseFromString(r.response)) {
        std::cerr << "rpcnetd: " << cfg.director.to_string()
                  << " is not a director and Node.Stats failed: " << r.st.to_string() << "\n";
        co_return 1;
    }
    bool joined = false;
    for (const auto& k : resp.counters()) {
        joined = joined || (k.name() == "gossip.joined" && k.value() != 0);
    }
    if (cfg.output == cli::table_output::json) {
        boost::json::object doc;
        doc["node"] = common::valid_utf8_or_replaced(resp.node());
        doc["director"] = false;
        doc["joined"] = joined;
        std::cout << boost::json::serialize(doc) << "\n";
    } else {
        std::cout << fmt::format("{} is a member, not a director: joined {}\n",
                                 common::escape_text(resp.node()),
                                 joined ? "yes" : "no (its log says why)");
    }
    co_return joined ? 0 : 1;
}

net::awaitable<std::optional<rpc::channel>> connect_director(common::endpoint director,
                                                             const cli::common_config& common) {
    return connect_member(director, common, node_name, "director ");
}

net::awaitable<int> members_once(const cli::members_config& cfg) {
    auto conn = co_await connect_director(cfg.director, cfg.common);
    if (!conn) {
        co_return 1;
    }
    rpc::channel c = *conn;
    auto r = co_await c.unary("Director.Members", v1::MembersRequest().SerializeAsString(), 5s);
    if (r.st.code == v1::UNIMPLEMENTED) {
        co_return co_await member_joined(c, cfg);  // --director named a worker
    }
    c.close();
    v1::MembersResponse resp;
    if (!parse_answer("Director.Members", r, resp)) {
        co_return 1;
    }
    std::cout << (cfg.output == cli::table_output::json ? members_json(resp) : members_table(resp));
    co_return 0;
}

net::awaitable<int> follow_events(const cli::events_config& cfg) {
    auto conn = co_await connect_director(cfg.director, cfg.common);
    if (!conn) {
        co_return 1;
    }
    rpc::channel c = *conn;
    v1::EventsRequest req;
    req.set_replay(cfg.replay);
    auto stream = co_await c.open_stream("Director.Events", req.SerializeAsString());
    for (;;) {
        // Keep-alive pings run underneath; the long idle timeout only bounds a silent director.
        auto item = co_await stream.next(std::chrono::hours(24));
        if (item.what == rpc::stream_item::kind::message) {
            v1::ClusterEvent e;
            if (e.ParseFromString(item.message)) {
                std::cout << (cfg.output == cli::client_output::jsonl ? event_json(e)
                                                                      : event_text(e))
                          << std::endl;
            }
            continue;
        }
        if (item.what == rpc::stream_item::kind::timeout) {
            continue;
        }
        if (item.st.ok()) {
            co_return 0;
        }
        std::cerr << "rpcnetd: event stream ended: " << item.st.to_string() << "\n";
        co_return 1;
    }
}

net::awaitable<int> stats_once(const cli::stats_config& cfg) {
    auto conn = co_await connect_member(cfg.target, cfg.common, node_name);
    if (!conn) {
        co_return 1;
    }
    rpc::channel c = *conn;
    auto r = co_await c.unary("Node.Stats", v1::StatsRequest().SerializeAsString(), 5s);
    c.close();
    v1::StatsResponse resp;
    if (!parse_answer("Node.Stats", r, resp)) {
        co_return 1;
    }
    if (cfg.output == cli::stats_output::json) {
        // {"node":"worker-1","counters":{"rpc.handshake_timeouts":0,...}}
        common::json_object counters;
        for (const auto& k : resp.counters()) {
            counters.add(k.name(), static_cast<std::uint64_t>(k.value()));
        }
        std::cout << common::json_object().add("node", resp.node()).add("counters", counters).str()
                  << "\n";
    } else {
        std::cout << fmt::format("📈 Stats of {} ({})\n", common::escape_text(resp.node()),
                                 cfg.target.to_string());
        for (const auto& k : resp.counters()) {
            std::cout << fmt::format("  {:<28} {}\n", common::escape_text(k.name()), k.value());
        }
    }
    co_return 0;
}

net::awaitable<int> drain_once(const cli::drain_config& cfg) {
    auto conn = co_await connect_member(cfg.target, cfg.common, node_name);
    if (!conn) {
        co_return 1;
    }
    rpc::channel c = *conn;
    v1::DrainRequest req;
    req.set_drain(cfg.drain);
    req.set_handoff(cfg.handoff);
    auto r = co_await c.unary("Worker.Drain", req.SerializeAsString(), 5s);
    c.close();
    v1::DrainResponse resp;
    if (!parse_answer("Worker.Drain", r, resp)) {
        co_return 1;
    }
    if (!cfg.drain) {
        std::cout << fmt::format("✅ {} undrained: assignable again ({} running stream(s))\n",
                                 cfg.target.to_string(), resp.active_streams());
    } else if (cfg.handoff) {
        std::cout << fmt::format("🔀 {} draining: {} stream(s) handed off to other workers\n",
                                 cfg.target.to_string(), resp.handed_off());
    } else {
        std::cout << fmt::format("🚧 {} draining: no new jobs; {} running stream(s) finish\n",
                                 cfg.target.to_string(), resp.active_streams());
    }
    co_return 0;
}

template <typename Config>
int run_admin(const Config& cfg, net::awaitable<int> (*body)(const Config&)) {
    net::asio::io_context ioc(1);
    shutdown_signal sig(ioc.get_executor());
    int exit_code = 1;
    net::asio::co_spawn(ioc, sig.wait(), [&](const std::exception_ptr&, int signo) {
        if (signo != 0) {
            exit_code = 0;
            ioc.stop();
        }
    });
    net::asio::co_spawn(ioc, body(cfg), [&](const std::exception_ptr& e, int code) {
        exit_code = e ? 1 : code;
        sig.cancel();
    });
    ioc.run();
    return exit_code;
}

}  // namespace

int run_members(const cli::members_config& cfg) {
    return run_admin(cfg, &members_once);
}
int run_events(const cli::events_config& cfg) {
    return run_admin(cfg, &follow_events);
}
int run_stats(const cli::stats_config& cfg) {
    return run_admin(cfg, &stats_once);
}
int run_drain(const cli::drain_config& cfg) {
    return run_admin(cfg, &drain_once);
}

}  // namespace rpcnetd::app
