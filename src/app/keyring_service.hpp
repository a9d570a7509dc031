#pragma once
// The gossip keyring at runtime (issue #5): Keys.Install, Keys.Use, Keys.Remove and Keys.List on
// every member's RPC server, driven by `rpcnetd keys` (app/admin/keys.cpp) to rotate the cluster
// key with no failure declarations: install the new key everywhere (it opens), use it everywhere
// (it seals; the old key still opens datagrams in flight), remove the old key everywhere.
//
// Authorization: the request body must be sealed (membership::gossip_envelope, kind keyring)
// with the member's current PRIMARY gossip key and name its cluster (KeyringRequest,
// rpcnetd.proto), without falling back to secondary keys: whoever changes the ring must already
// hold the key the cluster seals with. This works with or without mTLS (another item of issue #5).
// Freshness (issue #11 item 2): the request's stamp names the member's address (a request for
// one member is refused by the others), carries the caller's clock, which must be within
// gossip_envelope::keyring_freshness of ours, and (sender, generation, sequence) is accepted once:
// a captured Keys.Install replayed after Keys.Remove is refused (replayed or stale). The response
// is sealed with the same key as the request (kind keyring_reply, the request's stamp echoed), so
// after Keys.Use the caller can still read it with the key it sent, and only as the reply to its
// own request.
//
// Lives on the member's io thread, like the cipher it mutates (shared with the gossip shell,
// which seals with the new primary from the next datagram on). Keys are never logged; only
// fingerprints (gossip_cipher::fingerprint).
#include "common/endpoint.hpp"
#include "membership/gossip_cipher.hpp"
#include "membership/gossip_envelope.hpp"
#include "net/asio.hpp"
#include "rpc/status.hpp"

#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace rpcnetd::membership {
class swim_service;
}

namespace rpcnetd::rpc {
class server;
class call_context;
}  // namespace rpcnetd::rpc

namespace rpcnetd::app {

enum class keyring_op { install, use, remove, list };

// "Keys.Install" etc.
const char* keyring_method(keyring_op op);
// "install", "use", "remove", "list": the operation word of `rpcnetd keys` and of the logs.
const char* keyring_verb(keyring_op op);

class keyring_service {
public:
    keyring_service(std::shared_ptr<const membership::gossip_envelope> envelope,
                    std::string node_name);

    // Registers the four methods; call before srv.start(). The service must outlive srv.stop().
    void register_on(rpc::server& srv);
    // The member whose bound address requests must name (UNAVAILABLE before).
    void attach(const membership::swim_service& swim) { swim_ = &swim; }

    // One call, synchronously: opens the sealed request, checks it was sealed for `self` (the
    // address we bound), is fresh at `now_unix_us` and not seen before, applies op, returns the
    // status and the sealed KeyringResponse (empty unless OK). Never throws on bad input.
    std::pair<rpc::status, std::string> handle(keyring_op op, const std::string& sealed_request,
                                               const std::string& peer,
                                               const common::endpoint& self,
                                               std::uint64_t now_unix_us);

    // Client side: the stamp of a new request from `sender` to the member at `to`: the caller's
    // clock (unix microseconds) as generation, `sequence` growing per request.
    static membership::gossip_stamp request_stamp(const std::string& sender,
                                                  std::uint64_t now_unix_us, std::uint64_t sequence,
                                                  const common::endpoint& to);
    // A KeyringRequest for `cluster` carrying `key` (nullopt: Keys.List), sealed with `with`
    // (the caller's idea of the member's primary key) under `stamp`.
    static std::string seal_request(const membership::gossip_cipher::key& with,
                                    const std::string& cluster,
                                    const std::optional<membership::gossip_cipher::key>& key,
                                    const membership::gossip_stamp& stamp);
    // Opens the response to the request sealed under `stamp` with `with`; nullopt when it does
    // not authenticate or answers another request.
    static std::optional<std::string> open_response(const membership::gossip_cipher::key& with,
                                                    const std::string& cluster,
                                                    const std::string& sealed,
                                                    const membership::gossip_stamp& stamp);

    // Requests refused as replayed or stale (gossip.keyring_replays_refused).
    std::uint64_t replays_refused() const { return replays_refused_; }

private:
    net::awaitable<std::pair<rpc::status, std::string>> serve(keyring_op op, rpc::call_context& ctx,
                                                              std::string request);

    std::shared_ptr<const membership::gossip_envelope> envelope_;
    std::string node_name_;
    membership::envelope_receiver receiver_;
    const membership::swim_service* swim_ = nullptr;
    std::uint64_t replays_refused_ = 0;
};

}  // namespace rpcnetd::app
