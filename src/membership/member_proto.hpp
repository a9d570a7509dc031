#pragma once
// Conversions between membership::member and the push-pull messages of rpcnetd.proto
// (v1::MemberState, PushPullRequest, PushPullResponse), for the Membership.PushPull RPC.
// The SWIM core never sees protobuf; the app's RPC handler and client use these.
#include "membership/member.hpp"
#include "proto/rpcnetd.pb.h"

#include <optional>
#include <vector>

namespace rpcnetd::membership {

v1::MemberState to_proto(const member& m);

// nullopt for untrusted input that makes no sense: empty name, bad address, unknown state.
std::optional<member> from_proto(const v1::MemberState& s);

// Every convertible entry (bad ones are skipped, counted in *skipped when given).
std::vector<member> from_proto(const google::protobuf::RepeatedPtrField<v1::MemberState>& states,
                               std::size_t* skipped = nullptr);

void fill(google::protobuf::RepeatedPtrField<v1::MemberState>& out,
          const std::vector<member>& members);

}  // namespace rpcnetd::membership
