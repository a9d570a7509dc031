#pragma once
// What directors and workers share: one cluster member = the TLS RPC server and the SWIM gossip
// service on the same host:port, the gossip key, push-pull over RPC (app/push_pull_rpc.hpp), and
// the NodeJoined/NodeFailed/... lines users read. Director and worker add their own methods to
// server() before start().
//
// Lives on one io_context thread; every method is called there.
#include "cli/options.hpp"
#include "common/metrics.hpp"
#include "membership/member.hpp"
#include "net/asio.hpp"
#include "net/task_group.hpp"
#include "rpc/channel.hpp"
#include "rpc/server.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rpcnetd::membership {
class swim_service;
class gossip_cipher;
class gossip_envelope;
}  // namespace rpcnetd::membership

namespace rpcnetd::app {

class keyring_service;
class push_pull_rpc;

class member_node {
public:
    using event_handler = std::function<void(const membership::member_event&)>;

    // Builds TLS contexts (usage_error on bad certificate files) and loads the gossip key
    // (usage_error when unreadable or malformed). Nothing is bound yet.
    member_node(net::asio::any_io_executor ex, const cli::common_config& common,
                const cli::member_config& member, event_handler on_event);
    ~member_node();
    member_node(const member_node&) = delete;
    member_node& operator=(const member_node&) = delete;

    rpc::server& server() { return *server_; }
    std::shared_ptr<boost::asio::ssl::context> client_tls() const { return client_tls_; }
    const rpc::channel_options& channel_options() const { return client_opts_; }
    const std::string& name() const { return member_.name; }
    const common::endpoint& addr() const { return member_.addr; }

    // Binds TCP and UDP (runtime_failure naming the address when busy), starts gossip and joins
    // the seeds in the background (retried with back-off; the member serves meanwhile).
    void start();

    std::vector<membership::member> members() const;
    // Replaces our tags (role and label included); bumps the incarnation, gossiped.
    void set_tags(membership::tag_map tags);
    const membership::tag_map& tags() const { return tags_; }
    void probe_now(const std::string& name);
    // Simulated hang: gossip neither answers nor sends, new calls are refused. Leaving the hang
    // refutes any suspicion with a higher incarnation.
    void set_hung(bool hung);

    // Rebuilds the server and client TLS contexts from the --cert/--key/--ca files (SIGHUP).
    // New connections use them; live connections and streams keep theirs. A broken pair
    // (unreadable, mismatched, expired, not yet valid) is logged and the old contexts stay.
    // Returns true when the new pair was taken.
    bool reload_tls();
    // Called with the new client context after every successful reload_tls() (the director
    // hands it to its health checker).
    void on_tls_reload(std::function<void(std::shared_ptr<boost::asio::ssl::context>)> fn) {
        on_tls_reload_ = std::move(fn);
    }

    using stat_list = std::vector<std::pair<std::string, std::uint64_t>>;
    // Counters of the RPC server and gossip, as Node.Stats returns them ("rpc.<name>",
    // "gossip.<name>"), then whatever the mode adds through add_stats().
    stat_list stats() const;
    void add_stats(std::function<void(stat_list&)> fn) { extra_stats_ = std::move(fn); }
    // For /metrics: gossip updates waiting to be piggybacked, probe round trips (seconds),
    // whether the RPC server takes new calls.
    std::size_t queued_gossip() const;
    const common::metrics::histogram& probe_rtt() const { return probe_rtt_; }
    bool accepting() const;

    // True once a membership exchange (push-pull) with another member succeeded, or from the
    // start for a member without seeds. Node.Stats reports it as gossip.joined.
    bool joined() const;

    // Name conflicts (issue #14): when a seed we join holds our name for a live member at another
    // address, we ask that address (Node.Stats) who it is. If it answers with our name we are
    // refused: refusal() says so in one line and `fn` runs (the process then stops without
    // gossiping "left", which would take the name from its holder, and exits 1). No answer: the
    // holder is gone and we take the name over, as a restarted member does.
    void on_refused(std::function<void()> fn) { on_refused_ = std::move(fn); }
    const std::optional<std::string>& refusal() const { return refusal_; }

    // Graceful: stop accepting calls, gossip left, let running calls finish up to drain, stop.
    // After a refusal nothing is gossiped.
    net::awaitable<void> leave_and_stop(std::chrono::milliseconds drain);

private:
    net::awaitable<std::pair<rpc::status, std::string>> serve_stats(rpc::call_context& ctx,
                                                                    std::string request);
    void arm_sighup();
    void on_swim_event(const membership::member_event& e);
    net::awaitable<void> check_name_holder(common::endpoint holder);

    net::asio::any_io_executor ex_;
    cli::common_config common_;
    cli::member_config member_;
    membership::tag_map tags_;
    event_handler on_event_;
    std::function<void(stat_list&)> extra_stats_;
    common::metrics::histogram probe_rtt_{common::metrics::latency_buckets()};
    std::shared_ptr<boost::asio::ssl::context> client_tls_;
    rpc::channel_options client_opts_;
    std::unique_ptr<keyring_service> keyring_;  // Keys.*; only with a gossip key
    std::unique_ptr<push_pull_rpc> push_pull_;  // Membership.PushPull, both sides; outlives swim_
    std::unique_ptr<rpc::server> server_;
    std::shared_ptr<membership::gossip_cipher> cipher_;            // null: gossip unauthenticated
    std::shared_ptr<const membership::gossip_envelope> envelope_;  // null with cipher_
    std::unique_ptr<membership::swim_service> swim_;
    std::function<void(std::shared_ptr<boost::asio::ssl::context>)> on_tls_reload_;
    net::asio::signal_set sighup_;
    std::function<void()> on_refused_;
    std::optional<std::string> refusal_;
    net::task_group tasks_;  // last: name-holder checks
};

// "🟢 NodeJoined node=worker-a addr=127.0.0.1:62001 incarnation=7" etc.; the lines tests and
// people read. Kinds: NodeJoined, NodeUpdated, NodeSuspect, NodeFailed, NodeLeft, NodeRecovered.
std::string describe_event(const membership::member_event& e);

// True when `fingerprint` (rpc::tls_context::own_fingerprint) is the source tree's public
// development certificate (certs/test_cert.pem, whose private key is published) and `addr` is not
// a loopback address: the member then logs one warning at start.
bool exposes_dev_cert(std::string_view fingerprint, const common::endpoint& addr);

}  // namespace rpcnetd::app
