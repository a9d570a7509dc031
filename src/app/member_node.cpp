#include "app/member_node.hpp"

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
      on_event_(std::move(on_event)) {
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

    membership::swim_service_options opts;
    opts.config = member.swim;
    opts.name = member.name;
    opts.addr = member.addr;
    opts.tags = tags_;
    opts.seeds = member.join;
    std::optional<membership::gossip_cipher> cipher;
    if (!common.gossip_key_file.empty()) {
        cipher.emplace(membership::gossip_cipher::load_key_file(common.gossip_key_file));
    }
    swim_ = std::make_unique<membership::swim_service>(ex, opts, on_event_);
    if (cipher) {
        auto shared = std::make_shared<membership::gossip_cipher>(std::move(*cipher));
        const std::string aad = common.cluster;
        swim_->set_envelope(
            [shared, aad](std::span<const std::uint8_t> plain) { return shared->seal(plain, aad); },
            [shared, aad](std::span<const std::uint8_t> sealed) {
                return shared->open(sealed, aad);
            },
            membership::gossip_cipher::overhead());
    } else {
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
    auto r = co_await c.unary("Membership.PushPull", req.SerializeAsString(), 3s);
    c.close();
    v1::PushPullResponse resp;
    if (!r.st.ok() || !resp.ParseFromString(r.response)) {
        common::logger("swim").debug("push-pull failed peer={} status={}", peer.to_string(),
                                     r.st.to_string());
        co_return std::nullopt;
    }
    co_return membership::from_proto(resp.members());
}

net::awaitable<std::pair<rpc::status, std::string>> member_node::serve_push_pull(
    rpc::call_context&, std::string request) {
    v1::PushPullRequest req;
    if (!req.ParseFromString(request)) {
        co_return std::pair{rpc::status{v1::INVALID_ARGUMENT, "malformed PushPullRequest"},
                            std::string{}};
    }
    if (swim_->paused()) {
        co_return std::pair{rpc::status{v1::UNAVAILABLE, "member is hung (simulated)"},
                            std::string{}};
    }
    v1::PushPullResponse resp;
    membership::fill(*resp.mutable_members(), swim_->handle_push_pull(membership::from_proto(req.members())));
    co_return std::pair{rpc::status{}, resp.SerializeAsString()};
}

std::string describe_event(const membership::member_event& e) {
    const char* icon = "ℹ️ ";
    const char* kind = "NodeUpdated";
    switch (e.kind) {
    case membership::member_event_kind::joined: icon = "🟢"; kind = "NodeJoined"; break;
    case membership::member_event_kind::updated: icon = "🔁"; kind = "NodeUpdated"; break;
    case membership::member_event_kind::suspect: icon = "🟡"; kind = "NodeSuspect"; break;
    case membership::member_event_kind::failed: icon = "🔴"; kind = "NodeFailed"; break;
    case membership::member_event_kind::left: icon = "👋"; kind = "NodeLeft"; break;
    case membership::member_event_kind::recovered: icon = "💚"; kind = "NodeRecovered"; break;
    }
    std::string role;
    if (auto it = e.snapshot.tags.find("role"); it != e.snapshot.tags.end()) {
        role = " role=" + it->second;
    }
    return fmt::format("{} {} node={} addr={} incarnation={}{}", icon, kind, e.snapshot.name,
                       e.snapshot.addr.to_string(), e.snapshot.incarnation, role);
}

} // namespace rpcnetd::app
