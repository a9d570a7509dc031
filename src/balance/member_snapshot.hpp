#pragma once
// What the worker registry needs to know about one cluster member, as the membership layer sees
// it now. The app converts membership's own member type into this, so balance/ does not depend on
// membership/ (both are cluster-layer peers, STYLE.md §1).
#include "balance/tag_filter.hpp"
#include "common/endpoint.hpp"
#include "common/tags.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rpcnetd::balance {

enum class member_state { alive, suspect, failed, left };

std::string_view to_string(member_state s) noexcept;

// Tags with a meaning to the registry (common/tags.hpp).
using common::active_streams_tag;
using common::capacity_tag;
using common::draining_tag;
using common::label_tag;
using common::role_tag;
using common::worker_role;

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
