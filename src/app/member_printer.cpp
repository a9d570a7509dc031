#include "app/member_printer.hpp"

#include "common/json.hpp"

#include <fmt/format.h>

#include <map>

namespace rpcnetd::app {
namespace {

std::map<std::string, std::string> tag_map(const v1::MemberInfo& m) {
    std::map<std::string, std::string> tags;
    for (const auto& t : m.tags()) {
        tags[t.key()] = t.value();
    }
    return tags;
}

} // namespace

std::string members_json(const v1::MembersResponse& members) {
    std::string out = "[";
    for (const auto& m : members.members()) {
        if (out.size() > 1) {
            out += ",";
        }
        out += common::json_object()
                   .add("name", m.name())
                   .add("addr", m.addr())
                   .add("state", m.state())
                   .add("incarnation", m.incarnation())
                   .add("tags", tag_map(m))
                   .add("active_streams", std::uint64_t{m.active_streams()})
                   .str();
    }
    return out + "]\n";
}

std::string members_table(const v1::MembersResponse& members) {
    std::string out = fmt::format("{:<16} {:<22} {:<8} {:>12} {:>7}  {}\n", "NAME", "ADDR", "STATE",
                                  "INCARNATION", "STREAMS", "TAGS");
    for (const auto& m : members.members()) {
        std::string tags;
        for (const auto& [k, v] : tag_map(m)) {
            tags += (tags.empty() ? "" : ",") + k + "=" + v;
        }
        out += fmt::format("{:<16} {:<22} {:<8} {:>12} {:>7}  {}\n", m.name(), m.addr(), m.state(),
                           m.incarnation(), m.active_streams(), tags);
    }
    return out;
}

} // namespace rpcnetd::app
