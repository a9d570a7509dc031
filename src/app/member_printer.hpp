#pragma once
// `rpcnetd members` output: a table for people, or the JSON array of DESIGN.md §5:
// [{"name","addr","state","incarnation","tags":{...},"active_streams","assignable","health",
//   "health_rtt_ms","capacity"}].
// `rpcnetd events` output: one line per cluster event, in the style the director logs them.
#include "membership/member.hpp"
#include "proto/rpcnetd.pb.h"

#include <string>
#include <string_view>

namespace rpcnetd::app {

// The member's own fields (name, addr, state, incarnation, tags; capacity from its capacity=N
// tag, 0 when absent or not a number; health "unknown"). The director adds what it decides.
void fill_member_info(v1::MemberInfo& info, const membership::member& m);

std::string members_json(const v1::MembersResponse& members);
std::string members_table(const v1::MembersResponse& members);

// "🟢 NodeJoined" for "joined", and so on for updated, suspect, failed, left, recovered (the
// kinds of membership::to_string(member_event_kind)); "ℹ️ NodeEvent" for anything else.
std::string event_label(std::string_view kind);

// Text: "2026-11-26T20:10:01.123Z 🟢 NodeJoined node=… addr=… incarnation=… role=…" (UTC;
// the time tells replayed history from what happens now).
std::string event_text(const v1::ClusterEvent& e);
// JSON line: {"event","node","addr","incarnation","tags":{…},"unix_ms"}.
std::string event_json(const v1::ClusterEvent& e);

}  // namespace rpcnetd::app
