#include "app/push_pull_rpc.hpp"

#include "common/log.hpp"
#include "membership/member_proto.hpp"
#include "membership/swim_service.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/call_context.hpp"
#include "rpc/server.hpp"

#include <chrono>

namespace rpcnetd::app {

using namespace std::chrono_literals;
using membership::envelope_kind;

namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string text_of(const std::vector<std::uint8_t>& v) {
    return {v.begin(), v.end()};
}

}  // namespace

push_pull_rpc::push_pull_rpc(net::asio::any_io_executor ex, std::string name, std::string cluster,
                             std::shared_ptr<const membership::gossip_envelope> envelope,
                             std::function<std::shared_ptr<boost::asio::ssl::context>()> client_tls,
                             rpc::channel_options client_opts, bool joined)
    : ex_(ex), name_(std::move(name)), cluster_(std::move(cluster)), envelope_(std::move(envelope)),
      client_tls_(std::move(client_tls)), client_opts_(std::move(client_opts)),
      generation_(
          static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count())),
      joined_(joined) {
    if (envelope_) {
        receiver_.emplace(*envelope_, envelope_kind::push_pull);
    }
}

void push_pull_rpc::register_on(rpc::server& srv) {
    srv.add_unary("Membership.PushPull",
                  [this](rpc::call_context& c,
                         std::string r) -> net::awaitable<std::pair<rpc::status, std::string>> {
                      co_return handle(r, c.peer());
                  });
}

net::awaitable<std::optional<std::vector<membership::member>>>
push_pull_rpc::exchange(common::endpoint peer, std::vector<membership::member> state, bool join) {
    auto conn = co_await rpc::channel::connect(ex_, peer, client_tls_(), client_opts_);
    if (!conn) {
        note_exchange(peer, "unreachable: " + conn.error().message() +
                                " (is it running, and do our --ca and its certificate match?)");
        co_return std::nullopt;
    }
    rpc::channel c = *conn;
    v1::PushPullRequest req;
    membership::fill(*req.mutable_members(), state);
    req.set_cluster(cluster_);
    req.set_join(join);
    std::string body = req.SerializeAsString();
    const membership::gossip_stamp stamp{name_, generation_, next_sequence_++,
                                         membership::receiver_of(peer)};
    if (envelope_) {
        body = text_of(envelope_->seal(envelope_kind::push_pull, stamp, bytes_of(body)));
    }
    auto r = co_await c.unary("Membership.PushPull", body, 3s);
    c.close();
    std::optional<std::string> answer;
    if (r.st.ok() && !envelope_) {
        answer = std::move(r.response);
    } else if (r.st.ok()) {
        // Only the reply to this very request: its stamp echoes ours.
        auto opened = envelope_->open(envelope_kind::push_pull_reply, bytes_of(r.response));
        if (opened && opened->stamp == stamp) {
            answer = text_of(opened->payload);
        }
    }
    v1::PushPullResponse resp;
    if (!answer || !resp.ParseFromString(*answer)) {
        note_exchange(peer, exchange_failure(r.st, answer.has_value()));
        co_return std::nullopt;
    }
    note_exchange(peer, {});
    co_return membership::from_proto(resp.members());
}

std::pair<rpc::status, std::string> push_pull_rpc::handle(const std::string& request,
                                                          const std::string& peer) {
    v1::PushPullRequest req;
    std::optional<membership::gossip_stamp> stamp;
    bool parsed = false;
    membership::open_verdict verdict = membership::open_verdict::accepted;
    if (!receiver_) {
        parsed = req.ParseFromString(request);
    } else if (swim_ != nullptr) {
        auto outcome = receiver_->open(bytes_of(request), swim_->local_endpoint());
        verdict = outcome.verdict;
        if (outcome.message) {
            stamp = outcome.message->stamp;
            const auto& p = outcome.message->payload;
            parsed = req.ParseFromArray(p.data(), static_cast<int>(p.size()));
        }
    }
    if (swim_ == nullptr) {
        return {rpc::status{v1::UNAVAILABLE, "membership is not running yet"}, {}};
    }
    if (!parsed || req.cluster() != cluster_) {
        // Another key, another cluster, another receiver, a replay, or garbage: never merge it.
        ++refused_;
        const bool fresh_problem = verdict == membership::open_verdict::accepted ||
                                   verdict == membership::open_verdict::unauthenticated;
        common::logger("swim").warn("push-pull refused peer={} why={}", peer,
                                    fresh_problem
                                        ? "not sealed with our gossip key and cluster name"
                                        : membership::to_string(verdict));
        return {rpc::status{v1::UNAUTHENTICATED, "push-pull refused"}, {}};
    }
    if (swim_->paused()) {
        return {rpc::status{v1::UNAVAILABLE, "member is hung (simulated)"}, {}};
    }
    v1::PushPullResponse resp;
    membership::fill(*resp.mutable_members(),
                     swim_->handle_push_pull(membership::from_proto(req.members())));
    std::string body = resp.SerializeAsString();
    if (envelope_) {
        body = text_of(envelope_->seal(envelope_kind::push_pull_reply, *stamp, bytes_of(body)));
    }
    return {rpc::status{}, std::move(body)};
}

std::string push_pull_rpc::exchange_failure(const rpc::status& st, bool opened) {
    switch (st.code) {
    case v1::OK:
        return opened ? "malformed answer"
                      : "its answer is not sealed with our gossip key and cluster name: the "
                        "gossip key (--gossip-key) or the cluster name (--cluster) does not match";
    case v1::PERMISSION_DENIED:
        return "refused: " + st.to_string() +
               " (our certificate's role, its OU, must be director or worker)";
    case v1::UNAUTHENTICATED:
        return "refused: " + st.to_string() +
               " (the gossip key (--gossip-key) or the cluster name (--cluster) does not match)";
    default:
        return "failed: " + st.to_string();
    }
}

// Once per change per peer: a seed that stays unreachable logs one warning, not one per retry.
void push_pull_rpc::note_exchange(const common::endpoint& peer, const std::string& problem) {
    auto& last = exchange_problems_[peer.to_string()];
    if (problem.empty()) {
        joined_ = true;
        if (!last.empty()) {
            common::logger("swim").info("membership exchange works again peer={}",
                                        peer.to_string());
        }
    } else if (problem != last) {
        common::logger("swim").warn("cannot exchange membership with peer={}, not joined "
                                    "through it: {}",
                                    peer.to_string(), problem);
    }
    last = problem;
}

}  // namespace rpcnetd::app
