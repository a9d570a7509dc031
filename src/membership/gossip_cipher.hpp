#pragma once
// Authenticated encryption of gossip datagrams (DESIGN.md §4 "Gossip"): AES-256-GCM with the
// cluster name as associated data, so a datagram from outside the cluster, from a cluster with
// another name, or altered on the way is dropped before any SWIM parsing.
//
// Envelope (all sizes in bytes):
//
//   | version (1) = 1 | nonce (12, RAND_bytes) | ciphertext (= plaintext size) | GCM tag (16) |
//
// The associated data is the version byte followed by the caller's aad (gossip_envelope.hpp passes
// the message kind and the cluster name), so none of them can be swapped without failing the tag.
// Callers other than gossip_envelope (the one home of gossip sealing) use only the keyring. Nonces
// are random: with 96-bit random nonces NIST SP 800-38D allows 2^32 seals per key. Every member
// seals with the same key, so that budget is cluster-wide: at 1,000 datagrams/s across the whole
// cluster it lasts about 50 days (2^32 / 1000 / 86400), at 10,000/s about 5. Rotate the key
// (`rpcnetd keys`) well before that; each member counts its own seals per key (seal_counts(), stats
// gossip.seals.<fingerprint>), and the cluster's total is the sum over members.
//
// Keyring: seal() always uses the primary key (the first); open() tries every key, so a cluster
// can roll a new key out before making it primary and retire the old one after (install ->
// use -> remove; `rpcnetd keys`, app/keyring_service.hpp). At most max_keys keys: open() tries
// each, so the ring's size bounds the work an unauthenticated datagram costs.
// Keys are named by fingerprint(): the first 8 bytes of SHA-256 of the key, in hex. The key
// itself is never printed or logged.
//
// Thread-safety: const methods may run concurrently (each call makes its own EVP context);
// install/use/remove must not run concurrently with anything (the app calls them on its one
// io thread, where the gossip shell also seals and opens).
// Keys are wiped from memory when the cipher is destroyed. A moved-from cipher holds no key: it
// opens nothing and seal() throws std::logic_error.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rpcnetd::membership {

class gossip_cipher {
public:
    static constexpr std::size_t key_size = 32;
    static constexpr std::size_t nonce_size = 12;
    static constexpr std::size_t tag_size = 16;
    static constexpr std::uint8_t version = 1;

    using key = std::array<std::uint8_t, key_size>;

    // Bytes seal() adds to a plaintext: the gossip layer fills at most
    // max_datagram - overhead() bytes of SWIM messages per datagram.
    static constexpr std::size_t overhead() noexcept { return 1 + nonce_size + tag_size; }

    // A cipher with one key.
    explicit gossip_cipher(const key& primary);
    // A keyring: keys[0] is primary. Throws std::invalid_argument when keys is empty.
    explicit gossip_cipher(std::vector<key> keys);
    gossip_cipher(const gossip_cipher&) = default;
    gossip_cipher& operator=(const gossip_cipher&) = default;
    gossip_cipher(gossip_cipher&&) noexcept = default;
    gossip_cipher& operator=(gossip_cipher&&) noexcept = default;
    ~gossip_cipher();

    // Reads a key file: base64 of exactly 32 bytes (`openssl rand -base64 32`), surrounding
    // whitespace ignored. Throws rpcnetd::usage_error naming the path when the file cannot be
    // read, is not base64, or does not hold 32 bytes.
    static key load_key_file(const std::string& path);
    // Decodes base64 text into a key; nullopt when it is not strict base64 of 32 bytes.
    static std::optional<key> decode_key(std::string_view base64);
    static std::string encode_key(const key& k);
    // A fresh random key (RAND_bytes). Throws rpcnetd::runtime_failure if the CSPRNG fails.
    static key generate_key();

    // Encrypts and authenticates plaintext; aad is the cluster name. Throws
    // rpcnetd::runtime_failure only if OpenSSL itself fails (no entropy, allocation).
    std::vector<std::uint8_t> seal(std::span<const std::uint8_t> plaintext,
                                   std::string_view aad) const;

    // The plaintext of a sealed datagram; nullopt for anything truncated, altered, of another
    // version, sealed with a key not in the ring, or with another cluster name. Never throws.
    std::optional<std::vector<std::uint8_t>> open(std::span<const std::uint8_t> datagram,
                                                  std::string_view aad) const noexcept;

    // As open(), but only the primary key is tried (keyring RPC bodies: whoever changes the ring
    // must hold the key the cluster currently seals with).
    std::optional<std::vector<std::uint8_t>> open_primary(std::span<const std::uint8_t> datagram,
                                                          std::string_view aad) const noexcept;

    std::size_t key_count() const noexcept { return keys_.size(); }

    // ---- keyring operations ----
    static constexpr std::size_t max_keys = 8;
    enum class ring_result : std::uint8_t {
        done,        // the ring changed
        unchanged,   // already so (install of a present key, use of the primary, remove of an
                     // absent key): operations are idempotent so a rotation can be retried
        not_found,   // use of a key that is not installed
        is_primary,  // remove of the primary key is refused
        full,        // install beyond max_keys
    };
    // Adds k as a secondary key (opens, never seals).
    ring_result install(const key& k);
    // Makes an installed key primary; the old primary stays installed (still opens).
    ring_result use(const key& k);
    // Removes a secondary key (wiped from memory).
    ring_result remove(const key& k);

    // "3f2a...": 16 lowercase hex characters (first 8 bytes of SHA-256(key)). Throws
    // rpcnetd::runtime_failure only if OpenSSL fails.
    static std::string fingerprint(const key& k);
    // (fingerprint, seals made with it by this cipher) for each key of the ring, primary first.
    // A key that is removed and installed again starts from 0.
    std::vector<std::pair<std::string, std::uint64_t>> seal_counts() const;
    // Fingerprints of the ring, primary first.
    std::vector<std::string> fingerprints() const;
    // The primary key (precondition: not moved-from).
    const key& primary() const { return keys_.front(); }

private:
    std::optional<std::vector<std::uint8_t>>
    open_with(const key& k, std::span<const std::uint8_t> datagram, std::string_view aad) const;

    std::vector<key> keys_;
    mutable std::vector<std::uint64_t> seals_;  // parallel to keys_; see seal_counts()
};

}  // namespace rpcnetd::membership
