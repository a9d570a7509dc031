#pragma once
// fuzz_gossip_envelope: membership::gossip_cipher, the first code that touches a UDP datagram.
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
#include "fuzz/fuzz_support.hpp"
#include "membership/gossip_cipher.hpp"

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

}  // namespace envelope_fuzz

inline void fuzz_gossip_envelope(std::span<const std::uint8_t> data) {
    using membership::gossip_cipher;
    byte_reader in(data);
    switch (in.u8() % 3) {
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
