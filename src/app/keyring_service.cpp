#include "app/keyring_service.hpp"

#include "common/log.hpp"
#include "membership/swim_service.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/call_context.hpp"
#include "rpc/server.hpp"

#include <openssl/crypto.h>

#include <chrono>
#include <cstring>

namespace rpcnetd::app {

using membership::envelope_kind;
using membership::gossip_cipher;
using membership::gossip_envelope;

namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string seal_with(const gossip_cipher::key& k, const std::string& cluster, envelope_kind kind,
                      const membership::gossip_stamp& stamp, const std::string& plain) {
    const auto sealed = gossip_envelope::seal_with(k, cluster, kind, stamp, bytes_of(plain));
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

keyring_service::keyring_service(std::shared_ptr<const gossip_envelope> envelope,
                                 std::string node_name)
    : envelope_(std::move(envelope)), node_name_(std::move(node_name)),
      receiver_(*envelope_, envelope_kind::keyring, 1024) {}

void keyring_service::register_on(rpc::server& srv) {
    for (auto op : {keyring_op::install, keyring_op::use, keyring_op::remove, keyring_op::list}) {
        srv.add_unary(keyring_method(op), [this, op](rpc::call_context& c, std::string r) {
            return serve(op, c, std::move(r));
        });
    }
}

net::awaitable<std::pair<rpc::status, std::string>>
keyring_service::serve(keyring_op op, rpc::call_context& ctx, std::string request) {
    if (swim_ == nullptr) {
        co_return std::pair{rpc::status{v1::UNAVAILABLE, "membership is not running yet"},
                            std::string{}};
    }
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    co_return handle(op, request, ctx.peer(), swim_->local_endpoint(),
                     static_cast<std::uint64_t>(now));
}

std::pair<rpc::status, std::string>
keyring_service::handle(keyring_op op, const std::string& sealed_request, const std::string& peer,
                        const common::endpoint& self, std::uint64_t now_unix_us) {
    auto log = common::logger("swim");
    auto& cipher = envelope_->cipher();
    const auto& cluster = envelope_->cluster();
    // The key that authorizes this call (and seals the answer): the primary, at arrival.
    gossip_cipher::key authority = cipher.primary();
    const key_wipe wipe_authority{authority};
    auto outcome = receiver_.open(bytes_of(sealed_request), self, now_unix_us, true);
    v1::KeyringRequest req;
    const request_guard wipe{req};
    bool parsed = false;
    if (outcome.message) {
        auto& plain = outcome.message->payload;
        parsed = req.ParseFromArray(plain.data(), static_cast<int>(plain.size()));
        OPENSSL_cleanse(plain.data(), plain.size());
    }
    if (outcome.verdict != membership::open_verdict::accepted &&
        outcome.verdict != membership::open_verdict::unauthenticated) {
        ++replays_refused_;
        log.warn("keyring {} refused peer={} why={}", keyring_verb(op), peer,
                 membership::to_string(outcome.verdict));
        return {rpc::status{v1::UNAUTHENTICATED,
                            std::string("keyring request refused: ") +
                                membership::to_string(outcome.verdict) +
                                " (sealed for another member, replayed, or its clock is more than "
                                "300 s from ours)"},
                {}};
    }
    if (!parsed || req.cluster() != cluster) {
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
        result = op == keyring_op::install ? cipher.install(k)
                 : op == keyring_op::use   ? cipher.use(k)
                                           : cipher.remove(k);
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
    for (const auto& f : cipher.fingerprints()) {
        auto* info = resp.add_keys();
        info->set_fingerprint(f);
        info->set_primary(first);
        first = false;
    }
    return {rpc::status{}, seal_with(authority, cluster, envelope_kind::keyring_reply,
                                     outcome.message->stamp, resp.SerializeAsString())};
}

membership::gossip_stamp keyring_service::request_stamp(const std::string& sender,
                                                        std::uint64_t now_unix_us,
                                                        std::uint64_t sequence,
                                                        const common::endpoint& to) {
    return {sender, now_unix_us, sequence, membership::receiver_of(to)};
}

std::string keyring_service::seal_request(const gossip_cipher::key& with,
                                          const std::string& cluster,
                                          const std::optional<gossip_cipher::key>& key,
                                          const membership::gossip_stamp& stamp) {
    v1::KeyringRequest req;
    req.set_cluster(cluster);
    if (key) {
        req.set_key(std::string(reinterpret_cast<const char*>(key->data()), key->size()));
    }
    std::string plain = req.SerializeAsString();
    auto sealed = seal_with(with, cluster, envelope_kind::keyring, stamp, plain);
    OPENSSL_cleanse(plain.data(), plain.size());
    const request_guard wipe{req};
    return sealed;
}

std::optional<std::string> keyring_service::open_response(const gossip_cipher::key& with,
                                                          const std::string& cluster,
                                                          const std::string& sealed,
                                                          const membership::gossip_stamp& stamp) {
    auto opened =
        gossip_envelope::open_with(with, cluster, envelope_kind::keyring_reply, bytes_of(sealed));
    if (!opened || !(opened->stamp == stamp)) {
        return std::nullopt;
    }
    return std::string(opened->payload.begin(), opened->payload.end());
}

}  // namespace rpcnetd::app
