#pragma once
// Push-pull over the RPC port (issue #12 item 2): the one file that owns Membership.PushPull.
// Client side: membership::push_pull_transport, given to swim_service at construction. Server
// side: registered on the member's RPC server, hands the caller's state to
// swim_service::handle_push_pull (attach()).
//
// With a gossip key both bodies are sealed by membership::gossip_envelope: the request as kind
// push_pull with a stamp (our name, generation, sequence, the address dialed) that the receiver
// checks against its replay window for us and its own address; the reply as kind
// push_pull_reply echoing the request's stamp, which the caller checks. Without a key the bodies
// are the bare protobuf messages.
//
// Lives on the member's io thread, like swim_service.
#include "common/endpoint.hpp"
#include "membership/gossip_envelope.hpp"
#include "membership/member.hpp"
#include "membership/push_pull_transport.hpp"
#include "net/asio.hpp"
#include "rpc/channel.hpp"
#include "rpc/status.hpp"

#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rpcnetd::rpc {
class server;
class call_context;
}  // namespace rpcnetd::rpc

namespace rpcnetd::membership {
class swim_service;
}

namespace rpcnetd::app {

class push_pull_rpc final : public membership::push_pull_transport {
public:
    // `client_tls` is asked for at every exchange (it changes on SIGHUP). `envelope`: null
    // without a gossip key.
    push_pull_rpc(net::asio::any_io_executor ex, std::string name, std::string cluster,
                  std::shared_ptr<const membership::gossip_envelope> envelope,
                  std::function<std::shared_ptr<boost::asio::ssl::context>()> client_tls,
                  rpc::channel_options client_opts, bool joined);

    // Registers Membership.PushPull on srv (before srv.start()); exchanges are answered by
    // swim once attach()ed (UNAVAILABLE before).
    void register_on(rpc::server& srv);
    void attach(membership::swim_service& swim) { swim_ = &swim; }

    net::awaitable<std::optional<std::vector<membership::member>>>
    exchange(common::endpoint to, std::vector<membership::member> local, bool join) override;

    // Server side without a network: the status and the (sealed) response body.
    std::pair<rpc::status, std::string> handle(const std::string& request, const std::string& peer);

    // True once an exchange we started succeeded (or from the start without seeds).
    bool joined() const { return joined_; }
    std::uint64_t refused() const { return refused_; }  // gossip.push_pulls_refused

private:
    void note_exchange(const common::endpoint& peer, const std::string& problem);
    static std::string exchange_failure(const rpc::status& st, bool opened);

    net::asio::any_io_executor ex_;
    std::string name_;
    std::string cluster_;
    std::shared_ptr<const membership::gossip_envelope> envelope_;
    std::optional<membership::envelope_receiver> receiver_;  // with an envelope
    std::function<std::shared_ptr<boost::asio::ssl::context>()> client_tls_;
    rpc::channel_options client_opts_;
    membership::swim_service* swim_ = nullptr;
    std::uint64_t generation_ = 0;  // unix microseconds at construction
    std::uint64_t next_sequence_ = 1;
    bool joined_ = false;
    std::uint64_t refused_ = 0;
    std::map<std::string, std::string> exchange_problems_;  // peer -> last problem ("" = fine)
};

}  // namespace rpcnetd::app
