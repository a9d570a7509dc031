#include "app/member_printer.hpp"

#include "common/json.hpp"

#include <fmt/format.h>

#include <ctime>
#include <map>
#include <utility>

namespace rpcnetd::app {
namespace {

template <typename Message>
std::map<std::string, std::string> tag_map(const Message& m) {
    std::map<std::string, std::string> tags;
    for (const auto& t : m.tags()) {
        tags[t.key()] = t.value();
    }
    return tags;
}

std::string utc_millis(std::uint64_t unix_ms) {
    const auto secs = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                       unix_ms % 1000);
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
                   .add_raw("draining", m.draining() ? "true" : "false")
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

namespace rpcnetd::app {

std::string event_label(std::string_view kind) {
    static constexpr std::pair<std::string_view, std::string_view> labels[] = {
        {"joined", "🟢 NodeJoined"}, {"updated", "🔁 NodeUpdated"},
        {"suspect", "🟡 NodeSuspect"}, {"failed", "🔴 NodeFailed"},
        {"left", "👋 NodeLeft"},     {"recovered", "💚 NodeRecovered"},
    };
    for (const auto& [k, label] : labels) {
        if (k == kind) {
            return std::string(label);
        }
    }
    return "ℹ️  NodeEvent";
}

std::string event_text(const v1::ClusterEvent& e) {
    const auto tags = tag_map(e);
    const auto role = tags.find("role");
    return fmt::format("{} {} node={} addr={} incarnation={}{}", utc_millis(e.unix_ms()),
                       event_label(e.kind()), e.node(), e.addr(), e.incarnation(),
                       role == tags.end() ? std::string() : " role=" + role->second);
}

std::string event_json(const v1::ClusterEvent& e) {
    return common::json_object()
        .add("event", e.kind())
        .add("node", e.node())
        .add("addr", e.addr())
        .add("incarnation", e.incarnation())
        .add("tags", tag_map(e))
        .add("unix_ms", e.unix_ms())
        .str();
}

} // namespace rpcnetd::app
