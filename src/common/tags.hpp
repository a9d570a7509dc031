#pragma once
// Member tags: what a member gossips about itself (key=value), and the names of the tags that
// carry a meaning (the registry, the member listings and the worker read and write them). One
// definition for membership, balance, cli and app.
#include <map>
#include <string>
#include <string_view>

namespace rpcnetd::common {

using tag_map = std::map<std::string, std::string>;

// Tags with a meaning to the registry.
inline constexpr std::string_view role_tag = "role";
inline constexpr std::string_view worker_role = "worker";
inline constexpr std::string_view director_role = "director";
inline constexpr std::string_view label_tag = "label";
// A worker's running stream count, when gossiped as a tag (decimal digits).
inline constexpr std::string_view active_streams_tag = "active_streams";
// How many streams a worker runs at once (`worker --max-jobs`, decimal digits). A worker whose
// load has reached it is full: the registry does not assign it until a stream ends.
inline constexpr std::string_view capacity_tag = "capacity";
// `rpcnetd drain`: a worker gossiping draining=true finishes its running streams but is not
// assigned new ones until `rpcnetd undrain` (any other value, or no tag, means not draining).
inline constexpr std::string_view draining_tag = "draining";

}  // namespace rpcnetd::common
