#pragma once
// fuzz_swim_codec: membership::wire::decode_packet on arbitrary (already opened) datagrams.
//
// Invariants: decoding never throws and fails only with malformed_packet or protocol_version
// (the latter exactly when the first byte is not the version); a decoded packet has a non-empty
// sender of at most 255 bytes; re-encoding what decoded gives at most as many bytes as the input
// (unknown messages and duplicate tags are dropped, nothing is added), decodes to the same packet,
// and is canonical (encoding the re-decoded packet yields the same bytes); every decoded address
// prints and parses back unchanged (common::valid_host).
#include "common/endpoint.hpp"
#include "common/error.hpp"
#include "fuzz/fuzz_support.hpp"
#include "membership/swim_codec.hpp"

namespace rpcnetd::fuzz {

inline void fuzz_swim_codec(std::span<const std::uint8_t> data) {
    namespace wire = membership::wire;
    const auto p = wire::decode_packet(data);
    if (!p) {
        if (!data.empty() && data[0] != wire::version) {
            RPCNETD_FUZZ_CHECK(p.error() == make_error_code(errc::protocol_version));
        } else {
            RPCNETD_FUZZ_CHECK(p.error() == make_error_code(errc::malformed_packet));
        }
        return;
    }
    RPCNETD_FUZZ_CHECK(!data.empty() && data[0] == wire::version);
    RPCNETD_FUZZ_CHECK(!p->sender.empty() && p->sender.size() <= 255);
    RPCNETD_FUZZ_CHECK(p->messages.size() <= 255);
    // Every address a peer sent is one the command line would accept, and prints back the same.
    const auto round_trips = [](const common::endpoint& e) {
        const auto back = common::parse_endpoint(e.to_string());
        return back.has_value() && *back == e;
    };
    for (const auto& m : p->messages) {
        if (const auto* a = std::get_if<wire::alive_msg>(&m)) {
            RPCNETD_FUZZ_CHECK(a->tags.size() <= wire::max_tags);
            RPCNETD_FUZZ_CHECK(wire::well_formed(*a));
            RPCNETD_FUZZ_CHECK(round_trips(a->addr));
        }
        if (const auto* r = std::get_if<wire::ping_req_msg>(&m)) {
            RPCNETD_FUZZ_CHECK(round_trips(r->target_addr));
        }
    }
    if (p->messages.empty()) {
        return;  // only unknown message types: nothing to re-encode (a packet needs >= 1)
    }
    const std::span<const wire::message> messages(p->messages);
    const auto again = wire::encode_packet(p->sender, messages);
    RPCNETD_FUZZ_CHECK(again.size() <= data.size());
    const auto q = wire::decode_packet(again);
    RPCNETD_FUZZ_CHECK(q.has_value());
    RPCNETD_FUZZ_CHECK(q->sender == p->sender);
    RPCNETD_FUZZ_CHECK(q->messages == p->messages);
    const std::span<const wire::message> q_messages(q->messages);
    RPCNETD_FUZZ_CHECK(wire::encode_packet(q->sender, q_messages) == again);
}

}  // namespace rpcnetd::fuzz
