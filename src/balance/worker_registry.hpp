#pragma once
// The director's worker pool (DESIGN.md §3 "Assignment"): the alive members tagged role=worker,
// how loaded each one is, and which client leases are outstanding. Pure: fed membership snapshots
// and the current time by the director's shell; randomness is a parameter.
//
// Load accounting (why counts fall even when clients vanish silently):
//   connections(w) = live leases of w                      when they are >= reported(w)
//                  = reported(w) + leases made < report_grace before that report, or since
//                                                          otherwise
// A lease lives from assignment until the client releases it (its stream ended). reported(w) is
// the active-stream count the worker itself last reported (gossip, or the health check, which
// is fresher: for observation_wins after a check, gossiped counts are not taken). With
// one director and behaving clients, leases are exact and reports lag behind them, so the count
// is the lease count: the balancer never acts on a stale report (a report can predate streams
// that are starting right now; trusting it would undercount exactly the workers that were just
// picked, and a burst of clients would pile onto them). A report above the lease count holds
// streams this director did not assign (other directors', or from before a restart); then our
// recent leases, which the report may not contain yet, count on top of it. Without that, each
// of several directors saw its own new clients vanish into the others' streams and kept picking
// the same worker until the clients connected (seconds on a loaded machine). A recent lease
// whose stream has started counts twice until it is report_grace old: a director then prefers
// the workers it did not just pick, which spreads a burst.
//   Reconciliation: a report that counts fewer streams than there are leases means clients
// vanished without releasing (kill -9), never opened their stream, or are still connecting.
// Leases made at least report_grace before that report arrived had time to show up in it; when
// there are more of them than the report counts, the surplus vanished and is dropped (oldest
// first) until either the lease count matches the report or no surplus is left. Leases made since
// stay pending on top of the report: a worker with 9 streams and 2 clients connecting to it counts
// 11, not 9 (dropping the oldest leases down to the report would undercount exactly the worker
// that was just picked, and the next clients would pile onto it). As a backstop for a report
// that never changes, leases older than lease_timeout count as old enough too. Workers that have
// never reported are counted by leases alone, which count until released.
//
// Health: mark_unhealthy() (the director's own health check failing, or a client's ReportFailure)
// stops assignment to that worker at once, before the cluster agrees it failed. It is cleared by
// mark_healthy(), or when membership shows the worker alive again after suspect/failed/left
// (a refutation with a higher incarnation proves the worker is back).
//
// Capacity: a worker tagged capacity=N (worker --max-jobs) whose connections count has reached N
// is full and not assigned until a stream ends (a release, or a lower report).
//
// Draining: a worker tagged draining=true (`rpcnetd drain`) keeps its streams and counts but is
// not assigned until the tag goes.
//
// Member states: alive workers are assignable; suspect workers stay in the pool (keeping their
// counts, since they may refute) but are not assigned; failed and left workers are removed with
// their leases (releasing one of those later is a harmless no-op).
//
// Ownership: each lease is bound to its owner, an opaque string the shell chooses (the caller's
// certificate identity under mTLS, else its connection). Lease ids are 128 bits from the injected
// id source (not the balancer's random source, so scripted picks stay exact), and the shell
// decides how unpredictable they are: the director passes a cryptographic generator, the default
// is a fixed-seed mt19937_64 for tests. release() by anyone but the owner is refused and leaves
// the lease counting.
//
// Cost: the assignable workers are kept in a load_index, updated on every change of a worker
// (lease, release, report, health, membership), so an Assign without filter and exclusion costs
// O(log n) with least-connections, power-of-two, round-robin, random and keyless affinity, and
// Release O(log n). A filter, an exclusion or an affinity key walks the pool (O(n)), as before.
// Leases that time out are found through a queue of due times, not a walk over the pool.
//
// Not thread-safe: use from one strand. Lifetime: lease handles must not outlive the registry.
#include "balance/balancer.hpp"
#include "balance/lease_id.hpp"
#include "balance/member_snapshot.hpp"
#include "balance/tag_filter.hpp"
#include "common/endpoint.hpp"
#include "common/error.hpp"
#include "common/random.hpp"
#include "common/time.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace rpcnetd::balance {

// What release() did.
enum class release_result {
    released,   // the lease existed and belonged to the caller; it no longer counts
    unknown,    // never issued, already released, expired, or its worker left the pool
    not_owner,  // the lease belongs to someone else: refused, the lease still counts
};

struct registry_config {
    // A report arriving this long after a lease was made is trusted to include its stream (the
    // worker's report interval plus gossip latency, with margin). Longer: a vanished client
    // inflates the count for longer. Shorter: a slow client start is dropped too early.
    std::chrono::milliseconds report_grace{1000};
    // Backstop: leases older than this give way to a lower report even if it never changes.
    // Longer: a client that never connects inflates the count for longer. Shorter: a client that
    // connects slowly, or a worker whose report is slow to gossip, is briefly undercounted.
    std::chrono::milliseconds lease_timeout{10000};
    // A direct observation (observe_streams) this recent wins over gossiped counts, which left
    // the worker before they arrive: a gossiped count arriving just after a health check is
    // older than it. Longer: gossip is ignored for longer after a check (a busy worker is
    // checked every health interval anyway). Shorter: a stale count can set a fresh one back.
    std::chrono::milliseconds observation_wins{500};
};

// What a request could get right now (check()): a worker, only full ones (every alive, healthy,
// matching worker is at capacity: worth queueing for), or nothing (no such worker at all).
enum class availability { assignable, full, none };

struct assignment {
    lease_id lease;
    std::string worker;  // member name
    std::string label;   // the worker's label tag ("" when untagged)
    common::endpoint rpc_addr;
};

// One row of the pool printout.
struct pool_entry {
    std::string name;
    std::string label;
    common::endpoint rpc_addr;
    member_state state = member_state::alive;
    std::uint32_t connections = 0;          // the count least-connections uses
    std::optional<std::uint32_t> reported;  // the worker's last report, if any
    std::uint32_t pending = 0;              // leases counted on top of the report
    std::optional<std::uint32_t> capacity;  // the worker's capacity tag, if any
    bool healthy = true;                    // not marked unhealthy
    bool full = false;                      // connections have reached capacity
    bool draining = false;                  // tagged draining=true
    bool assignable = false;                // alive, healthy, not draining and not full
};

class worker_registry {
public:
    class lease;

    // Lease-id bits: each call returns 64 uniformly random bits.
    using id_source = std::function<std::uint64_t()>;

    // strategy must not be null. ids: see the header comment (empty: the fixed-seed default).
    explicit worker_registry(std::unique_ptr<balancer> strategy, registry_config config = {},
                             id_source ids = {});

    // --- membership feed -----------------------------------------------------------------------
    // Adds or refreshes one member. Members not tagged role=worker, and failed or left members,
    // are removed (with their leases). A changed report (incarnation or count) is stamped `now`.
    void update(const member_snapshot& member, common::time_point now);
    // The whole membership view: update() each, and remove the pool members not in it.
    void sync(std::span<const member_snapshot> view, common::time_point now);
    void remove(std::string_view name);
    // A direct, fresh observation of a worker's running streams (the director's health check
    // asks the worker itself), stamped `now` even when unchanged, then reconciled. False when
    // name is not in the pool.
    bool observe_streams(std::string_view name, std::uint32_t active, common::time_point now);

    // --- assignment ----------------------------------------------------------------------------
    // Picks an alive, healthy, not full worker matching filter and not named in exclude, with the
    // configured strategy; records a lease for it, owned by `owner`, with a fresh 128-bit id (two
    // calls of the id source, redrawn on the 2^-128 chance of zero or a collision).
    // errc::no_workers when no worker qualifies. Also expires old leases (expire(now)).
    // key: the client's affinity key ("" = none), read by the affinity strategy only.
    std::variant<assignment, errc> assign(const tag_filter& filter,
                                          std::span<const std::string> exclude,
                                          common::time_point now, common::rng& r,
                                          std::string_view owner = {}, std::string_view key = {});
    std::variant<assignment, errc> assign(const tag_filter& filter,
                                          std::span<const std::string> exclude,
                                          common::time_point now, random_source& r,
                                          std::string_view owner = {}, std::string_view key = {});
    // What assign() would find for this request now, without assigning.
    availability check(const tag_filter& filter, std::span<const std::string> exclude,
                       common::time_point now) const;

    // Ends a lease (the client's stream finished, or it reported the worker failed) when `owner`
    // is the one it was assigned to; see release_result.
    release_result release(lease_id id, std::string_view owner = {});
    // release(), and whether that made the lease's worker assignable again (it was full).
    // O(log n): the director calls it per Release to know when to wake its admission queue.
    struct release_outcome {
        release_result result = release_result::unknown;
        bool freed = false;
    };
    release_outcome release_frees(lease_id id, std::string_view owner, common::time_point now);
    // Who owns a live lease; nullopt when unknown.
    std::optional<std::string_view> owner_of(lease_id id) const;

    // Drops leases that no longer count (see the header comment). Called by assign(); the shell
    // may also call it periodically so that lease memory stays bounded when nobody assigns.
    void expire(common::time_point now);

    // --- health --------------------------------------------------------------------------------
    // False when name is not in the pool.
    bool mark_unhealthy(std::string_view name, common::time_point now);
    bool mark_healthy(std::string_view name);
    // Not marked unhealthy; nullopt when name is not in the pool.
    std::optional<bool> pool_healthy(std::string_view name) const;
    // The RPC address the pool has for name (it follows a name taken over at another address);
    // nullopt when name is not in the pool. O(log n).
    std::optional<common::endpoint> rpc_addr_of(std::string_view name) const;

    // --- inspection ----------------------------------------------------------------------------
    std::vector<pool_entry> pool(common::time_point now) const;  // sorted by name
    std::size_t assignable_count(common::time_point now) const;
    std::optional<std::uint32_t> connections(std::string_view name, common::time_point now) const;
    std::size_t lease_count() const noexcept { return lease_owner_.size(); }
    // Changes whenever a worker becomes assignable or stops being so (cheaper than comparing
    // the assignable set after every event).
    std::uint64_t assignable_version() const noexcept { return assignable_version_; }
    const balancer& strategy() const noexcept { return *strategy_; }

private:
    struct worker {
        member_snapshot member;
        // Parsed from member's tags once per update(), not per assign (1,000 workers x every
        // Assign made tag parsing the director's main cost).
        std::optional<std::uint32_t> capacity;
        bool draining = false;
        std::optional<std::uint32_t> reported;
        common::time_point report_at{};
        std::optional<common::time_point> observed_at;  // last observe_streams
        std::optional<common::time_point> unhealthy_since;
        std::set<std::pair<common::time_point, lease_id>> leases;  // (assigned at, id)
        std::string_view key;                   // the map key this worker is stored under (stable)
        bool indexed = false;                   // in index_
        std::optional<common::time_point> due;  // its entry in due_
    };

    std::uint32_t pending(const worker& w, common::time_point now) const;
    // A lease made at `at` is old enough to be in w's last report (report_grace before it).
    bool in_report(const worker& w, common::time_point at) const;
    // Drops the surplus of old leases a lower report accounts for (see the header comment).
    void reconcile(worker& w, std::optional<common::time_point> now = std::nullopt);
    // With more leases than w's report: the (reported + 1)-th oldest lease, the first the report
    // need not include. Once it is old enough, the report proves a lease vanished.
    static std::set<std::pair<common::time_point, lease_id>>::const_iterator
    first_unreported(const worker& w);
    std::uint32_t connections(const worker& w, common::time_point now) const;
    // Alive, healthy and below capacity (the one rule assign(), pool() and assignable_count() use).
    bool assignable(const worker& w, common::time_point now) const;
    // Alive, healthy and not draining, full or not.
    bool serving(const worker& w) const;
    void drop_leases(const worker& w);
    // Brings w's index_ and due_ entries up to date after any change to it.
    void reindex(worker& w);
    void unindex(worker& w);
    // reconcile(w, now) for the workers whose oldest lease may have timed out by now.
    void expire_due(common::time_point now);

    std::unique_ptr<balancer> strategy_;
    registry_config config_;
    std::map<std::string, worker, std::less<>> workers_;
    struct lease_record {
        std::string worker;
        std::string owner;
        common::time_point at;
    };
    std::unordered_map<lease_id, lease_record> lease_owner_;
    id_source ids_;
    load_index index_;  // the assignable workers
    // When a worker's first unreported lease reaches lease_timeout; only workers with more
    // leases than their report (the only ones reconcile can drop from).
    std::set<std::pair<common::time_point, std::string_view>> due_;
    std::uint64_t assignable_version_ = 0;
    // Scratch space reused by assign() to avoid allocating per call.
    std::vector<backend> candidates_;
    std::vector<worker*> candidate_workers_;
};

// Move-only handle that releases its lease when destroyed, so every increment has its decrement
// (STYLE.md §2). Used where one scope owns a lease end to end (tests, in-process clients); the
// director's RPC handlers pass plain lease ids across calls instead.
class worker_registry::lease {
public:
    lease() = default;
    lease(worker_registry& registry, lease_id id, std::string owner = {}) noexcept
        : registry_(&registry), id_(id), owner_(std::move(owner)) {}
    lease(lease&& other) noexcept
        : registry_(other.registry_), id_(other.id_), owner_(std::move(other.owner_)) {
        other.id_ = {};
    }
    lease& operator=(lease&& other) noexcept;
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease() { reset(); }

    lease_id id() const noexcept { return id_; }
    explicit operator bool() const noexcept { return static_cast<bool>(id_); }
    // Releases now (no-op when empty).
    void reset() noexcept;
    // Gives up ownership without releasing; returns the id.
    lease_id detach() noexcept;

private:
    worker_registry* registry_ = nullptr;
    lease_id id_;
    std::string owner_;
};

}  // namespace rpcnetd::balance
