#include "app/member_node.hpp"

#include "app/member_printer.hpp"

#include "app/keyring_service.hpp"
#include "common/log.hpp"
#include "membership/gossip_cipher.hpp"
#include "membership/member_proto.hpp"
#include "membership/swim_service.hpp"
#include "rpc/call_context.hpp"
#include "rpc/tls_context.hpp"

#include <fmt/format.h>

namespace rpcnetd::app {

using namespace std::chrono_literals;

member_node::member_node(net::asio::any_io_executor ex, const cli::common_config& common,
                         const cli::member_config& member, event_handler on_event)
    : ex_(ex), common_(common), member_(member), tags_(member.tags),
      on_event_(std::move(on_event)), sighup_(ex, SIGHUP) {
    auto server_tls = rpc::tls_context::make_server(common.tls);
    client_tls_ = rpc::tls_context::make_client(common.tls);
    client_opts_.tls = common.tls;
    client_opts_.lim = member.limits;
    client_opts_.node_name = member.name;
    client_opts_.connect_timeout = 2s;

    rpc::server_options so;
    so.listen = member.addr;
    so.tls = common.tls;
    so.lim = member.limits;
    so.node_name = member.name;
    server_ = std::make_unique<rpc::server>(ex, so, server_tls);
    server_->add_unary("Membership.PushPull", [this](rpc::call_context& c, std::string r) {
        return serve_push_pull(c, std::move(r));
    });
    server_->add_unary("Node.Stats", [this](rpc::call_context& c, std::string r) {
        return serve_stats(c, std::move(r));
    });
    // With --require-client-cert only members may exchange membership state or manage keys.
    server_->allow_roles("Membership.PushPull", {"director", "worker"});
    server_->allow_roles("Keys.*", {"director", "worker"});

    membership::swim_service_options opts;
    opts.config = member.swim;
    opts.name = member.name;
    opts.addr = member.addr;
    opts.tags = tags_;
    opts.seeds = member.join;
    if (!common.gossip_key_file.empty()) {
        cipher_ = std::make_shared<membership::gossip_cipher>(
            membership::gossip_cipher::load_key_file(common.gossip_key_file));
    }
    swim_ = std::make_unique<membership::swim_service>(ex, opts, on_event_);
    if (cipher_) {
        keyring_ = std::make_unique<keyring_service>(cipher_, common.cluster, member.name);
        keyring_->register_on(*server_);
        auto shared = cipher_;
        const std::string aad = common.cluster;
        swim_->set_envelope(
            [shared, aad](std::span<const std::uint8_t> plain) { return shared->seal(plain, aad); },
            [shared, aad](std::span<const std::uint8_t> sealed) {
                return shared->open(sealed, aad);
            },
            membership::gossip_cipher::overhead());
    }
    swim_->check_self_fits();  // before anything listens or logs: a usage error, exit 2
    if (!cipher_) {
        common::logger("swim").warn(
            "gossip is unauthenticated: pass --gossip-key FILE (scripts/gen-certs.sh "
            "--gossip-key) so forged datagrams are dropped");
    }
    swim_->set_push_pull([this](common::endpoint to, std::vector<membership::member> local) {
        return push_pull(std::move(to), std::move(local));
    });
}

member_node::~member_node() = default;

void member_node::start() {
    server_->start();
    swim_->start();
    arm_sighup();
}

void member_node::arm_sighup() {
    // A plain completion handler (not a coroutine): it only touches `this` on success, and
    // leave_and_stop() / the destructor cancel the signal_set.
    sighup_.async_wait([this](const net::error_code& ec, int) {
        if (ec) {
            return;
        }
        reload_tls();
        arm_sighup();
    });
}

bool member_node::reload_tls() {
    auto& log = common::logger("rpc");
    try {
        // Small PEM files: read inline on the I/O thread (microseconds; SIGHUP is rare).
        auto server_tls = rpc::tls_context::make_server(common_.tls);
        auto client_tls = rpc::tls_context::make_client(common_.tls);
        const auto serial = rpc::tls_context::own_serial(*server_tls);
        server_->set_tls_context(std::move(server_tls));
        client_tls_ = std::move(client_tls);
        if (on_tls_reload_) {
            on_tls_reload_(client_tls_);
        }
        log.info("tls reloaded cert={} serial={}", common_.tls.cert_file, serial);
        return true;
    } catch (const std::exception& e) {
        log.error("tls reload rejected, keeping the previous certificate: {}", e.what());
        return false;
    }
}

member_node::stat_list member_node::stats() const {
    stat_list out;
    server_->counters().for_each([&](std::string_view name, std::uint64_t v) {
        out.emplace_back("rpc." + std::string(name), v);
    });
    out.emplace_back("rpc.connections_open", server_->connection_count());
    out.emplace_back("rpc.streams_open", server_->active_streams());
    const auto g = swim_->counters();
    const std::pair<const char*, std::uint64_t> gossip[] = {
        {"datagrams_received", g.datagrams_received}, {"datagrams_rejected", g.datagrams_rejected},
        {"datagrams_replayed", g.datagrams_replayed},
        {"datagrams_sent", g.datagrams_sent},         {"bytes_received", g.bytes_received},
        {"bytes_sent", g.bytes_sent},                 {"misdirected", g.misdirected},
        {"probes", g.probes},                         {"phi_probes", g.phi_probes},
        {"requested_probes", g.requested_probes},     {"indirect_probes", g.indirect_probes},
        {"nacks_received", g.nacks_received},         {"probe_failures", g.probe_failures},
        {"second_chances", g.second_chances},
        {"suspicions", g.suspicions},                 {"refutations", g.refutations},
        {"failures_declared", g.failures_declared},   {"push_pulls", g.push_pulls},
        {"datagrams_dropped_by_kernel", g.datagrams_dropped_by_kernel},
    };
    for (const auto& [name, v] : gossip) {
        out.emplace_back(std::string("gossip.") + name, v);
    }
    if (extra_stats_) {
        extra_stats_(out);
    }
    return out;
}

net::awaitable<std::pair<rpc::status, std::string>> member_node::serve_stats(
    rpc::call_context& ctx, std::string request) {
    (void)ctx;
    (void)request;
    v1::StatsResponse resp;
    resp.set_node(member_.name);
    for (const auto& [name, value] : stats()) {
        auto* c = resp.add_counters();
        c->set_name(name);
        c->set_value(value);
    }
    co_return std::pair{rpc::status{}, resp.SerializeAsString()};
}

std::vector<membership::member> member_node::members() const { return swim_->members(); }

void member_node::set_tags(membership::tag_map tags) {
    tags_ = tags;
    swim_->set_tags(std::move(tags));
}

void member_node::probe_now(const std::string& name) { swim_->probe_now(name); }

void member_node::set_hung(bool hung) {
    server_->set_accepting(!hung);
    swim_->set_paused(hung);
    if (!hung) {
        // Coming back: a fresh incarnation refutes whatever the others concluded meanwhile.
        swim_->set_tags(tags_);
    }
}

net::awaitable<void> member_node::leave_and_stop(std::chrono::milliseconds drain) {
    net::error_code ignored;
    sighup_.cancel(ignored);
    server_->set_accepting(false);
    // Gossip "left" first so the others report NodeLeft (never NodeFailed), then drain.
    co_await swim_->leave(std::min<common::duration>(drain, 2s));
    co_await server_->stop(drain);
    co_await swim_->stop();
}

net::awaitable<std::optional<std::vector<membership::member>>> member_node::push_pull(
    common::endpoint peer, std::vector<membership::member> state) {
    auto conn = co_await rpc::client::connect(ex_, peer, client_tls_, client_opts_);
    if (!conn) {
        common::logger("swim").debug("push-pull connect failed peer={} err={}", peer.to_string(),
                                     conn.error().message());
        co_return std::nullopt;
    }
    rpc::client c = *conn;
    v1::PushPullRequest req;
    membership::fill(*req.mutable_members(), state);
    req.set_cluster(common_.cluster);
    auto r = co_await c.unary("Membership.PushPull", seal_body(req.SerializeAsString()), 3s);
    c.close();
    v1::PushPullResponse resp;
    const auto body = r.st.ok() ? open_body(r.response) : std::nullopt;
    if (!body || !resp.ParseFromString(*body)) {
        common::logger("swim").debug("push-pull failed peer={} status={}", peer.to_string(),
                                     r.st.to_string());
        co_return std::nullopt;
    }
    co_return membership::from_proto(resp.members());
}

net::awaitable<std::pair<rpc::status, std::string>> member_node::serve_push_pull(
    rpc::call_context& ctx, std::string request) {
    v1::PushPullRequest req;
    const auto body = open_body(request);
    if (!body || !req.ParseFromString(*body) || req.cluster() != common_.cluster) {
        // Another key, another cluster, or garbage: never merge it.
        common::logger("swim").warn("push-pull refused peer={}: not sealed with our gossip key "
                                    "and cluster name",
                                    ctx.peer());
        co_return std::pair{rpc::status{v1::UNAUTHENTICATED, "push-pull refused"},
                            std::string{}};
    }
    if (swim_->paused()) {
        co_return std::pair{rpc::status{v1::UNAVAILABLE, "member is hung (simulated)"},
                            std::string{}};
    }
    v1::PushPullResponse resp;
    membership::fill(*resp.mutable_members(), swim_->handle_push_pull(membership::from_proto(req.members())));
    co_return std::pair{rpc::status{}, seal_body(resp.SerializeAsString())};
}

std::string member_node::seal_body(const std::string& plain) const {
    if (!cipher_) {
        return plain;
    }
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(plain.data());
    const auto sealed = cipher_->seal({bytes, plain.size()}, common_.cluster);
    return {sealed.begin(), sealed.end()};
}

std::optional<std::string> member_node::open_body(const std::string& sealed) const {
    if (!cipher_) {
        return sealed;
    }
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(sealed.data());
    auto plain = cipher_->open({bytes, sealed.size()}, common_.cluster);
    if (!plain) {
        return std::nullopt;
    }
    return std::string(plain->begin(), plain->end());
}

std::string describe_event(const membership::member_event& e) {
    std::string role;
    if (auto it = e.snapshot.tags.find("role"); it != e.snapshot.tags.end()) {
        role = " role=" + it->second;
    }
    return fmt::format("{} node={} addr={} incarnation={}{}",
                       event_label(membership::to_string(e.kind)), e.snapshot.name,
                       e.snapshot.addr.to_string(), e.snapshot.incarnation, role);
}

} // namespace rpcnetd::app
