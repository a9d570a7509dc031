#pragma once
// A director lease id: 128 random bits, so a client cannot guess another client's lease (the
// registry also binds each lease to its owner; see worker_registry::release). The all-zero value
// means "no lease". On the wire it is 16 bytes, big-endian (AssignResponse.lease).
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace rpcnetd::balance {

struct lease_id {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;

    static constexpr std::size_t wire_size = 16;

    explicit operator bool() const noexcept { return hi != 0 || lo != 0; }
    friend auto operator<=>(const lease_id&, const lease_id&) = default;

    // 16 bytes, big-endian.
    std::string to_bytes() const {
        std::string out(wire_size, '\0');
        for (std::size_t i = 0; i < 8; ++i) {
            out[i] = static_cast<char>((hi >> (56 - 8 * i)) & 0xff);
            out[8 + i] = static_cast<char>((lo >> (56 - 8 * i)) & 0xff);
        }
        return out;
    }
    // nullopt unless exactly 16 bytes (an empty field is "no lease": nullopt too).
    static std::optional<lease_id> from_bytes(std::string_view b) {
        if (b.size() != wire_size) {
            return std::nullopt;
        }
        lease_id id;
        for (std::size_t i = 0; i < 8; ++i) {
            id.hi = (id.hi << 8) | static_cast<unsigned char>(b[i]);
            id.lo = (id.lo << 8) | static_cast<unsigned char>(b[8 + i]);
        }
        return id;
    }
};

}  // namespace rpcnetd::balance

template <>
struct std::hash<rpcnetd::balance::lease_id> {
    std::size_t operator()(const rpcnetd::balance::lease_id& id) const noexcept {
        // The bits are uniformly random already.
        return static_cast<std::size_t>(id.hi ^ (id.lo * 0x9e3779b97f4a7c15ULL));
    }
};
