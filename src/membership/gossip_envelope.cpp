#include "membership/gossip_envelope.hpp"

#include <openssl/crypto.h>

#include <algorithm>

namespace rpcnetd::membership {
namespace {

void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(v >> shift));
    }
}

std::uint64_t get_u64(std::span<const std::uint8_t> in) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        v = (v << 8) | in[i];
    }
    return v;
}

void put_text(std::vector<std::uint8_t>& out, std::string_view s) {
    const std::size_t n = std::min<std::size_t>(s.size(), 255);
    out.push_back(static_cast<std::uint8_t>(n));
    out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
}

// Reads a length-prefixed text; false when the input is shorter than it announces.
bool get_text(std::span<const std::uint8_t>& in, std::string& out) {
    if (in.empty() || in.size() - 1 < in[0]) {
        return false;
    }
    const std::size_t n = in[0];
    out.assign(in.begin() + 1, in.begin() + 1 + static_cast<std::ptrdiff_t>(n));
    in = in.subspan(1 + n);
    return true;
}

// An IPv4 or IPv6 literal (as endpoint::to_string prints them), not a host name.
bool ip_literal(std::string_view host) {
    if (host.find(':') != std::string_view::npos) {
        return true;  // IPv6 (valid_host never allows exactly one ':')
    }
    return !host.empty() && std::all_of(host.begin(), host.end(),
                                        [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

bool unspecified(std::string_view host) {
    return host == "0.0.0.0" || host == "::" || host == "[::]";
}

std::optional<opened_message> split_opened(std::optional<std::vector<std::uint8_t>> plain) {
    if (!plain) {
        return std::nullopt;
    }
    std::optional<opened_message> out;
    try {
        if (auto split = gossip_stamp::split(*plain)) {
            out = opened_message{std::move(split->first),
                                 {split->second.begin(), split->second.end()}};
        }
    } catch (...) {
        out.reset();  // allocation failure: as if it did not open
    }
    // Keyring bodies carry keys: leave no copy of the plaintext behind.
    OPENSSL_cleanse(plain->data(), plain->size());
    return out;
}

}  // namespace

const char* to_string(envelope_kind k) {
    switch (k) {
    case envelope_kind::datagram:
        return "datagram";
    case envelope_kind::push_pull:
        return "push-pull";
    case envelope_kind::push_pull_reply:
        return "push-pull-reply";
    case envelope_kind::keyring:
        return "keyring";
    case envelope_kind::keyring_reply:
        return "keyring-reply";
    }
    return "datagram";
}

const char* to_string(open_verdict v) {
    switch (v) {
    case open_verdict::accepted:
        return "accepted";
    case open_verdict::unauthenticated:
        return "unauthenticated";
    case open_verdict::wrong_receiver:
        return "wrong_receiver";
    case open_verdict::replayed:
        return "replayed";
    case open_verdict::stale:
        return "stale";
    }
    return "unauthenticated";
}

std::vector<std::uint8_t> gossip_stamp::prepend_to(std::span<const std::uint8_t> payload) const {
    std::vector<std::uint8_t> out;
    out.reserve(size() + payload.size());
    put_text(out, sender);
    put_u64(out, generation);
    put_u64(out, sequence);
    put_text(out, receiver);
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

std::optional<std::pair<gossip_stamp, std::span<const std::uint8_t>>>
gossip_stamp::split(std::span<const std::uint8_t> plain) {
    gossip_stamp s;
    // Every length is checked against what remains before it is used.
    if (!get_text(plain, s.sender) || plain.size() < 16) {
        return std::nullopt;
    }
    s.generation = get_u64(plain);
    s.sequence = get_u64(plain.subspan(8));
    plain = plain.subspan(16);
    if (!get_text(plain, s.receiver)) {
        return std::nullopt;
    }
    return std::pair{std::move(s), plain};
}

std::string receiver_of(const common::endpoint& to) {
    return to.to_string();
}

bool receiver_matches(std::string_view stamped, const common::endpoint& self) {
    const auto named = common::parse_endpoint(stamped);
    if (!named || named->port != self.port) {
        return false;
    }
    if (unspecified(self.host) || !ip_literal(named->host)) {
        return true;
    }
    return named->host == self.host;
}

bool fresh(std::uint64_t stamped_unix_us, std::uint64_t now_unix_us) {
    const auto window = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(gossip_envelope::keyring_freshness)
            .count());
    const auto diff = stamped_unix_us > now_unix_us ? stamped_unix_us - now_unix_us
                                                    : now_unix_us - stamped_unix_us;
    return diff <= window;
}

gossip_envelope::gossip_envelope(std::shared_ptr<gossip_cipher> cipher, std::string cluster)
    : cipher_(std::move(cipher)), cluster_(std::move(cluster)) {}

std::string gossip_envelope::associated_data(envelope_kind kind, std::string_view cluster) {
    std::string aad = std::string("rpcnetd-") + to_string(kind);
    aad.push_back('\0');
    aad.append(cluster);
    return aad;
}

std::vector<std::uint8_t> gossip_envelope::seal(envelope_kind kind, const gossip_stamp& stamp,
                                                std::span<const std::uint8_t> payload) const {
    return cipher_->seal(stamp.prepend_to(payload), associated_data(kind, cluster_));
}

std::optional<opened_message>
gossip_envelope::open(envelope_kind kind, std::span<const std::uint8_t> sealed) const noexcept {
    try {
        return split_opened(cipher_->open(sealed, associated_data(kind, cluster_)));
    } catch (...) {
        return std::nullopt;
    }
}

std::optional<opened_message>
gossip_envelope::open_primary(envelope_kind kind,
                              std::span<const std::uint8_t> sealed) const noexcept {
    try {
        return split_opened(cipher_->open_primary(sealed, associated_data(kind, cluster_)));
    } catch (...) {
        return std::nullopt;
    }
}

std::vector<std::uint8_t> gossip_envelope::seal_with(const gossip_cipher::key& k,
                                                     std::string_view cluster, envelope_kind kind,
                                                     const gossip_stamp& stamp,
                                                     std::span<const std::uint8_t> payload) {
    const gossip_cipher c(k);
    return c.seal(stamp.prepend_to(payload), associated_data(kind, cluster));
}

std::optional<opened_message>
gossip_envelope::open_with(const gossip_cipher::key& k, std::string_view cluster,
                           envelope_kind kind, std::span<const std::uint8_t> sealed) noexcept {
    try {
        const gossip_cipher c(k);
        return split_opened(c.open(sealed, associated_data(kind, cluster)));
    } catch (...) {
        return std::nullopt;
    }
}

open_outcome envelope_receiver::open(std::span<const std::uint8_t> sealed,
                                     const common::endpoint& self,
                                     std::optional<std::uint64_t> now_unix_us, bool primary_only) {
    open_outcome out;
    auto msg = primary_only ? envelope_.open_primary(kind_, sealed) : envelope_.open(kind_, sealed);
    if (!msg) {
        out.verdict = open_verdict::unauthenticated;
        return out;
    }
    if (!receiver_matches(msg->stamp.receiver, self)) {
        out.verdict = open_verdict::wrong_receiver;
        return out;
    }
    if (now_unix_us && !fresh(msg->stamp.generation, *now_unix_us)) {
        out.verdict = open_verdict::stale;
        return out;
    }
    const auto v =
        guard_.check(replay_stamp{msg->stamp.sender, msg->stamp.generation, msg->stamp.sequence});
    if (v != replay_window::verdict::accepted) {
        out.verdict = open_verdict::replayed;
        return out;
    }
    out.verdict = open_verdict::accepted;
    out.message = std::move(msg);
    return out;
}

}  // namespace rpcnetd::membership
