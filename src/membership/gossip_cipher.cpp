#include "membership/gossip_cipher.hpp"

#include "common/error.hpp"
#include "common/key_file_mode.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

namespace rpcnetd::membership {
namespace {

struct ctx_deleter {
    void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, ctx_deleter>;

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
    const auto pos = base64_alphabet.find(c);
    return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Strict standard base64 with padding (RFC 4648 §4); nullopt on any other character, a bad
// length, or non-zero bits after the last encoded byte.
std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text) {
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::vector<std::uint8_t> out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        const std::size_t pad =
            last ? (text[i + 3] == '=' ? (text[i + 2] == '=' ? 2u : 1u) : 0u) : 0u;
        std::uint32_t bits = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const int v = j >= 4 - pad ? 0 : base64_value(text[i + j]);
            if (v < 0) {
                return std::nullopt;
            }
            bits = (bits << 6) | static_cast<std::uint32_t>(v);
        }
        const std::size_t bytes = 3 - pad;
        if ((bits & ((1u << (8 * pad)) - 1u)) != 0) {
            return std::nullopt;  // non-canonical: bits set in the padding
        }
        for (std::size_t b = 0; b < bytes; ++b) {
            out.push_back(static_cast<std::uint8_t>(bits >> (16 - 8 * b)));
        }
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

[[noreturn]] void openssl_failure(const char* what) {
    throw runtime_failure(fmt::format("gossip cipher: openssl {} failed", what));
}

// The associated data: version byte, then the cluster name.
bool add_aad(EVP_CIPHER_CTX* ctx, std::string_view aad, bool encrypt) {
    const auto update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate;
    int ignored = 0;
    const std::uint8_t v = gossip_cipher::version;
    if (update(ctx, nullptr, &ignored, &v, 1) != 1) {
        return false;
    }
    return aad.empty() ||
           update(ctx, nullptr, &ignored, reinterpret_cast<const unsigned char*>(aad.data()),
                  static_cast<int>(aad.size())) == 1;
}

}  // namespace

gossip_cipher::gossip_cipher(const key& primary) : keys_{primary}, seals_(1, 0) {}

gossip_cipher::gossip_cipher(std::vector<key> keys) : keys_(std::move(keys)) {
    if (keys_.empty()) {
        throw std::invalid_argument("gossip_cipher needs at least one key");
    }
    if (keys_.size() > max_keys) {
        throw std::invalid_argument("gossip_cipher holds at most 8 keys");
    }
    seals_.assign(keys_.size(), 0);
}

gossip_cipher::~gossip_cipher() {
    for (auto& k : keys_) {
        OPENSSL_cleanse(k.data(), k.size());
    }
}

std::optional<gossip_cipher::key> gossip_cipher::decode_key(std::string_view base64) {
    auto bytes = decode_base64(trim(base64));
    if (!bytes || bytes->size() != key_size) {
        if (bytes) {
            OPENSSL_cleanse(bytes->data(), bytes->size());
        }
        return std::nullopt;
    }
    key k{};
    std::memcpy(k.data(), bytes->data(), key_size);
    OPENSSL_cleanse(bytes->data(), bytes->size());
    return k;
}

gossip_cipher::key gossip_cipher::load_key_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw usage_error(
            fmt::format("gossip key file \"{}\": cannot read: {}", path, std::strerror(errno)));
    }
    // No development exception here: the repository ships no gossip key.
    if (const auto mode = common::loose_key_file_mode(path)) {
        throw usage_error(common::loose_key_file_reason("gossip key file", path, *mode));
    }
    // A key file is 45 bytes or so; refuse to slurp something huge by mistake.
    std::string text(256, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) {
        throw usage_error(fmt::format("gossip key file \"{}\": read error", path));
    }
    text.resize(static_cast<std::size_t>(in.gcount()));
    const bool too_long = text.size() == 256;
    const std::string_view body = trim(text);
    std::optional<std::vector<std::uint8_t>> bytes;
    if (!too_long) {
        bytes = decode_base64(body);
    }
    OPENSSL_cleanse(text.data(), text.size());
    if (too_long || body.empty() || !bytes) {
        throw usage_error(
            fmt::format("gossip key file \"{}\": {}; expected the base64 of {} random bytes "
                        "(openssl rand -base64 32)",
                        path,
                        too_long       ? "is too large for a key file"
                        : body.empty() ? "is empty"
                                       : "is not valid base64",
                        key_size));
    }
    if (bytes->size() != key_size) {
        const auto n = bytes->size();
        OPENSSL_cleanse(bytes->data(), bytes->size());
        throw usage_error(fmt::format(
            "gossip key file \"{}\": key is {} bytes, expected {} (openssl rand -base64 32)", path,
            n, key_size));
    }
    key k{};
    std::memcpy(k.data(), bytes->data(), key_size);
    OPENSSL_cleanse(bytes->data(), bytes->size());
    return k;
}

std::string gossip_cipher::encode_key(const key& k) {
    std::string out;
    for (std::size_t i = 0; i < k.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, k.size() - i);
        std::uint32_t bits = 0;
        for (std::size_t j = 0; j < 3; ++j) {
            bits = (bits << 8) | (j < n ? k[i + j] : 0u);
        }
        for (std::size_t j = 0; j < 4; ++j) {
            out += j <= n ? base64_alphabet[(bits >> (18 - 6 * j)) & 0x3fu] : '=';
        }
    }
    return out;
}

gossip_cipher::key gossip_cipher::generate_key() {
    key k{};
    if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1) {
        openssl_failure("RAND_bytes");
    }
    return k;
}

std::vector<std::uint8_t> gossip_cipher::seal(std::span<const std::uint8_t> plaintext,
                                              std::string_view aad) const {
    if (plaintext.size() > static_cast<std::size_t>(INT_MAX) - overhead() ||
        aad.size() > static_cast<std::size_t>(INT_MAX)) {
        throw std::length_error("gossip_cipher::seal: input too large");
    }
    if (keys_.empty()) {
        throw std::logic_error("gossip_cipher::seal on a moved-from cipher");
    }
    std::vector<std::uint8_t> out(overhead() + plaintext.size());
    out[0] = version;
    std::uint8_t* nonce = out.data() + 1;
    std::uint8_t* body = nonce + nonce_size;
    std::uint8_t* tag = body + plaintext.size();
    if (RAND_bytes(nonce, static_cast<int>(nonce_size)) != 1) {
        openssl_failure("RAND_bytes");
    }
    // Counted before sealing: the budget is about nonces drawn under the key. atomic_ref: const
    // methods may run concurrently.
    std::atomic_ref<std::uint64_t>(seals_.front()).fetch_add(1, std::memory_order_relaxed);
    ctx_ptr ctx(EVP_CIPHER_CTX_new());
    if (!ctx) {
        openssl_failure("EVP_CIPHER_CTX_new");
    }
    // GCM's default IV length is 12 bytes, the size used here.
    if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, keys_.front().data(), nonce) !=
            1 ||
        !add_aad(ctx.get(), aad, true)) {
        openssl_failure("encrypt init");
    }
    int written = 0;
    if (!plaintext.empty() && EVP_EncryptUpdate(ctx.get(), body, &written, plaintext.data(),
                                                static_cast<int>(plaintext.size())) != 1) {
        openssl_failure("EVP_EncryptUpdate");
    }
    int final_len = 0;
    if (EVP_EncryptFinal_ex(ctx.get(), body + written, &final_len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size), tag) !=
            1) {
        openssl_failure("EVP_EncryptFinal_ex");
    }
    return out;
}

std::optional<std::vector<std::uint8_t>> gossip_cipher::open(std::span<const std::uint8_t> datagram,
                                                             std::string_view aad) const noexcept {
    // Lengths first: nothing is read before they are known to be there.
    if (datagram.size() < overhead() || datagram[0] != version ||
        datagram.size() > static_cast<std::size_t>(INT_MAX) ||
        aad.size() > static_cast<std::size_t>(INT_MAX)) {
        return std::nullopt;
    }
    try {
        for (const auto& k : keys_) {
            if (auto plain = open_with(k, datagram, aad)) {
                return plain;
            }
        }
    } catch (...) {
        // Allocation failure: treat the datagram as undecryptable rather than take the node down.
    }
    return std::nullopt;
}

std::optional<std::vector<std::uint8_t>>
gossip_cipher::open_primary(std::span<const std::uint8_t> datagram,
                            std::string_view aad) const noexcept {
    if (keys_.empty() || datagram.size() < overhead() || datagram[0] != version ||
        datagram.size() > static_cast<std::size_t>(INT_MAX) ||
        aad.size() > static_cast<std::size_t>(INT_MAX)) {
        return std::nullopt;
    }
    try {
        return open_with(keys_.front(), datagram, aad);
    } catch (...) {
        return std::nullopt;
    }
}

namespace {

bool same_key(const gossip_cipher::key& a, const gossip_cipher::key& b) {
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

gossip_cipher::ring_result gossip_cipher::install(const key& k) {
    for (const auto& have : keys_) {
        if (same_key(have, k)) {
            return ring_result::unchanged;
        }
    }
    if (keys_.size() >= max_keys) {
        return ring_result::full;
    }
    keys_.push_back(k);
    seals_.push_back(0);
    return ring_result::done;
}

gossip_cipher::ring_result gossip_cipher::use(const key& k) {
    for (std::size_t i = 0; i < keys_.size(); ++i) {
        if (same_key(keys_[i], k)) {
            if (i == 0) {
                return ring_result::unchanged;
            }
            // Rotate so k comes first and the others keep their order.
            std::rotate(keys_.begin(), keys_.begin() + static_cast<std::ptrdiff_t>(i),
                        keys_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
            std::rotate(seals_.begin(), seals_.begin() + static_cast<std::ptrdiff_t>(i),
                        seals_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
            return ring_result::done;
        }
    }
    return ring_result::not_found;
}

gossip_cipher::ring_result gossip_cipher::remove(const key& k) {
    for (std::size_t i = 0; i < keys_.size(); ++i) {
        if (same_key(keys_[i], k)) {
            if (i == 0) {
                return ring_result::is_primary;
            }
            OPENSSL_cleanse(keys_[i].data(), keys_[i].size());
            keys_.erase(keys_.begin() + static_cast<std::ptrdiff_t>(i));
            seals_.erase(seals_.begin() + static_cast<std::ptrdiff_t>(i));
            return ring_result::done;
        }
    }
    return ring_result::unchanged;
}

std::string gossip_cipher::fingerprint(const key& k) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    if (EVP_Digest(k.data(), k.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1 ||
        len < 8) {
        openssl_failure("EVP_Digest");
    }
    std::string out;
    for (std::size_t i = 0; i < 8; ++i) {
        out += fmt::format("{:02x}", digest[i]);
    }
    return out;
}

std::vector<std::pair<std::string, std::uint64_t>> gossip_cipher::seal_counts() const {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    for (std::size_t i = 0; i < keys_.size(); ++i) {
        out.emplace_back(fingerprint(keys_[i]),
                         std::atomic_ref<std::uint64_t>(seals_[i]).load(std::memory_order_relaxed));
    }
    return out;
}

std::vector<std::string> gossip_cipher::fingerprints() const {
    std::vector<std::string> out;
    for (const auto& k : keys_) {
        out.push_back(fingerprint(k));
    }
    return out;
}

std::optional<std::vector<std::uint8_t>>
gossip_cipher::open_with(const key& k, std::span<const std::uint8_t> datagram,
                         std::string_view aad) const {
    const std::uint8_t* nonce = datagram.data() + 1;
    const std::size_t body_size = datagram.size() - overhead();
    const std::uint8_t* body = nonce + nonce_size;
    const std::uint8_t* tag = body + body_size;

    ctx_ptr ctx(EVP_CIPHER_CTX_new());
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k.data(), nonce) != 1 ||
        !add_aad(ctx.get(), aad, false)) {
        return std::nullopt;
    }
    std::vector<std::uint8_t> plain(body_size);
    int written = 0;
    if (body_size > 0 && EVP_DecryptUpdate(ctx.get(), plain.data(), &written, body,
                                           static_cast<int>(body_size)) != 1) {
        return std::nullopt;
    }
    // OpenSSL takes a non-const pointer for the expected tag but only reads it.
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_size),
                            const_cast<std::uint8_t*>(tag)) != 1) {
        return std::nullopt;
    }
    int final_len = 0;
    if (EVP_DecryptFinal_ex(ctx.get(), plain.data() + written, &final_len) != 1) {
        // Authentication failed: wipe whatever was decrypted before the tag check.
        OPENSSL_cleanse(plain.data(), plain.size());
        return std::nullopt;
    }
    return plain;
}

}  // namespace rpcnetd::membership
