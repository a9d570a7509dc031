// keyring_service::handle without a network: requests sealed with the primary key change the
// ring; anything else is refused and changes nothing.
#include "app/keyring_service.hpp"
#include "membership/gossip_envelope.hpp"

#include "proto/rpcnetd.pb.h"

#include <catch2/catch.hpp>

using rpcnetd::app::keyring_op;
using rpcnetd::app::keyring_service;
using rpcnetd::membership::gossip_cipher;
using rpcnetd::membership::gossip_envelope;

namespace {

gossip_cipher::key key_of(std::uint8_t fill) {
    gossip_cipher::key k{};
    k.fill(fill);
    return k;
}

constexpr std::uint64_t second = 1'000'000;

struct fixture {
    std::shared_ptr<gossip_cipher> cipher = std::make_shared<gossip_cipher>(key_of(1));
    keyring_service svc{std::make_shared<gossip_envelope>(cipher, "prod"), "node-a"};
    const rpcnetd::common::endpoint self{"127.0.0.1", 7001};
    std::uint64_t now = 1'700'000'000 * second;  // the member's clock
    std::uint64_t sequence = 0;

    rpcnetd::membership::gossip_stamp next_stamp() {
        return keyring_service::request_stamp("keys-test", now, ++sequence, self);
    }

    std::pair<rpcnetd::rpc::status, std::string> send(keyring_op op, const std::string& sealed) {
        return svc.handle(op, sealed, "test", self, now);
    }

    rpcnetd::rpc::status call(keyring_op op, const gossip_cipher::key& sealed_with,
                              std::optional<gossip_cipher::key> k,
                              rpcnetd::v1::KeyringResponse* out = nullptr,
                              const std::string& cluster = "prod") {
        const auto stamp = next_stamp();
        auto [st, body] = send(op, keyring_service::seal_request(sealed_with, cluster, k, stamp));
        if (st.ok() && out != nullptr) {
            auto plain = keyring_service::open_response(sealed_with, "prod", body, stamp);
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
    CHECK(f.send(keyring_op::install, "garbage").first.code == rpcnetd::v1::UNAUTHENTICATED);
    CHECK(f.call(keyring_op::use, a, key_of(4)).code == rpcnetd::v1::NOT_FOUND);
    CHECK(f.call(keyring_op::install, a, std::nullopt).code == rpcnetd::v1::INVALID_ARGUMENT);
    CHECK(f.cipher->key_count() == 1);
    CHECK(f.cipher->fingerprints().front() == gossip_cipher::fingerprint(a));
}

TEST_CASE("keyring_service: a captured Keys.Install replayed after Keys.Remove is refused",
          "[keys][replay]") {
    fixture f;
    const auto a = key_of(1);
    const auto b = key_of(2);
    const auto install_stamp = f.next_stamp();
    const auto install = keyring_service::seal_request(a, "prod", b, install_stamp);
    rpcnetd::v1::KeyringResponse r;
    REQUIRE(f.send(keyring_op::install, install).first.ok());
    f.now += 5 * second;
    REQUIRE(f.call(keyring_op::remove, a, b, &r).ok());
    CHECK(r.changed());
    REQUIRE(f.cipher->key_count() == 1);

    f.now += 5 * second;
    const auto replay = f.send(keyring_op::install, install);
    CHECK(replay.first.code == rpcnetd::v1::UNAUTHENTICATED);
    CHECK(f.svc.replays_refused() == 1);
    // An hour later it is refused for its age alone.
    f.now += 3600 * second;
    CHECK(f.send(keyring_op::install, install).first.code == rpcnetd::v1::UNAUTHENTICATED);
    CHECK(f.cipher->key_count() == 1);  // b stayed removed

    // A request sealed for another member is refused here.
    const auto elsewhere =
        keyring_service::request_stamp("keys-test", f.now, 100, {"127.0.0.1", 7002});
    CHECK(f.send(keyring_op::install, keyring_service::seal_request(a, "prod", b, elsewhere))
              .first.code == rpcnetd::v1::UNAUTHENTICATED);
    CHECK(f.cipher->key_count() == 1);
    CHECK(f.svc.replays_refused() == 3);
}

TEST_CASE("keyring_service: a response opens only as the reply to its own request", "[keys]") {
    fixture f;
    const auto stamp = f.next_stamp();
    auto [st, body] = f.send(keyring_op::list,
                             keyring_service::seal_request(key_of(1), "prod", std::nullopt, stamp));
    REQUIRE(st.ok());
    CHECK(keyring_service::open_response(key_of(1), "prod", body, stamp));
    auto other = stamp;
    ++other.sequence;
    CHECK_FALSE(keyring_service::open_response(key_of(1), "prod", body, other));
}
