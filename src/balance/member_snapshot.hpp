#pragma once
// What the worker registry needs to know about one cluster member, as the membership layer sees
// it now. The app converts membership's own member type into this, so balance/ does not depend on
// membership/ (both are cluster-layer peers, STYLE.md §1).
#include "balance/tag_filter.hpp"
#include "common/endpoint.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rpcnetd::balance {

enum class member_state { alive, suspect, failed, left };

std::string_view to_string(member_state s) noexcept;

// Tags with a meaning to the registry.
inline constexpr std::string_view role_tag = "role";
inline constexpr std::string_view worker_role = "worker";
inline constexpr std::string_view label_tag = "label";
// A worker's running stream count, when gossiped as a tag (decimal digits).
inline constexpr std::string_view active_streams_tag = "active_streams";
// How many streams a worker runs at once (`worker --max-jobs`, decimal digits). A worker whose
// load has reached it is full: the registry does not assign it until a stream ends.
inline constexpr std::string_view capacity_tag = "capacity";
// `rpcnetd drain`: a worker gossiping draining=true finishes its running streams but is not
// assigned new ones until `rpcnetd undrain` (any other value, or no tag, means not draining).
inline constexpr std::string_view draining_tag = "draining";

struct member_snapshot {
    std::string name;
    common::endpoint rpc_addr;
    member_state state = member_state::alive;
    std::uint64_t incarnation = 0;
    tag_map tags;
    // The worker's own count of running streams, if it reports one (a gossip field). When absent
    // the registry reads the active_streams tag; when that is absent or malformed too, the worker
    // is treated as not reporting.
    std::optional<std::uint32_t> active_streams;

    // The reported count from the field or the tag; nullopt when neither is usable.
    std::optional<std::uint32_t> reported_streams() const;
    // The capacity tag; nullopt when absent, malformed or 0 (no limit).
    std::optional<std::uint32_t> capacity() const;
    bool is_worker() const;
    // Tagged draining=true.
    bool draining() const;
};

}  // namespace rpcnetd::balance
