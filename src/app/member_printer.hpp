#pragma once
// `rpcnetd members` output: a table for people, or the JSON array of DESIGN.md §5:
// [{"name","addr","state","incarnation","tags":{...},"active_streams"}].
#include "proto/rpcnetd.pb.h"

#include <string>

namespace rpcnetd::app {

std::string members_json(const v1::MembersResponse& members);
std::string members_table(const v1::MembersResponse& members);

} // namespace rpcnetd::app
