#pragma once
// fuzz_gossip_envelope: membership::gossip_cipher and membership::gossip_envelope (stamps, kinds,
// receiver binding, replay windows), the first code that touches a UDP datagram.
//
// Input byte 0 picks a mode:
//   0  open() of arbitrary bytes with a fixed two-key ring. Forging a GCM tag is out of reach, so
//      only sealed datagrams from the corpus open, and their plaintext is exactly overhead()
//      bytes shorter than the datagram.
//   1  seal -> mutate -> open: the rest is {u16 position, u8 bit, string aad, plaintext}. The
//      sealed datagram opens to the plaintext with every ring holding the primary key, and fails
//      with a flipped bit, truncated, extended, under another cluster name, or with a ring
//      without the key.
//   2  decode_key() of arbitrary text; a decoded key re-encodes to text that decodes to it.
//   3  arbitrary bytes as a stamped plaintext and as a sealed message of every kind: a stamp that
//      splits re-serializes to the same bytes; a sealed message (from the corpus) opens as at
//      most one kind, and an envelope_receiver's verdict on it agrees with receiver_matches().
//   4  seal a stamp made of the input {u8 kind, sender, u64 generation, u64 sequence, receiver,
//      self host, u16 self port, u64 now, payload}: it opens as its kind only, to the same stamp
//      and payload; an envelope_receiver accepts it exactly when the receiver matches self (and
//      the clock is fresh, for the keyring check), then calls its second delivery a replay.
#include "fuzz/fuzz_support.hpp"
#include "membership/gossip_cipher.hpp"
#include "membership/gossip_envelope.hpp"

#include <algorithm>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rpcnetd::fuzz {

namespace envelope_fuzz {

inline membership::gossip_cipher::key fixed_key(std::uint8_t fill) {
    membership::gossip_cipher::key k{};
    for (std::size_t i = 0; i < k.size(); ++i) {
        k[i] = static_cast<std::uint8_t>(fill + i * 7);
    }
    return k;
}

inline constexpr std::string_view cluster = "fuzz-cluster";

inline const membership::gossip_cipher& ring() {  // primary A, secondary B
    static const membership::gossip_cipher c(std::vector{fixed_key(1), fixed_key(2)});
    return c;
}

inline void seal_mutate_open(byte_reader& in) {
    using membership::gossip_cipher;
    static const gossip_cipher only_b(fixed_key(2));
    static const gossip_cipher rotated(std::vector{fixed_key(3), fixed_key(1)});  // A secondary
    const std::size_t position = in.u16();
    const auto bit = static_cast<std::uint8_t>(1U << (in.u8() & 7U));
    const std::string aad = in.str(64);
    const auto pt = in.rest();
    const std::vector<std::uint8_t> plain(pt.begin(), pt.end());

    const auto sealed = ring().seal(pt, aad);
    RPCNETD_FUZZ_CHECK(sealed.size() == pt.size() + gossip_cipher::overhead());
    RPCNETD_FUZZ_CHECK(sealed[0] == gossip_cipher::version);
    RPCNETD_FUZZ_CHECK(ring().open(sealed, aad) == plain);
    RPCNETD_FUZZ_CHECK(rotated.open(sealed, aad) == plain);
    RPCNETD_FUZZ_CHECK(!only_b.open(sealed, aad));
    RPCNETD_FUZZ_CHECK(!ring().open(sealed, aad + "x"));

    auto flipped = sealed;
    flipped[position % flipped.size()] ^= bit;
    RPCNETD_FUZZ_CHECK(!ring().open(flipped, aad));

    const std::span<const std::uint8_t> whole(sealed);
    RPCNETD_FUZZ_CHECK(!ring().open(whole.first(position % sealed.size()), aad));
    auto extended = sealed;
    extended.push_back(bit);
    RPCNETD_FUZZ_CHECK(!ring().open(extended, aad));
}

inline const membership::gossip_envelope& envelope() {
    static const membership::gossip_envelope e(
        std::make_shared<membership::gossip_cipher>(std::vector{fixed_key(1), fixed_key(2)}),
        std::string(cluster));
    return e;
}

inline constexpr membership::envelope_kind kinds[] = {
    membership::envelope_kind::datagram, membership::envelope_kind::push_pull,
    membership::envelope_kind::push_pull_reply, membership::envelope_kind::keyring,
    membership::envelope_kind::keyring_reply};

inline void open_stamped(byte_reader& in) {
    using namespace membership;
    const common::endpoint self{in.str(64), in.u16()};
    const auto data = in.rest();
    if (const auto split = gossip_stamp::split(data)) {
        RPCNETD_FUZZ_CHECK(split->first.size() + split->second.size() == data.size());
        const auto again = split->first.prepend_to(split->second);
        RPCNETD_FUZZ_CHECK(std::equal(again.begin(), again.end(), data.begin(), data.end()));
    }
    int opened_as = 0;
    for (const auto kind : kinds) {
        const auto m = envelope().open(kind, data);
        if (!m) {
            continue;
        }
        ++opened_as;
        RPCNETD_FUZZ_CHECK(m->stamp.size() + m->payload.size() + gossip_cipher::overhead() ==
                           data.size());
        envelope_receiver rx(envelope(), kind, 4);
        const auto verdict = rx.open(data, self).verdict;
        RPCNETD_FUZZ_CHECK((verdict == open_verdict::accepted) ==
                           receiver_matches(m->stamp.receiver, self));
        if (verdict == open_verdict::accepted) {
            RPCNETD_FUZZ_CHECK(rx.open(data, self).verdict == open_verdict::replayed);
        }
    }
    RPCNETD_FUZZ_CHECK(opened_as <= 1);
}

inline void seal_stamped(byte_reader& in) {
    using namespace membership;
    const auto kind = kinds[in.u8() % std::size(kinds)];
    gossip_stamp stamp;
    stamp.sender = in.str();
    stamp.generation = in.u64();
    stamp.sequence = in.u64();
    stamp.receiver = in.str();
    const common::endpoint self{in.str(64), in.u16()};
    const std::uint64_t now = in.u64();
    const auto pt = in.rest();
    const std::vector<std::uint8_t> payload(pt.begin(), pt.end());

    const auto sealed = envelope().seal(kind, stamp, pt);
    RPCNETD_FUZZ_CHECK(sealed.size() == gossip_cipher::overhead() + stamp.size() + pt.size());
    for (const auto other : kinds) {
        const auto m = envelope().open(other, sealed);
        RPCNETD_FUZZ_CHECK(m.has_value() == (other == kind));
        if (m) {
            RPCNETD_FUZZ_CHECK(m->stamp == stamp);
            RPCNETD_FUZZ_CHECK(m->payload == payload);
        }
    }
    RPCNETD_FUZZ_CHECK(gossip_envelope::open_with(fixed_key(1), cluster, kind, sealed).has_value());
    RPCNETD_FUZZ_CHECK(!gossip_envelope::open_with(fixed_key(2), cluster, kind, sealed));

    const bool for_us = receiver_matches(stamp.receiver, self);
    const bool keyring = kind == envelope_kind::keyring;
    envelope_receiver rx(envelope(), kind, 4);
    const auto first = rx.open(sealed, self, keyring ? std::optional{now} : std::nullopt, keyring);
    if (!for_us) {
        RPCNETD_FUZZ_CHECK(first.verdict == open_verdict::wrong_receiver);
        return;
    }
    if (keyring && !fresh(stamp.generation, now)) {
        RPCNETD_FUZZ_CHECK(first.verdict == open_verdict::stale);
        return;
    }
    RPCNETD_FUZZ_CHECK(first.verdict == open_verdict::accepted);
    RPCNETD_FUZZ_CHECK(first.message && first.message->payload == payload);
    RPCNETD_FUZZ_CHECK(rx.open(sealed, self).verdict == open_verdict::replayed);
}

}  // namespace envelope_fuzz

inline void fuzz_gossip_envelope(std::span<const std::uint8_t> data) {
    using membership::gossip_cipher;
    byte_reader in(data);
    switch (in.u8() % 5) {
    case 0: {
        const auto datagram = in.rest();
        if (const auto plain = envelope_fuzz::ring().open(datagram, envelope_fuzz::cluster)) {
            RPCNETD_FUZZ_CHECK(plain->size() + gossip_cipher::overhead() == datagram.size());
        }
        break;
    }
    case 1:
        envelope_fuzz::seal_mutate_open(in);
        break;
    case 3:
        envelope_fuzz::open_stamped(in);
        break;
    case 4:
        envelope_fuzz::seal_stamped(in);
        break;
    default: {
        const auto text = in.rest();
        const auto k = gossip_cipher::decode_key(
            std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
        if (k) {
            RPCNETD_FUZZ_CHECK(gossip_cipher::decode_key(gossip_cipher::encode_key(*k)) == k);
        }
        break;
    }
    }
}

}  // namespace rpcnetd::fuzz
