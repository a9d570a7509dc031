#include "app/keyring_service.hpp"

#include "common/log.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/call_context.hpp"
#include "rpc/server.hpp"

#include <openssl/crypto.h>

#include <cstring>

namespace rpcnetd::app {

using membership::gossip_cipher;

namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string seal_with(const gossip_cipher::key& k, const std::string& cluster,
                      const std::string& plain) {
    const gossip_cipher c(k);
    const auto sealed = c.seal(bytes_of(plain), cluster);
    return {sealed.begin(), sealed.end()};
}

struct key_wipe {
    gossip_cipher::key& k;
    ~key_wipe() { OPENSSL_cleanse(k.data(), k.size()); }
};

// Wipes the key bytes a parsed request holds once the call is done.
struct request_guard {
    v1::KeyringRequest& req;
    ~request_guard() {
        auto* k = req.mutable_key();
        OPENSSL_cleanse(k->data(), k->size());
    }
};

}  // namespace

const char* keyring_verb(keyring_op op) {
    switch (op) {
    case keyring_op::install:
        return "install";
    case keyring_op::use:
        return "use";
    case keyring_op::remove:
        return "remove";
    case keyring_op::list:
        return "list";
    }
    return "list";
}

const char* keyring_method(keyring_op op) {
    switch (op) {
    case keyring_op::install:
        return "Keys.Install";
    case keyring_op::use:
        return "Keys.Use";
    case keyring_op::remove:
        return "Keys.Remove";
    case keyring_op::list:
        return "Keys.List";
    }
    return "Keys.List";
}

keyring_service::keyring_service(std::shared_ptr<gossip_cipher> cipher, std::string cluster,
                                 std::string node_name)
    : cipher_(std::move(cipher)), cluster_(std::move(cluster)), node_name_(std::move(node_name)) {}

void keyring_service::register_on(rpc::server& srv) {
    for (auto op : {keyring_op::install, keyring_op::use, keyring_op::remove, keyring_op::list}) {
        srv.add_unary(keyring_method(op), [this, op](rpc::call_context& c, std::string r) {
            return serve(op, c, std::move(r));
        });
    }
}

net::awaitable<std::pair<rpc::status, std::string>>
keyring_service::serve(keyring_op op, rpc::call_context& ctx, std::string request) {
    co_return handle(op, request, ctx.peer());
}

std::pair<rpc::status, std::string>
keyring_service::handle(keyring_op op, const std::string& sealed_request, const std::string& peer) {
    auto log = common::logger("swim");
    // The key that authorizes this call (and seals the answer): the primary, at arrival.
    gossip_cipher::key authority = cipher_->primary();
    const key_wipe wipe_authority{authority};
    auto plain = cipher_->open_primary(bytes_of(sealed_request), cluster_);
    v1::KeyringRequest req;
    const request_guard wipe{req};
    const bool parsed = plain && req.ParseFromArray(plain->data(), static_cast<int>(plain->size()));
    if (plain) {
        OPENSSL_cleanse(plain->data(), plain->size());
    }
    if (!parsed || req.cluster() != cluster_) {
        log.warn("keyring {} refused peer={}: not sealed with our primary gossip key and cluster",
                 keyring_verb(op), peer);
        return {rpc::status{v1::UNAUTHENTICATED,
                            "keyring request must be sealed with the member's primary gossip "
                            "key and name its cluster"},
                {}};
    }
    gossip_cipher::ring_result result = gossip_cipher::ring_result::unchanged;
    std::string fp;
    if (op != keyring_op::list) {
        if (req.key().size() != gossip_cipher::key_size) {
            return {rpc::status{v1::INVALID_ARGUMENT, "key must be 32 bytes"}, {}};
        }
        gossip_cipher::key k{};
        std::memcpy(k.data(), req.key().data(), k.size());
        fp = gossip_cipher::fingerprint(k);
        result = op == keyring_op::install ? cipher_->install(k)
                 : op == keyring_op::use   ? cipher_->use(k)
                                           : cipher_->remove(k);
        OPENSSL_cleanse(k.data(), k.size());
    }
    switch (result) {
    case gossip_cipher::ring_result::not_found:
        return {rpc::status{v1::NOT_FOUND, "key " + fp + " is not installed"}, {}};
    case gossip_cipher::ring_result::is_primary:
        return {rpc::status{v1::INVALID_ARGUMENT,
                            "refused: key " + fp + " is the primary; use another key first"},
                {}};
    case gossip_cipher::ring_result::full:
        return {rpc::status{v1::RESOURCE_EXHAUSTED, "keyring is full (8 keys)"}, {}};
    case gossip_cipher::ring_result::done:
        log.info("keyring {} key={} node={} peer={}", keyring_verb(op), fp, node_name_, peer);
        break;
    case gossip_cipher::ring_result::unchanged:
        break;
    }
    v1::KeyringResponse resp;
    resp.set_changed(result == gossip_cipher::ring_result::done);
    bool first = true;
    for (const auto& f : cipher_->fingerprints()) {
        auto* info = resp.add_keys();
        info->set_fingerprint(f);
        info->set_primary(first);
        first = false;
    }
    return {rpc::status{}, seal_with(authority, cluster_, resp.SerializeAsString())};
}

std::string keyring_service::seal_request(const gossip_cipher::key& with,
                                          const std::string& cluster,
                                          const std::optional<gossip_cipher::key>& key) {
    v1::KeyringRequest req;
    req.set_cluster(cluster);
    if (key) {
        req.set_key(std::string(reinterpret_cast<const char*>(key->data()), key->size()));
    }
    std::string plain = req.SerializeAsString();
    auto sealed = seal_with(with, cluster, plain);
    OPENSSL_cleanse(plain.data(), plain.size());
    const request_guard wipe{req};
    return sealed;
}

std::optional<std::string> keyring_service::open_response(const gossip_cipher::key& with,
                                                          const std::string& cluster,
                                                          const std::string& sealed) {
    const gossip_cipher c(with);
    auto plain = c.open(bytes_of(sealed), cluster);
    if (!plain) {
        return std::nullopt;
    }
    return std::string(plain->begin(), plain->end());
}

}  // namespace rpcnetd::app
