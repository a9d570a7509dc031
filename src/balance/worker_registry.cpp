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
    } else if (it->second.member.state != member_state::alive &&
               member.state == member_state::alive) {
        // Refuted suspicion: the worker proved it is back, so a stale unhealthy mark goes too.
        it->second.unhealthy_since.reset();
    }
    worker& w = it->second;
    const auto report = member.reported_streams();
    if (!report) {
        w.reported.reset();
    } else if (!w.reported || *w.reported != *report ||
               w.member.incarnation != member.incarnation) {
        w.reported = report;
        w.report_at = now;
    }
    w.member = member;
    w.capacity = member.capacity();
    w.draining = member.draining();
    reconcile(w);
}

bool worker_registry::observe_streams(std::string_view name, std::uint32_t active,
                                      common::time_point now) {
    const auto it = workers_.find(name);
    if (it == workers_.end()) {
        return false;
    }
    it->second.reported = active;
    it->second.report_at = now;
    reconcile(it->second, now);
    return true;
}

void worker_registry::reconcile(worker& w, std::optional<common::time_point> now) {
    if (!w.reported) {
        return;
    }
    while (w.leases.size() > *w.reported) {
        auto oldest =
            std::min_element(w.leases.begin(), w.leases.end(),
                             [](const auto& a, const auto& b) { return a.second < b.second; });
        const bool covered = w.report_at - oldest->second >= config_.report_grace;
        const bool timed_out = now && *now - oldest->second >= config_.lease_timeout;
        if (!covered && !timed_out) {
            break;
        }
        lease_owner_.erase(oldest->first);
        w.leases.erase(oldest);
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
            it = workers_.erase(it);
        }
    }
}

void worker_registry::remove(std::string_view name) {
    const auto it = workers_.find(name);
    if (it != workers_.end()) {
        drop_leases(it->second);
        workers_.erase(it);
    }
}

void worker_registry::drop_leases(const worker& w) {
    for (const auto& [id, at] : w.leases) {
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
    candidates_.clear();
    candidate_workers_.clear();
    for (auto& [name, w] : workers_) {
        reconcile(w, now);  // expire(now), in the same pass over the pool
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
    worker& chosen = *candidate_workers_[*index];
    lease_id id;
    while (!id || lease_owner_.count(id) != 0) {  // zero means "no lease"
        id.hi = ids_();
        id.lo = ids_();
    }
    chosen.leases.emplace(id, now);
    lease_owner_.emplace(id, lease_record{chosen.member.name, std::string(owner)});

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
        w->second.leases.erase(id);
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
    const auto w = workers_.find(it->second.worker);
    const bool was_assignable = w != workers_.end() && assignable(w->second, now);
    const auto result = release(id, owner);
    return {result, result == release_result::released && w != workers_.end() && !was_assignable &&
                        assignable(w->second, now)};
}

void worker_registry::expire(common::time_point now) {
    for (auto& [name, w] : workers_) {
        reconcile(w, now);  // workers without reports keep their leases until released
    }
}

// --- load --------------------------------------------------------------------------------------

std::uint32_t worker_registry::pending(const worker& w, common::time_point) const {
    const auto leases = static_cast<std::uint32_t>(w.leases.size());
    const std::uint32_t reported = w.reported.value_or(0);
    return leases > reported ? leases - reported : 0;
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
    return true;
}

bool worker_registry::mark_healthy(std::string_view name) {
    const auto it = workers_.find(name);
    if (it == workers_.end()) {
        return false;
    }
    it->second.unhealthy_since.reset();
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

std::size_t worker_registry::assignable_count(common::time_point now) const {
    return static_cast<std::size_t>(
        std::count_if(workers_.begin(), workers_.end(),
                      [this, now](const auto& kv) { return assignable(kv.second, now); }));
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
