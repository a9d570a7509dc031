#pragma once
// The gossip keyring at runtime (issue #5): Keys.Install, Keys.Use, Keys.Remove and Keys.List on
// every member's RPC server, driven by `rpcnetd keys` (app/keys.cpp) to rotate the cluster key
// with no failure declarations: install the new key everywhere (it opens), use it everywhere
// (it seals; the old key still opens datagrams in flight), remove the old key everywhere.
//
// Authorization: the request body must be sealed with the member's current PRIMARY gossip key
// and name its cluster (KeyringRequest, rpcnetd.proto), exactly like push-pull bodies but without
// falling back to secondary keys: whoever changes the ring must already hold the key the cluster
// seals with. This works with or without mTLS (another item of issue #5); TLS itself keeps the
// sealed bodies from being captured and replayed on the wire. The response is sealed with the
// same key as the request, so after Keys.Use the caller can still read it with the key it sent.
//
// Lives on the member's io thread, like the cipher it mutates (shared with the gossip shell,
// which seals with the new primary from the next datagram on). Keys are never logged; only
// fingerprints (gossip_cipher::fingerprint).
#include "membership/gossip_cipher.hpp"
#include "net/asio.hpp"
#include "rpc/status.hpp"

#include <memory>
#include <optional>
#include <string>
#include <utility>

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
    keyring_service(std::shared_ptr<membership::gossip_cipher> cipher, std::string cluster,
                    std::string node_name);

    // Registers the four methods; call before srv.start(). The service must outlive srv.stop().
    void register_on(rpc::server& srv);

    // One call, synchronously: opens the sealed request, applies op, returns the status and the
    // sealed KeyringResponse (empty unless OK). Never throws on bad input.
    std::pair<rpc::status, std::string> handle(keyring_op op, const std::string& sealed_request,
                                               const std::string& peer);

    // Client side: a KeyringRequest for `cluster` carrying `key` (nullopt: Keys.List), sealed
    // with `with` (the caller's idea of the member's primary key).
    static std::string seal_request(const membership::gossip_cipher::key& with,
                                    const std::string& cluster,
                                    const std::optional<membership::gossip_cipher::key>& key);
    // Opens a response sealed with `with`; nullopt when it does not authenticate.
    static std::optional<std::string> open_response(const membership::gossip_cipher::key& with,
                                                    const std::string& cluster,
                                                    const std::string& sealed);

private:
    net::awaitable<std::pair<rpc::status, std::string>> serve(keyring_op op, rpc::call_context& ctx,
                                                              std::string request);

    std::shared_ptr<membership::gossip_cipher> cipher_;
    std::string cluster_;
    std::string node_name_;
};

}  // namespace rpcnetd::app
