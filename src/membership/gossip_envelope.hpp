#pragma once
// The one home of gossip sealing (issue #12 item 1, #11 item 2): gossip datagrams, push-pull
// bodies and keyring bodies are sealed and opened here, and nowhere else.
//
// Every sealed message is gossip_cipher's AES-256-GCM envelope around
//
//   | stamp | payload |
//   stamp = | u8 sender length | sender | u64 generation | u64 sequence | u8 receiver length |
//           | receiver |                                        (integers big endian)
//
// and its associated data is the message kind's label, a NUL, then the cluster name
// (associated_data()): a datagram cannot be opened as a push-pull body, a request not as a reply,
// a push-pull body not as a keyring body, even under the same key and cluster.
//
// What the stamp binds, per kind:
//  - datagram: sender = member name, (generation, sequence) = the sender's anti-replay counter
//    (replay_window.hpp), receiver = the destination address the sender sends to, as
//    common::endpoint::to_string() of the IP literal and port ("127.0.0.1:7946", "[::1]:7946").
//    The receiver accepts it only when that is its own bound address (receiver_matches()), so a
//    datagram captured on its way from X to Y is dropped by Z (counted as wrong_receiver).
//    A sender always knows the address it sends to (for a first-contact join, the seed's H:P; a
//    seed given by host name gets no UDP at all, only push-pull), and a member binds the address
//    it advertises, so this works through seeds, on 127.0.0.1 and in namespaces, without NAT.
//  - push_pull / keyring requests: sender, (generation, sequence) checked by a replay window of
//    the receiver, receiver = the address dialed (a host name matches by port only). Keyring
//    requests also carry the sender's wall clock in generation (unix microseconds), which the
//    receiver requires to be within keyring_freshness of its own clock (the time is passed in).
//  - replies: the request's stamp, echoed: the caller accepts only the reply to its own request.
//
// Pure: no Asio, no clocks (callers pass time in), never throws on network input.
#include "common/endpoint.hpp"
#include "membership/gossip_cipher.hpp"
#include "membership/replay_guard.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rpcnetd::membership {

enum class envelope_kind : std::uint8_t {
    datagram,         // a SWIM datagram over UDP
    push_pull,        // Membership.PushPull request body
    push_pull_reply,  // Membership.PushPull response body
    keyring,          // Keys.* request body
    keyring_reply,    // Keys.* response body
};

const char* to_string(envelope_kind k);

struct gossip_stamp {
    std::string sender;  // at most 255 bytes (longer is truncated when sealed)
    std::uint64_t generation = 0;
    std::uint64_t sequence = 0;
    std::string receiver;  // at most 255 bytes; see the header comment

    // Longest receiver a datagram stamp carries: an IPv6 literal (45) with a zone (16), brackets
    // and a port (":65535"), rounded up.
    static constexpr std::size_t max_datagram_receiver = 72;
    // Bytes a stamp takes (receiver as given).
    std::size_t size() const { return 1 + sender.size() + 16 + 1 + receiver.size(); }
    // The most a datagram stamp of this sender takes (any receiver address).
    static std::size_t datagram_size_for(std::string_view sender) {
        return 1 + sender.size() + 16 + 1 + max_datagram_receiver;
    }
    // The stamp followed by the payload.
    std::vector<std::uint8_t> prepend_to(std::span<const std::uint8_t> payload) const;
    // Splits an opened plaintext into stamp and payload; nullopt when it is shorter than the
    // lengths it announces. Never throws.
    static std::optional<std::pair<gossip_stamp, std::span<const std::uint8_t>>>
    split(std::span<const std::uint8_t> plain);

    friend bool operator==(const gossip_stamp&, const gossip_stamp&) = default;
};

// The receiver text of a stamp for destination `to` (to.to_string(): the caller passes the IP
// literal it actually sends to).
std::string receiver_of(const common::endpoint& to);

// True when a stamp's receiver names `self` (the address we bound): the same host and port; a
// stamp naming a host that is not an IP literal (a seed given by name), or a self bound to the
// unspecified address (0.0.0.0, ::), matches by port alone.
bool receiver_matches(std::string_view stamped, const common::endpoint& self);

struct opened_message {
    gossip_stamp stamp;
    std::vector<std::uint8_t> payload;
};

class gossip_envelope {
public:
    // How far a keyring request's clock may be from the receiver's.
    static constexpr std::chrono::seconds keyring_freshness{300};

    // `cipher` is shared with the keyring service, which changes the ring at run time.
    gossip_envelope(std::shared_ptr<gossip_cipher> cipher, std::string cluster);

    // "<label>\0<cluster>": the associated data of one kind.
    static std::string associated_data(envelope_kind kind, std::string_view cluster);
    // Bytes sealing adds to a datagram's SWIM payload (cipher + the longest stamp of `sender`).
    static std::size_t datagram_overhead(std::string_view sender) {
        return gossip_cipher::overhead() + gossip_stamp::datagram_size_for(sender);
    }

    // Seals with the primary key. Throws only if OpenSSL fails (gossip_cipher::seal).
    std::vector<std::uint8_t> seal(envelope_kind kind, const gossip_stamp& stamp,
                                   std::span<const std::uint8_t> payload) const;
    // Opens with any key of the ring; nullopt when it does not authenticate as `kind` of our
    // cluster, or its stamp is malformed.
    std::optional<opened_message> open(envelope_kind kind,
                                       std::span<const std::uint8_t> sealed) const noexcept;
    // As open(), with the primary key only (keyring requests: whoever changes the ring must hold
    // the key the cluster seals with).
    std::optional<opened_message> open_primary(envelope_kind kind,
                                               std::span<const std::uint8_t> sealed) const noexcept;

    // One key, no ring: the `rpcnetd keys` client, which holds the key it was given.
    static std::vector<std::uint8_t> seal_with(const gossip_cipher::key& k,
                                               std::string_view cluster, envelope_kind kind,
                                               const gossip_stamp& stamp,
                                               std::span<const std::uint8_t> payload);
    static std::optional<opened_message> open_with(const gossip_cipher::key& k,
                                                   std::string_view cluster, envelope_kind kind,
                                                   std::span<const std::uint8_t> sealed) noexcept;

    gossip_cipher& cipher() const { return *cipher_; }
    const std::shared_ptr<gossip_cipher>& shared_cipher() const { return cipher_; }
    const std::string& cluster() const { return cluster_; }

private:
    std::shared_ptr<gossip_cipher> cipher_;
    std::string cluster_;
};

// What a receiver concluded about one sealed message.
enum class open_verdict : std::uint8_t {
    accepted,
    unauthenticated,  // does not open (key, cluster, kind, bytes) or its stamp is malformed
    wrong_receiver,   // opens, but was sealed for another member
    replayed,         // opens, but its stamp was already accepted (or is older than the window)
    stale,            // opens, but its clock is outside the freshness window (keyring)
};

const char* to_string(open_verdict v);

struct open_outcome {
    open_verdict verdict = open_verdict::unauthenticated;
    std::optional<opened_message> message;  // set when accepted
};

// The receiving side of one kind of request (datagrams, push-pull or keyring bodies): opens,
// checks the receiver, the freshness window (when a time is given) and the replay window of the
// sender. One per kind and member. Not thread-safe (the member's io thread).
class envelope_receiver {
public:
    envelope_receiver(const gossip_envelope& envelope, envelope_kind kind,
                      std::size_t max_senders = 4096)
        : envelope_(envelope), kind_(kind), guard_(max_senders) {}

    // `self`: the address we bound and advertise. `now_unix_us`: our wall clock, for kinds with
    // a freshness window (keyring); nullopt skips that check. `primary_only`: keyring requests.
    open_outcome open(std::span<const std::uint8_t> sealed, const common::endpoint& self,
                      std::optional<std::uint64_t> now_unix_us = std::nullopt,
                      bool primary_only = false);

private:
    const gossip_envelope& envelope_;
    envelope_kind kind_;
    replay_guard guard_;
};

// Whether a keyring stamp's clock (generation, unix microseconds) is within keyring_freshness
// of `now_unix_us`.
bool fresh(std::uint64_t stamped_unix_us, std::uint64_t now_unix_us);

}  // namespace rpcnetd::membership
