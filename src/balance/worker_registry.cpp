#include "balance/worker_registry.hpp"

#include <algorithm>
#include <stdexcept>

namespace rpcnetd::balance {

worker_registry::worker_registry(std::unique_ptr<balancer> strategy, registry_config config,
                                 id_source ids)
    : strategy_(std::move(strategy)), config_(config), ids_(std::move(ids)) {
    if (!ids_) {
        ids_ = [g = common::rng(0x1ea5e)]() mutable { return g(); };
    }
    if (!strategy_) {
        throw std::invalid_argument("worker_registry needs a balancing strategy");
    }
}

// --- membership feed ---------------------------------------------------------------------------

void worker_registry::update(const member_snapshot& member, common::time_point now) {
    if (!member.is_worker() || member.state == member_state::failed ||
        member.state == member_state::left) {
        remove(member.name);
        return;
    }
    auto it = workers_.find(member.name);
    if (it == workers_.end()) {
        it = workers_.emplace(member.name, worker{}).first;
        it->second.key = it->first;
    } else if (it->second.member.state != member_state::alive &&
               member.state == member_state::alive) {
        // Refuted suspicion: the worker proved it is back, so a stale unhealthy mark goes too.
        it->second.unhealthy_since.reset();
    }
    worker& w = it->second;
    const auto report = member.reported_streams();
    if (!report) {
        w.reported.reset();
    } else if (w.observed_at && now - *w.observed_at < config_.observation_wins) {
        // The health check asked the worker itself that recently: a gossiped count left the
        // worker earlier than it arrives here, and would set the count back.
    } else if (!w.reported || *w.reported != *report ||
               w.member.incarnation != member.incarnation) {
        w.reported = report;
        w.report_at = now;
    }
    w.member = member;
    w.capacity = member.capacity();
    w.draining = member.draining();
    reconcile(w);
    reindex(w);
}

bool worker_registry::observe_streams(std::string_view name, std::uint32_t active,
                                      common::time_point now) {
    const auto it = workers_.find(name);
    if (it == workers_.end()) {
        return false;
    }
    it->second.reported = active;
    it->second.report_at = now;
    it->second.observed_at = now;
    reconcile(it->second, now);
    reindex(it->second);
    return true;
}

void worker_registry::reconcile(worker& w, std::optional<common::time_point> now) {
    if (!w.reported) {
        return;
    }
    // The report can include at most `reported` of the leases old enough to be in it, and those
    // are the oldest ones (a report counts the streams that had started, and the leases made
    // just before it are the ones whose clients may still be connecting). So a lease is known to
    // have vanished only when the (reported + 1)-th oldest lease is old enough too; then one old
    // lease is surplus, and the oldest is dropped (which old one goes does not change the count).
    while (w.leases.size() > *w.reported) {
        const auto at = first_unreported(w)->first;
        const bool timed_out = now && *now - at >= config_.lease_timeout;
        if (!in_report(w, at) && !timed_out) {
            break;
        }
        const auto oldest = w.leases.begin();
        lease_owner_.erase(oldest->second);
        w.leases.erase(oldest);
    }
}

bool worker_registry::in_report(const worker& w, common::time_point at) const {
    return w.report_at - at >= config_.report_grace;
}

std::set<std::pair<common::time_point, lease_id>>::const_iterator
worker_registry::first_unreported(const worker& w) {
    // leases - reported steps from the newest end: a burst's few new leases, not every stream.
    return std::prev(w.leases.end(), static_cast<std::ptrdiff_t>(w.leases.size() - *w.reported));
}

void worker_registry::reindex(worker& w) {
    const bool in = assignable(w, {});
    if (in) {
        index_.set(w.key, connections(w, {}), w.capacity.value_or(0));
    } else {
        index_.erase(w.key);
    }
    if (in != w.indexed) {
        w.indexed = in;
        ++assignable_version_;
    }
    std::optional<common::time_point> due;
    if (w.reported && w.leases.size() > *w.reported) {
        due = first_unreported(w)->first + config_.lease_timeout;
    }
    if (due != w.due) {
        if (w.due) {
            due_.erase({*w.due, w.key});
        }
        if (due) {
            due_.insert({*due, w.key});
        }
        w.due = due;
    }
}

void worker_registry::unindex(worker& w) {
    index_.erase(w.key);
    if (w.indexed) {
        ++assignable_version_;
    }
    if (w.due) {
        due_.erase({*w.due, w.key});
    }
}

void worker_registry::expire_due(common::time_point now) {
    while (!due_.empty() && due_.begin()->first <= now) {
        const auto [at, name] = *due_.begin();
        const auto it = workers_.find(name);
        if (it == workers_.end()) {  // not reachable: remove() unindexes; stay safe anyway
            due_.erase(due_.begin());
            continue;
        }
        reconcile(it->second, now);
        reindex(it->second);
        if (it->second.due && *it->second.due <= now) {  // cannot happen; never loop on it
            due_.erase({*it->second.due, name});
            it->second.due.reset();
        }
    }
}

void worker_registry::sync(std::span<const member_snapshot> view, common::time_point now) {
    std::vector<std::string_view> present;
    present.reserve(view.size());
    for (const auto& m : view) {
        update(m, now);
        present.push_back(m.name);
    }
    std::sort(present.begin(), present.end());
    for (auto it = workers_.begin(); it != workers_.end();) {
        if (std::binary_search(present.begin(), present.end(), std::string_view(it->first))) {
            ++it;
        } else {
            drop_leases(it->second);
            unindex(it->second);
            it = workers_.erase(it);
        }
    }
}

void worker_registry::remove(std::string_view name) {
    const auto it = workers_.find(name);
    if (it != workers_.end()) {
        drop_leases(it->second);
        unindex(it->second);
        workers_.erase(it);
    }
}

void worker_registry::drop_leases(const worker& w) {
    for (const auto& [at, id] : w.leases) {
        lease_owner_.erase(id);
    }
}

// --- assignment --------------------------------------------------------------------------------

std::variant<assignment, errc> worker_registry::assign(const tag_filter& filter,
                                                       std::span<const std::string> exclude,
                                                       common::time_point now, common::rng& r,
                                                       std::string_view owner,
                                                       std::string_view key) {
    random_source source(r);
    return assign(filter, exclude, now, source, owner, key);
}

availability worker_registry::check(const tag_filter& filter, std::span<const std::string> exclude,
                                    common::time_point now) const {
    bool any_full = false;
    for (const auto& [name, w] : workers_) {
        if (!serving(w) || !filter.matches(w.member.tags) ||
            std::find(exclude.begin(), exclude.end(), name) != exclude.end()) {
            continue;
        }
        if (assignable(w, now)) {
            return availability::assignable;
        }
        any_full = true;
    }
    return any_full ? availability::full : availability::none;
}

std::variant<assignment, errc> worker_registry::assign(const tag_filter& filter,
                                                       std::span<const std::string> exclude,
                                                       common::time_point now, random_source& r,
                                                       std::string_view owner,
                                                       std::string_view key) {
    expire_due(now);
    worker* picked = nullptr;
    if (filter.empty() && exclude.empty()) {
        if (index_.empty()) {
            return errc::no_workers;
        }
        if (const auto e = strategy_->pick_indexed(index_, r, key)) {
            picked = &workers_.find(e->name)->second;
        }
    }
    if (picked == nullptr) {
        // A filter, an exclusion or a strategy without an indexed pick: every candidate.
        candidates_.clear();
        candidate_workers_.clear();
        for (auto& [name, w] : workers_) {
            if (!assignable(w, now) || !filter.matches(w.member.tags) ||
                std::find(exclude.begin(), exclude.end(), name) != exclude.end()) {
                continue;
            }
            candidates_.push_back(backend{name, connections(w, now), w.capacity.value_or(0)});
            candidate_workers_.push_back(&w);
        }
        const auto index = strategy_->pick(candidates_, r, key);
        if (!index) {
            return errc::no_workers;
        }
        picked = candidate_workers_[*index];
    }
    worker& chosen = *picked;
    lease_id id;
    while (!id || lease_owner_.count(id) != 0) {  // zero means "no lease"
        id.hi = ids_();
        id.lo = ids_();
    }
    chosen.leases.emplace(now, id);
    lease_owner_.emplace(id, lease_record{chosen.member.name, std::string(owner), now});
    reindex(chosen);

    assignment out;
    out.lease = id;
    out.worker = chosen.member.name;
    const auto label = chosen.member.tags.find(std::string(label_tag));
    out.label = label == chosen.member.tags.end() ? std::string{} : label->second;
    out.rpc_addr = chosen.member.rpc_addr;
    return out;
}

release_result worker_registry::release(lease_id id, std::string_view owner) {
    const auto it = lease_owner_.find(id);
    if (it == lease_owner_.end()) {
        return release_result::unknown;
    }
    if (it->second.owner != owner) {
        return release_result::not_owner;
    }
    const auto w = workers_.find(it->second.worker);
    if (w != workers_.end()) {
        w->second.leases.erase({it->second.at, id});
        reindex(w->second);
    }
    lease_owner_.erase(it);
    return release_result::released;
}

std::optional<std::string_view> worker_registry::owner_of(lease_id id) const {
    const auto it = lease_owner_.find(id);
    if (it == lease_owner_.end()) {
        return std::nullopt;
    }
    return std::string_view(it->second.owner);
}

worker_registry::release_outcome worker_registry::release_frees(lease_id id, std::string_view owner,
                                                                common::time_point now) {
    const auto it = lease_owner_.find(id);
    if (it == lease_owner_.end()) {
        return {release_result::unknown, false};
    }
    if (it->second.owner != owner) {
        return {release_result::not_owner, false};
    }
    const auto w = workers_.find(it->second.worker);
    bool freed = false;
    if (w != workers_.end()) {
        const bool was_assignable = w->second.indexed;
        w->second.leases.erase({it->second.at, id});
        reindex(w->second);
        freed = !was_assignable && assignable(w->second, now);
    }
    lease_owner_.erase(it);
    return {release_result::released, freed};
}

void worker_registry::expire(common::time_point now) {
    expire_due(now);  // workers without reports keep their leases until released
}

// --- load --------------------------------------------------------------------------------------

std::uint32_t worker_registry::pending(const worker& w, common::time_point) const {
    const auto leases = static_cast<std::uint32_t>(w.leases.size());
    const std::uint32_t reported = w.reported.value_or(0);
    if (leases >= reported) {
        return leases - reported;  // our leases account for the whole report
    }
    // The report counts more streams than we hold leases: other directors' clients are in it.
    // Our leases too recent to be in it count on top (found from the newest end: O(young)).
    std::uint32_t young = 0;
    for (auto it = w.leases.rbegin(); it != w.leases.rend() && !in_report(w, it->first); ++it) {
        ++young;
    }
    return young;
}

std::uint32_t worker_registry::connections(const worker& w, common::time_point now) const {
    return w.reported.value_or(0) + pending(w, now);
}

// --- health ------------------------------------------------------------------------------------

bool worker_registry::mark_unhealthy(std::string_view name, common::time_point now) {
    const auto it = workers_.find(name);
    if (it == workers_.end()) {
        return false;
    }
    if (!it->second.unhealthy_since) {
        it->second.unhealthy_since = now;
    }
    reindex(it->second);
    return true;
}

bool worker_registry::mark_healthy(std::string_view name) {
    const auto it = workers_.find(name);
    if (it == workers_.end()) {
        return false;
    }
    it->second.unhealthy_since.reset();
    reindex(it->second);
    return true;
}

std::optional<bool> worker_registry::pool_healthy(std::string_view name) const {
    const auto it = workers_.find(name);
    if (it == workers_.end()) {
        return std::nullopt;
    }
    return !it->second.unhealthy_since;
}

std::optional<common::endpoint> worker_registry::rpc_addr_of(std::string_view name) const {
    const auto it = workers_.find(name);
    if (it == workers_.end()) {
        return std::nullopt;
    }
    return it->second.member.rpc_addr;
}

// --- inspection --------------------------------------------------------------------------------

std::vector<pool_entry> worker_registry::pool(common::time_point now) const {
    std::vector<pool_entry> out;
    out.reserve(workers_.size());
    for (const auto& [name, w] : workers_) {
        pool_entry e;
        e.name = name;
        const auto label = w.member.tags.find(std::string(label_tag));
        e.label = label == w.member.tags.end() ? std::string{} : label->second;
        e.rpc_addr = w.member.rpc_addr;
        e.state = w.member.state;
        e.reported = w.reported;
        e.pending = pending(w, now);
        e.connections = connections(w, now);
        e.capacity = w.capacity;
        e.healthy = !w.unhealthy_since;
        e.full = e.capacity && e.connections >= *e.capacity;
        e.draining = w.draining;
        e.assignable = assignable(w, now);
        out.push_back(std::move(e));
    }
    return out;
}

std::size_t worker_registry::assignable_count(common::time_point) const {
    return index_.size();
}

bool worker_registry::serving(const worker& w) const {
    return w.member.state == member_state::alive && !w.unhealthy_since && !w.draining;
}

bool worker_registry::assignable(const worker& w, common::time_point now) const {
    if (!serving(w)) {
        return false;
    }
    const auto& cap = w.capacity;
    return !cap || connections(w, now) < *cap;
}

std::optional<std::uint32_t> worker_registry::connections(std::string_view name,
                                                          common::time_point now) const {
    const auto it = workers_.find(name);
    if (it == workers_.end()) {
        return std::nullopt;
    }
    return connections(it->second, now);
}

// --- lease handle ------------------------------------------------------------------------------

worker_registry::lease& worker_registry::lease::operator=(lease&& other) noexcept {
    if (this != &other) {
        reset();
        registry_ = other.registry_;
        id_ = other.id_;
        owner_ = std::move(other.owner_);
        other.id_ = {};
    }
    return *this;
}

void worker_registry::lease::reset() noexcept {
    if (id_ && registry_ != nullptr) {
        registry_->release(id_, owner_);
    }
    id_ = {};
}

lease_id worker_registry::lease::detach() noexcept {
    const lease_id id = id_;
    id_ = {};
    return id;
}

}  // namespace rpcnetd::balance
