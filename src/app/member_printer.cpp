#include "app/member_printer.hpp"

#include "common/json.hpp"
#include "common/safe_text.hpp"
#include "common/tags.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
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
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, unix_ms % 1000);
}

// Milliseconds to the microsecond; never NaN, infinite or negative.
double rtt_ms(double ms) {
    if (!std::isfinite(ms) || ms < 0) {
        return 0;
    }
    return std::round(ms * 1000.0) / 1000.0;
}

}  // namespace

void fill_member_info(v1::MemberInfo& info, const membership::member& m) {
    info.set_name(m.name);
    info.set_addr(m.addr.to_string());
    info.set_state(std::string(membership::to_string(m.status)));
    info.set_incarnation(m.incarnation);
    for (const auto& [k, v] : m.tags) {
        auto* t = info.add_tags();
        t->set_key(k);
        t->set_value(v);
    }
    std::uint32_t capacity = 0;
    if (const auto it = m.tags.find(std::string(common::capacity_tag)); it != m.tags.end()) {
        const auto& v = it->second;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), capacity);
        if (ec != std::errc() || end != v.data() + v.size()) {
            capacity = 0;
        }
    }
    info.set_capacity(capacity);
    info.set_health("unknown");
}

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
                   .add("assignable", m.assignable())
                   .add("health", m.health().empty() ? std::string("unknown") : m.health())
                   .add("health_rtt_ms", rtt_ms(m.health_rtt_ms()))
                   .add("capacity", std::uint64_t{m.capacity()})
                   .add("draining", m.draining())
                   .str();
    }
    return out + "]\n";
}

std::string members_table(const v1::MembersResponse& members) {
    constexpr auto row = "{:<16} {:<22} {:<8} {:>12} {:>7} {:<10} {:<8} {:>9} {:>8}  {}\n";
    std::string out = fmt::format(row, "NAME", "ADDR", "STATE", "INCARNATION", "STREAMS",
                                  "ASSIGNABLE", "HEALTH", "RTT_MS", "CAPACITY", "TAGS");
    for (const auto& m : members.members()) {
        std::string tags;
        for (const auto& [k, v] : tag_map(m)) {
            tags +=
                (tags.empty() ? "" : ",") + common::escape_text(k) + "=" + common::escape_text(v);
        }
        const auto health = m.health().empty() ? std::string("unknown") : m.health();
        const auto rtt = m.health() == "ok" ? fmt::format("{:.2f}", m.health_rtt_ms()) : "-";
        const auto capacity = m.capacity() == 0 ? std::string("-") : std::to_string(m.capacity());
        out += fmt::format(row, common::escape_text(m.name()), common::escape_text(m.addr()),
                           common::escape_text(m.state()), m.incarnation(), m.active_streams(),
                           m.assignable() ? "yes" : "no", health, rtt, capacity, tags);
    }
    return out;
}

}  // namespace rpcnetd::app

namespace rpcnetd::app {

std::string event_label(std::string_view kind) {
    static constexpr std::pair<std::string_view, std::string_view> labels[] = {
        {"joined", "🟢 NodeJoined"},
        {"updated", "🔁 NodeUpdated"},
        {"suspect", "🟡 NodeSuspect"},
        {"failed", "🔴 NodeFailed"},
        {"left", "👋 NodeLeft"},
        {"recovered", "💚 NodeRecovered"},
        {"conflict", "⚠️ NameConflict"},
    };
    for (const auto& [k, label] : labels) {
        if (k == kind) {
            return std::string(label);
        }
    }
    return "ℹ️  NodeEvent";
}

std::string event_text(const v1::ClusterEvent& e) {
    if (e.addrs_size() > 0) {  // conflict: two addresses claim one name
        std::string addrs;
        for (const auto& a : e.addrs()) {
            addrs += (addrs.empty() ? "" : ",") + a;
        }
        return fmt::format("{} {} node={} addrs={}", utc_millis(e.unix_ms()), event_label(e.kind()),
                           e.node(), addrs);
    }
    const auto tags = tag_map(e);
    const auto role = tags.find(std::string(common::role_tag));
    return fmt::format(
        "{} {} node={} addr={} incarnation={}{}", utc_millis(e.unix_ms()), event_label(e.kind()),
        common::escape_text(e.node()), common::escape_text(e.addr()), e.incarnation(),
        role == tags.end() ? std::string() : " role=" + common::escape_text(role->second));
}

std::string event_json(const v1::ClusterEvent& e) {
    common::json_object out;
    out.add("event", e.kind())
        .add("node", e.node())
        .add("addr", e.addr())
        .add("incarnation", e.incarnation())
        .add("tags", tag_map(e))
        .add("unix_ms", e.unix_ms());
    if (e.addrs_size() > 0) {
        out.add_array("addrs", std::vector<std::string>(e.addrs().begin(), e.addrs().end()));
    }
    return out.str();
}

}  // namespace rpcnetd::app
