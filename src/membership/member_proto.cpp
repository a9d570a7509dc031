#include "membership/member_proto.hpp"

namespace rpcnetd::membership {

v1::MemberState to_proto(const member& m) {
    v1::MemberState s;
    s.set_name(m.name);
    s.set_addr(m.addr.to_string());
    s.set_incarnation(m.incarnation);
    s.set_state(static_cast<std::uint32_t>(m.status));
    for (const auto& [k, v] : m.tags) {
        auto* t = s.add_tags();
        t->set_key(k);
        t->set_value(v);
    }
    return s;
}

std::optional<member> from_proto(const v1::MemberState& s) {
    if (s.name().empty() || s.name().size() > 255 || s.state() > 3) {
        return std::nullopt;
    }
    auto addr = common::parse_endpoint(s.addr());
    if (!addr) {
        return std::nullopt;
    }
    member m;
    m.name = s.name();
    m.addr = std::move(*addr);
    m.incarnation = s.incarnation();
    m.status = static_cast<member_status>(s.state());
    for (const auto& t : s.tags()) {
        m.tags.insert_or_assign(t.key(), t.value());
    }
    return m;
}

std::vector<member> from_proto(const google::protobuf::RepeatedPtrField<v1::MemberState>& states,
                               std::size_t* skipped) {
    std::vector<member> out;
    out.reserve(static_cast<std::size_t>(states.size()));
    for (const auto& s : states) {
        if (auto m = from_proto(s)) {
            out.push_back(std::move(*m));
        } else if (skipped != nullptr) {
            ++*skipped;
        }
    }
    return out;
}

void fill(google::protobuf::RepeatedPtrField<v1::MemberState>& out,
          const std::vector<member>& members) {
    for (const auto& m : members) {
        *out.Add() = to_proto(m);
    }
}

}  // namespace rpcnetd::membership
