#include "membership/event_damper.hpp"

#include <algorithm>

namespace rpcnetd::membership {

void event_damper::release(const std::string& name, std::vector<member_event>& out) {
    if (auto it = held_.find(name); it != held_.end()) {
        out.push_back(std::move(it->second.event));
        held_.erase(it);
    }
}

std::vector<member_event> event_damper::offer(std::vector<member_event> events,
                                              common::time_point now) {
    std::vector<member_event> out;
    for (auto& e : events) {
        const std::string name = e.snapshot.name;  // e is moved from below
        if (e.kind == member_event_kind::suspect) {
            if (auto it = held_.find(name); it != held_.end()) {
                it->second.event = std::move(e);  // still one suspicion; keep its hold
            } else if (hold_.count() <= 0) {
                out.push_back(std::move(e));
            } else {
                held_.emplace(name, held_event{now + hold_, next_order_++, std::move(e)});
            }
            continue;
        }
        if (e.kind == member_event_kind::recovered && held_.erase(name) != 0) {
            ++dropped_;  // refuted within the hold: nothing happened, as far as operators care
            continue;
        }
        release(name, out);
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<member_event> event_damper::due(common::time_point now) {
    std::vector<const held_event*> ready;
    for (const auto& [name, h] : held_) {
        if (h.due <= now) {
            ready.push_back(&h);
        }
    }
    std::sort(ready.begin(), ready.end(),
              [](const held_event* a, const held_event* b) { return a->order < b->order; });
    std::vector<member_event> out;
    out.reserve(ready.size());
    for (const auto* h : ready) {
        out.push_back(h->event);
    }
    for (const auto& e : out) {
        held_.erase(e.snapshot.name);
    }
    return out;
}

std::optional<common::time_point> event_damper::next_due() const {
    std::optional<common::time_point> t;
    for (const auto& [name, h] : held_) {
        if (!t || h.due < *t) {
            t = h.due;
        }
    }
    return t;
}

}  // namespace rpcnetd::membership
