// keyring_service::handle without a network: requests sealed with the primary key change the
// ring; anything else is refused and changes nothing.
#include "app/keyring_service.hpp"

#include "proto/rpcnetd.pb.h"

#include <catch2/catch.hpp>

using rpcnetd::app::keyring_op;
using rpcnetd::app::keyring_service;
using rpcnetd::membership::gossip_cipher;

namespace {

gossip_cipher::key key_of(std::uint8_t fill) {
    gossip_cipher::key k{};
    k.fill(fill);
    return k;
}

struct fixture {
    std::shared_ptr<gossip_cipher> cipher = std::make_shared<gossip_cipher>(key_of(1));
    keyring_service svc{cipher, "prod", "node-a"};

    rpcnetd::rpc::status call(keyring_op op, const gossip_cipher::key& sealed_with,
                              std::optional<gossip_cipher::key> k,
                              rpcnetd::v1::KeyringResponse* out = nullptr,
                              const std::string& cluster = "prod") {
        auto [st, body] =
            svc.handle(op, keyring_service::seal_request(sealed_with, cluster, k), "test");
        if (st.ok() && out != nullptr) {
            auto plain = keyring_service::open_response(sealed_with, "prod", body);
            REQUIRE(plain);
            REQUIRE(out->ParseFromString(*plain));
        }
        return st;
    }
};

}  // namespace

TEST_CASE("keyring_service: a full rotation through the RPC handlers", "[keys]") {
    fixture f;
    const auto a = key_of(1);
    const auto b = key_of(2);
    rpcnetd::v1::KeyringResponse r;
    CHECK(f.call(keyring_op::install, a, b, &r).ok());
    CHECK(r.changed());
    REQUIRE(r.keys_size() == 2);
    CHECK(r.keys(0).primary());
    CHECK(r.keys(0).fingerprint() == gossip_cipher::fingerprint(a));
    CHECK(r.keys(1).fingerprint() == gossip_cipher::fingerprint(b));

    // use: sealed with the old primary; the answer too, so the caller can read it.
    CHECK(f.call(keyring_op::use, a, b, &r).ok());
    CHECK(r.keys(0).fingerprint() == gossip_cipher::fingerprint(b));
    CHECK(r.keys(0).primary());
    // Now only b authorizes: a is installed but not primary.
    CHECK(f.call(keyring_op::list, a, std::nullopt).code == rpcnetd::v1::UNAUTHENTICATED);
    CHECK(f.call(keyring_op::remove, b, b).code == rpcnetd::v1::INVALID_ARGUMENT);  // primary
    CHECK(f.call(keyring_op::remove, b, a, &r).ok());
    REQUIRE(r.keys_size() == 1);
    CHECK(r.keys(0).fingerprint() == gossip_cipher::fingerprint(b));
    CHECK(f.cipher->key_count() == 1);
    // Idempotent: repeating is fine and says so.
    CHECK(f.call(keyring_op::remove, b, a, &r).ok());
    CHECK_FALSE(r.changed());
}

TEST_CASE("keyring_service: unauthenticated or malformed requests change nothing", "[keys]") {
    fixture f;
    const auto a = key_of(1);
    const auto stranger = key_of(9);
    CHECK(f.call(keyring_op::install, stranger, key_of(3)).code == rpcnetd::v1::UNAUTHENTICATED);
    CHECK(f.call(keyring_op::install, a, key_of(3), nullptr, "staging").code ==
          rpcnetd::v1::UNAUTHENTICATED);
    CHECK(f.svc.handle(keyring_op::install, "garbage", "test").first.code ==
          rpcnetd::v1::UNAUTHENTICATED);
    CHECK(f.call(keyring_op::use, a, key_of(4)).code == rpcnetd::v1::NOT_FOUND);
    CHECK(f.call(keyring_op::install, a, std::nullopt).code == rpcnetd::v1::INVALID_ARGUMENT);
    CHECK(f.cipher->key_count() == 1);
    CHECK(f.cipher->fingerprints().front() == gossip_cipher::fingerprint(a));
}
