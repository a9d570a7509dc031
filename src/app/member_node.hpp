#pragma once
// What directors and workers share: one cluster member = the TLS RPC server and the SWIM gossip
// service on the same host:port, the gossip key, push-pull over RPC (Membership.PushPull), and
// the NodeJoined/NodeFailed/... lines users read. Director and worker add their own methods to
// server() before start().
//
// Lives on one io_context thread; every method is called there.
#include "cli/options.hpp"
#include "membership/member.hpp"
#include "net/asio.hpp"
#include "rpc/client.hpp"
#include "rpc/server.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rpcnetd::membership {
class swim_service;
class gossip_cipher;
} // namespace rpcnetd::membership

namespace rpcnetd::app {

class keyring_service;

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
    const rpc::client_options& client_options() const { return client_opts_; }
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

    // Graceful: stop accepting calls, gossip left, let running calls finish up to drain, stop.
    net::awaitable<void> leave_and_stop(std::chrono::milliseconds drain);

private:
    net::awaitable<std::optional<std::vector<membership::member>>> push_pull(
        common::endpoint peer, std::vector<membership::member> state);
    net::awaitable<std::pair<rpc::status, std::string>> serve_push_pull(rpc::call_context& ctx,
                                                                        std::string request);

    // Gossip-key envelope for push-pull bodies; identity when no key is configured.
    net::awaitable<std::pair<rpc::status, std::string>> serve_stats(rpc::call_context& ctx,
                                                                    std::string request);
    void arm_sighup();

    std::string seal_body(const std::string& plain) const;
    std::optional<std::string> open_body(const std::string& sealed) const;

    net::asio::any_io_executor ex_;
    cli::common_config common_;
    cli::member_config member_;
    membership::tag_map tags_;
    event_handler on_event_;
    std::function<void(stat_list&)> extra_stats_;
    std::uint64_t push_pulls_refused_ = 0; // gossip.push_pulls_refused
    std::shared_ptr<boost::asio::ssl::context> client_tls_;
    rpc::client_options client_opts_;
    std::unique_ptr<keyring_service> keyring_;  // Keys.*; only with a gossip key
    std::unique_ptr<rpc::server> server_;
    std::shared_ptr<membership::gossip_cipher> cipher_;  // null: gossip unauthenticated
    std::unique_ptr<membership::swim_service> swim_;
    std::function<void(std::shared_ptr<boost::asio::ssl::context>)> on_tls_reload_;
    net::asio::signal_set sighup_;
};

// "🟢 NodeJoined node=worker-a addr=127.0.0.1:62001 incarnation=7" etc.; the lines tests and
// people read. Kinds: NodeJoined, NodeUpdated, NodeSuspect, NodeFailed, NodeLeft, NodeRecovered.
std::string describe_event(const membership::member_event& e);

} // namespace rpcnetd::app
