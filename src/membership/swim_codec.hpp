#pragma once
// Gossip wire format (DESIGN.md §4): one UDP datagram = header + one or more SWIM messages.
//
//   u8  version (1)
//   u8  sender name length, sender name bytes      (feeds the sender's phi detector)
//   u8  message count (>= 1)
//   count x { u8 type, u16 body length (big endian), body }
//
// Strings are u8 length + bytes; integers big endian. The decoder checks every length and count
// against the bytes that remain before using it, never throws, and rejects trailing bytes.
// Unknown message types are skipped by their length (forward compatibility).
#include "common/endpoint.hpp"
#include "membership/member.hpp"

#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rpcnetd::membership::wire {

inline constexpr std::uint8_t version = 1;
inline constexpr std::size_t max_tags = 64;
inline constexpr std::size_t max_text = 255;  // names, tag keys and values: one length byte

enum class msg_type : std::uint8_t {
    ping = 1,
    ping_req = 2,
    ack = 3,
    nack = 4,
    alive = 5,
    suspect = 6,
    failed = 7,
    left = 8
};

struct ping_msg {
    std::uint32_t seq = 0;
    std::string target;  // the receiver ignores pings meant for another name on its address
    friend bool operator==(const ping_msg&, const ping_msg&) = default;
};
struct ping_req_msg {
    std::uint32_t seq = 0;
    std::string target;
    common::endpoint target_addr;
    friend bool operator==(const ping_req_msg&, const ping_req_msg&) = default;
};
struct ack_msg {
    std::uint32_t seq = 0;
    friend bool operator==(const ack_msg&, const ack_msg&) = default;
};
struct nack_msg {
    std::uint32_t seq = 0;
    friend bool operator==(const nack_msg&, const nack_msg&) = default;
};
struct alive_msg {
    std::string name;
    common::endpoint addr;
    std::uint64_t incarnation = 0;
    tag_map tags;
    friend bool operator==(const alive_msg&, const alive_msg&) = default;
};
struct suspect_msg {
    std::string name;
    std::uint64_t incarnation = 0;
    std::string from;  // who suspects: distinct senders are Lifeguard confirmations
    friend bool operator==(const suspect_msg&, const suspect_msg&) = default;
};
struct failed_msg {
    std::string name;
    std::uint64_t incarnation = 0;
    std::string from;
    friend bool operator==(const failed_msg&, const failed_msg&) = default;
};
struct left_msg {
    std::string name;
    std::uint64_t incarnation = 0;
    friend bool operator==(const left_msg&, const left_msg&) = default;
};

using message = std::variant<ping_msg, ping_req_msg, ack_msg, nack_msg, alive_msg, suspect_msg,
                             failed_msg, left_msg>;

struct packet {
    std::string sender;
    std::vector<message> messages;
};

// What decode_packet guarantees of every alive message it returns: a name of 1..255 bytes, at
// most max_tags tags of at most 255 bytes each, all valid UTF-8, and an address host that passes
// common::valid_host. swim_state applies it to members that arrive by other paths (push-pull,
// seeds), so everything it stores encodes into a datagram that decodes again.
bool well_formed(const alive_msg& m) noexcept;
// A string the codec carries unchanged: at most max_text bytes of valid UTF-8.
bool well_formed_text(std::string_view text) noexcept;

// One message with its type and length prefix, ready to be packed by encode_packet. Strings longer
// than 255 bytes are truncated (names and tags are validated by the caller: well_formed).
std::vector<std::uint8_t> encode_message(const message& m);

// Bytes the header takes for this sender (the budget left for messages is max - this).
std::size_t header_size(std::string_view sender);

// Header + the given pre-encoded messages (1..255 of them).
std::vector<std::uint8_t> encode_packet(std::string_view sender,
                                        std::span<const std::vector<std::uint8_t>> messages);

// Convenience: header + encoded messages.
std::vector<std::uint8_t> encode_packet(std::string_view sender, std::span<const message> messages);

// Parses a datagram. Errors: errc::malformed_packet (any bad length, count, string or trailing
// bytes), errc::protocol_version.
boost::system::result<packet> decode_packet(std::span<const std::uint8_t> datagram);

}  // namespace rpcnetd::membership::wire
