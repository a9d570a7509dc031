#include "app/member_node.hpp"

#include "app/member_printer.hpp"

#include "app/keyring_service.hpp"
#include "app/push_pull_rpc.hpp"
#include "common/fd_limit.hpp"
#include "common/log.hpp"
#include "common/safe_text.hpp"
#include "common/tags.hpp"
#include "membership/gossip_cipher.hpp"
#include "membership/gossip_envelope.hpp"
#include "membership/member_proto.hpp"
#include "membership/swim_service.hpp"
#include "rpc/call_context.hpp"
#include "rpc/tls_context.hpp"

#include <boost/asio/ip/address.hpp>

#include <fmt/format.h>

namespace rpcnetd::app {

using namespace std::chrono_literals;

namespace {

// SHA-256 of certs/test_cert.pem, the public development certificate of the source tree: its
// private key is published, so anyone can impersonate a member that uses it.
constexpr std::string_view dev_cert_fingerprint =
    "03411e0b63a786f1c5bcd66f6a48fb81fb478349dc8eaa52f07e64d69e2f6ac4";

bool loopback(const std::string& host) {
    if (host == "localhost") {
        return true;
    }
    net::error_code ec;
    const auto ip = boost::asio::ip::make_address(host, ec);
    return !ec && ip.is_loopback();
}

void warn_dev_cert(boost::asio::ssl::context& tls, const common::endpoint& addr) {
    if (exposes_dev_cert(rpc::tls_context::own_fingerprint(tls), addr)) {
        common::logger("rpc").warn(
            "the public development certificate is serving addr={}: anyone can impersonate this "
            "member; make a cluster CA and node certificates with scripts/gen-certs.sh",
            addr.to_string());
    }
}

// The SWIM service's counters as "gossip.<name>" (member_node::stats).
void add_gossip_counters(member_node::stat_list& out, const membership::swim_counters& g) {
    const std::pair<const char*, std::uint64_t> gossip[] = {
        {"datagrams_received", g.datagrams_received},
        {"datagrams_rejected", g.datagrams_rejected},
        {"datagrams_replayed", g.datagrams_replayed},
        {"datagrams_wrong_receiver", g.datagrams_wrong_receiver},
        {"datagrams_sent", g.datagrams_sent},
        {"bytes_received", g.bytes_received},
        {"bytes_sent", g.bytes_sent},
        {"misdirected", g.misdirected},
        {"probes", g.probes},
        {"phi_probes", g.phi_probes},
        {"requested_probes", g.requested_probes},
        {"indirect_probes", g.indirect_probes},
        {"nacks_received", g.nacks_received},
        {"probe_failures", g.probe_failures},
        {"second_chances", g.second_chances},
        {"suspicions", g.suspicions},
        {"refutations", g.refutations},
        {"failures_declared", g.failures_declared},
        {"push_pulls", g.push_pulls},
        {"datagrams_dropped_by_kernel", g.datagrams_dropped_by_kernel},
        {"replies_limited", g.replies_limited},
        {"push_pull_members_dropped", g.push_pull_members_dropped},
    };
    for (const auto& [name, v] : gossip) {
        out.emplace_back(std::string("gossip.") + name, v);
    }
}

}  // namespace

member_node::member_node(net::asio::any_io_executor ex, const cli::common_config& common,
                         const cli::member_config& member, event_handler on_event)
    : ex_(ex), common_(common), member_(member), tags_(member.tags), on_event_(std::move(on_event)),
      sighup_(ex, SIGHUP), tasks_(ex, "member") {
    auto server_tls = rpc::tls_context::make_server(common.tls);
    warn_dev_cert(*server_tls, member.addr);
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
    if (auto why = common::fd_shortfall(common::current_fd_limits(), so.lim.max_connections)) {
        common::logger("rpc").warn("{}", *why);
    }
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
        envelope_ = std::make_shared<membership::gossip_envelope>(cipher_, common.cluster);
        keyring_ = std::make_unique<keyring_service>(envelope_, member.name);
        keyring_->register_on(*server_);
    }
    opts.envelope = envelope_;
    push_pull_ = std::make_unique<push_pull_rpc>(
        ex, member.name, common.cluster, envelope_, [this] { return client_tls_; }, client_opts_,
        member.join.empty());
    push_pull_->register_on(*server_);
    swim_ = std::make_unique<membership::swim_service>(
        ex, opts, *push_pull_, [this](const membership::member_event& e) { on_swim_event(e); });
    push_pull_->attach(*swim_);
    if (keyring_) {
        keyring_->attach(*swim_);
    }
    swim_->check_self_fits();  // before anything listens or logs: a usage error, exit 2
    if (!cipher_) {
        common::logger("swim").warn(
            "gossip is unauthenticated: pass --gossip-key FILE (scripts/gen-certs.sh "
            "--gossip-key) so forged datagrams are dropped");
    }
    swim_->set_probe_rtt_observer([this](common::duration rtt) {
        probe_rtt_.observe(std::chrono::duration<double>(rtt).count());
    });
}

std::size_t member_node::queued_gossip() const {
    return swim_->queued_broadcasts();
}

bool member_node::accepting() const {
    return server_->accepting();
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
    out.emplace_back("rpc.request_bytes_held", server_->held_request_bytes());
    out.emplace_back("gossip.joined", joined() ? 1 : 0);  // 1 once a membership exchange succeeded
    add_gossip_counters(out, swim_->counters());
    // This member's own view of the others (itself excluded), by state: lets a test or an
    // operator ask any member, not only a director, whether it sees everyone alive.
    std::uint64_t by_state[4] = {0, 0, 0, 0};
    for (const auto& m : members()) {
        if (m.name != member_.name) {
            ++by_state[static_cast<int>(m.status) & 3];
        }
    }
    out.emplace_back("members.alive", by_state[static_cast<int>(membership::member_status::alive)]);
    out.emplace_back("members.suspect",
                     by_state[static_cast<int>(membership::member_status::suspect)]);
    out.emplace_back("members.failed",
                     by_state[static_cast<int>(membership::member_status::failed)]);
    out.emplace_back("members.left", by_state[static_cast<int>(membership::member_status::left)]);
    out.emplace_back("gossip.push_pulls_refused", push_pull_->refused());
    if (keyring_) {
        out.emplace_back("gossip.keyring_requests_refused", keyring_->replays_refused());
    }
    if (cipher_) {
        // Against the nonce budget of each key (2^32 seals cluster-wide; gossip_cipher.hpp).
        for (const auto& [fingerprint, seals] : cipher_->seal_counts()) {
            out.emplace_back("gossip.seals." + fingerprint, seals);
        }
    }
    if (extra_stats_) {
        extra_stats_(out);
    }
    return out;
}

net::awaitable<std::pair<rpc::status, std::string>> member_node::serve_stats(rpc::call_context& ctx,
                                                                             std::string request) {
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

std::vector<membership::member> member_node::members() const {
    return swim_->members();
}

void member_node::set_tags(membership::tag_map tags) {
    tags_ = tags;
    swim_->set_tags(std::move(tags));
}

void member_node::probe_now(const std::string& name) {
    swim_->probe_now(name);
}

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
    tasks_.cancel();
    co_await tasks_.wait();
    if (!refusal_) {
        // Gossip "left" first so the others report NodeLeft (never NodeFailed), then drain.
        // Never when refused: "left" under our name would take it from its live holder.
        co_await swim_->leave(std::min<common::duration>(drain, 2s));
    }
    co_await server_->stop(refusal_ ? 0ms : drain);
    co_await swim_->stop();
}

void member_node::on_swim_event(const membership::member_event& e) {
    if (e.kind == membership::member_event_kind::conflict && e.newcomer &&
        e.snapshot.name == member_.name && !refusal_) {
        tasks_.spawn(check_name_holder(e.claimant));
    }
    if (on_event_) {
        on_event_(e);
    }
}

net::awaitable<void> member_node::check_name_holder(common::endpoint holder) {
    auto& log = common::logger("swim");
    std::optional<std::string> holder_name;
    if (auto conn = co_await rpc::channel::connect(ex_, holder, client_tls_, client_opts_)) {
        rpc::channel c = *conn;
        auto r = co_await c.unary("Node.Stats", std::string{}, 3s);
        c.close();
        v1::StatsResponse resp;
        if (r.st.ok() && resp.ParseFromString(r.response)) {
            holder_name = resp.node();
        }
    }
    if (holder_name != member_.name) {
        log.warn("name node={} was held by addr={}, which does not answer under that name: "
                 "taking the name over",
                 member_.name, holder.to_string());
        co_return;
    }
    if (refusal_) {
        co_return;
    }
    refusal_ = fmt::format("name '{}' is already held by the live member at {}; start this one "
                           "with another name",
                           member_.name, holder.to_string());
    log.error("name conflict node={} held by live addr={}, we are addr={}: refusing to run",
              member_.name, holder.to_string(), member_.addr.to_string());
    if (on_refused_) {
        on_refused_();
    }
}

bool member_node::joined() const {
    return push_pull_->joined();
}

bool exposes_dev_cert(std::string_view fingerprint, const common::endpoint& addr) {
    return fingerprint == dev_cert_fingerprint && !loopback(addr.host);
}

std::string describe_event(const membership::member_event& e) {
    if (e.kind == membership::member_event_kind::conflict) {
        return fmt::format("{} node={} addrs={},{}", event_label("conflict"), e.snapshot.name,
                           e.snapshot.addr.to_string(), e.claimant.to_string());
    }
    std::string role;
    if (auto it = e.snapshot.tags.find(std::string(common::role_tag));
        it != e.snapshot.tags.end()) {
        role = " role=" + common::escape_text(it->second);
    }
    return fmt::format("{} node={} addr={} incarnation={}{}",
                       event_label(membership::to_string(e.kind)),
                       common::escape_text(e.snapshot.name), e.snapshot.addr.to_string(),
                       e.snapshot.incarnation, role);
}

}  // namespace rpcnetd::app
