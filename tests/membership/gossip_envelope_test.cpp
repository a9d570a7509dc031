// gossip_envelope: the stamp's wire form, kinds separated by their associated data, receiver
// binding, and envelope_receiver's verdicts (issue #11 item 2).
#include "membership/gossip_envelope.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace rpcnetd::membership;
using rpcnetd::common::endpoint;
using bytes = std::vector<std::uint8_t>;

namespace {

gossip_cipher::key key_of(std::uint8_t fill) {
    gossip_cipher::key k{};
    k.fill(fill);
    return k;
}

std::shared_ptr<gossip_envelope> envelope_with(std::uint8_t fill, std::string cluster = "prod") {
    return std::make_shared<gossip_envelope>(std::make_shared<gossip_cipher>(key_of(fill)),
                                             std::move(cluster));
}

constexpr std::uint64_t second = 1'000'000;  // unix microseconds

}  // namespace

TEST_CASE("gossip_stamp: round trip, and every truncation is refused", "[membership][replay]") {
    const bytes payload{1, 2, 3, 4, 5};
    const gossip_stamp s{"worker-a", 0x0102030405060708ULL, 0x1112131415161718ULL,
                         "127.0.0.1:7946"};
    const auto wire = s.prepend_to(payload);
    REQUIRE(wire.size() == s.size() + payload.size());
    CHECK(s.size() <= gossip_stamp::datagram_size_for("worker-a"));
    const auto split = gossip_stamp::split(wire);
    REQUIRE(split);
    CHECK(split->first == s);
    CHECK(bytes(split->second.begin(), split->second.end()) == payload);
    // Cut inside the stamp at every byte: refused, never read past the end.
    for (std::size_t n = 0; n < s.size(); ++n) {
        CHECK_FALSE(gossip_stamp::split(std::span(wire.data(), n)));
    }
    // A name length larger than what follows.
    const bytes lying{255, 'a', 'b'};
    CHECK_FALSE(gossip_stamp::split(lying));
}

TEST_CASE("gossip_stamp: the longest datagram receiver fits the reserved room",
          "[membership][replay]") {
    // An IPv6 literal with a zone, in brackets, with the largest port.
    const endpoint widest{"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%abcdefghijklmno", 65535};
    const auto text = receiver_of(widest);
    CHECK(text.size() <= gossip_stamp::max_datagram_receiver);
    const gossip_stamp s{"n", 1, 1, text};
    CHECK(s.size() <= gossip_stamp::datagram_size_for("n"));
    CHECK(gossip_envelope::datagram_overhead("n") ==
          gossip_cipher::overhead() + gossip_stamp::datagram_size_for("n"));
}

TEST_CASE("gossip_envelope: each kind opens only as itself", "[membership][replay]") {
    const auto env = envelope_with(1);
    const gossip_stamp stamp{"a", 1, 1, "127.0.0.1:7946"};
    const bytes payload{9, 8, 7};
    const envelope_kind kinds[] = {envelope_kind::datagram, envelope_kind::push_pull,
                                   envelope_kind::push_pull_reply, envelope_kind::keyring,
                                   envelope_kind::keyring_reply};
    for (const auto sealed_as : kinds) {
        const auto sealed = env->seal(sealed_as, stamp, payload);
        CHECK(sealed.size() == gossip_cipher::overhead() + stamp.size() + payload.size());
        for (const auto opened_as : kinds) {
            const auto opened = env->open(opened_as, sealed);
            CHECK(opened.has_value() == (sealed_as == opened_as));
            if (opened) {
                CHECK(opened->stamp == stamp);
                CHECK(opened->payload == payload);
            }
        }
        // Another cluster name or another key: nothing opens.
        CHECK_FALSE(envelope_with(1, "staging")->open(sealed_as, sealed));
        CHECK_FALSE(envelope_with(2)->open(sealed_as, sealed));
    }
    // A plain gossip_cipher seal (the format before stamps and kinds) opens as no kind: a member
    // of an older version is dropped, not misread.
    const auto old = env->cipher().seal(stamp.prepend_to(payload), "prod");
    for (const auto k : kinds) {
        CHECK_FALSE(env->open(k, old));
    }
}

TEST_CASE("gossip_envelope: the one-key helpers of the keys tool", "[membership][replay]") {
    const auto env = envelope_with(1);
    const gossip_stamp stamp{"rpcnetd-keys/1", 5, 1, "127.0.0.1:7946"};
    const bytes payload{1};
    const auto sealed =
        gossip_envelope::seal_with(key_of(1), "prod", envelope_kind::keyring, stamp, payload);
    REQUIRE(env->open_primary(envelope_kind::keyring, sealed));
    CHECK_FALSE(env->open_primary(envelope_kind::keyring_reply, sealed));
    const auto reply = env->seal(envelope_kind::keyring_reply, stamp, payload);
    CHECK(gossip_envelope::open_with(key_of(1), "prod", envelope_kind::keyring_reply, reply));
    CHECK_FALSE(gossip_envelope::open_with(key_of(2), "prod", envelope_kind::keyring_reply, reply));
}

TEST_CASE("gossip_envelope: receiver_matches the sent-to address with the bound one",
          "[membership][replay]") {
    const endpoint y{"127.0.0.1", 7001};
    CHECK(receiver_matches(receiver_of(y), y));
    CHECK_FALSE(receiver_matches(receiver_of({"127.0.0.1", 7002}), y));  // another member
    CHECK_FALSE(receiver_matches(receiver_of({"127.0.0.2", 7001}), y));  // another host
    CHECK(receiver_matches(receiver_of({"::1", 7001}), {"::1", 7001}));
    CHECK_FALSE(receiver_matches(receiver_of({"::1", 7001}), y));
    // A seed dialed by name (push-pull, keys): the port decides.
    CHECK(receiver_matches(receiver_of({"seed.example", 7001}), y));
    CHECK_FALSE(receiver_matches(receiver_of({"seed.example", 7002}), y));
    // Bound to the unspecified address: any of our addresses, by port.
    CHECK(receiver_matches(receiver_of({"10.0.0.5", 7001}), {"0.0.0.0", 7001}));
    CHECK_FALSE(receiver_matches(receiver_of({"10.0.0.5", 7002}), {"0.0.0.0", 7001}));
    // Empty or garbage: never.
    CHECK_FALSE(receiver_matches("", y));
    CHECK_FALSE(receiver_matches("127.0.0.1", y));
}

TEST_CASE("gossip_envelope: a datagram sealed for y is refused by z, a replay by y",
          "[membership][replay]") {
    const auto env = envelope_with(1);
    const endpoint y{"127.0.0.1", 7001};
    const endpoint z{"127.0.0.1", 7002};
    envelope_receiver at_y(*env, envelope_kind::datagram);
    envelope_receiver at_z(*env, envelope_kind::datagram);
    const bytes packet{1, 2, 3};
    const auto captured = env->seal(envelope_kind::datagram, {"x", 1, 10, receiver_of(y)}, packet);

    // z has never heard from x: without receiver binding it would take this as x's baseline.
    CHECK(at_z.open(captured, z).verdict == open_verdict::wrong_receiver);
    const auto first = at_y.open(captured, y);
    REQUIRE(first.verdict == open_verdict::accepted);
    CHECK(first.message->payload == packet);
    CHECK(at_y.open(captured, y).verdict == open_verdict::replayed);
    // x's datagrams sealed for z are still welcome there, including older sequence numbers.
    CHECK(at_z.open(env->seal(envelope_kind::datagram, {"x", 1, 9, receiver_of(z)}, packet), z)
              .verdict == open_verdict::accepted);
    // The same bytes as a push-pull body: does not open as a datagram.
    CHECK(at_y.open(env->seal(envelope_kind::push_pull, {"x", 1, 11, receiver_of(y)}, packet), y)
              .verdict == open_verdict::unauthenticated);
    CHECK(at_y.open(bytes{1, 2, 3}, y).verdict == open_verdict::unauthenticated);
}

TEST_CASE("gossip_envelope: keyring requests are fresh, once, for us, under the primary key",
          "[membership][replay]") {
    const auto cipher = std::make_shared<gossip_cipher>(key_of(1));
    const gossip_envelope env(cipher, "prod");
    const endpoint self{"127.0.0.1", 7001};
    envelope_receiver rx(env, envelope_kind::keyring);
    const std::uint64_t now = 1'700'000'000 * second;
    const bytes body{4};
    auto request = [&](std::uint64_t at, std::uint64_t seq) {
        return gossip_envelope::seal_with(key_of(1), "prod", envelope_kind::keyring,
                                          {"rpcnetd-keys/a", at, seq, receiver_of(self)}, body);
    };
    const auto install = request(now, 1);
    CHECK(rx.open(install, self, now, true).verdict == open_verdict::accepted);
    const auto remove = request(now + second, 2);
    CHECK(rx.open(remove, self, now + second, true).verdict == open_verdict::accepted);
    // The captured install, replayed after the remove: refused, now and later.
    CHECK(rx.open(install, self, now + 2 * second, true).verdict == open_verdict::replayed);
    CHECK(rx.open(install, self, now + 600 * second, true).verdict == open_verdict::stale);
    // A receiver that restarted (a fresh window) still refuses it once the window has passed.
    envelope_receiver restarted(env, envelope_kind::keyring);
    CHECK(restarted.open(install, self, now + 301 * second, true).verdict == open_verdict::stale);
    // From the future beyond the window: refused too.
    CHECK(restarted.open(request(now + 400 * second, 3), self, now, true).verdict ==
          open_verdict::stale);
    // Sealed for another member.
    CHECK(restarted.open(request(now, 4), {"127.0.0.1", 7002}, now, true).verdict ==
          open_verdict::wrong_receiver);
    // A secondary key does not authorize.
    cipher->install(key_of(2));
    const auto with_secondary =
        gossip_envelope::seal_with(key_of(2), "prod", envelope_kind::keyring,
                                   {"rpcnetd-keys/a", now, 5, receiver_of(self)}, body);
    CHECK(restarted.open(with_secondary, self, now, true).verdict == open_verdict::unauthenticated);
    CHECK(restarted.open(with_secondary, self, now, false).verdict == open_verdict::accepted);
}

TEST_CASE("gossip_envelope: a keyring clock is fresh within 300 s either way",
          "[membership][replay]") {
    const std::uint64_t now = 1'700'000'000 * second;
    CHECK(fresh(now, now));
    CHECK(fresh(now - 300 * second, now));
    CHECK(fresh(now + 300 * second, now));
    CHECK_FALSE(fresh(now - 301 * second, now));
    CHECK_FALSE(fresh(now + 301 * second, now));
    CHECK_FALSE(fresh(0, now));
}
