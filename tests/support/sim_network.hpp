#pragma once
// Discrete-event network simulator for membership::swim_state (STYLE.md §8; shaped after tarantool
// test/unit/fakenet.h + fakeev.h): N members in virtual time with a manual clock and a seeded rng,
// per-link loss and delay, partitions, cut links, paused (hung) and killed nodes. Datagrams are
// delivered at their virtual arrival time; push-pull exchanges run in memory, instantly, when both
// directions of the link are up (they ride TCP, so random loss does not apply).
#include "common/endpoint.hpp"
#include "common/random.hpp"
#include "common/time.hpp"
#include "membership/swim_state.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

namespace rpcnetd::test {

struct recorded_event {
    common::time_point at;
    membership::member_event event;
};

// What the sent datagrams carried, per message kind (sim_network::explain; decoding each datagram
// costs time, so it is off unless asked for). Updates (alive/suspect/failed/left) are told apart by
// why they travel:
//   alive self     the sender's own alive (a refutation, or re-announcing after a stale suspicion)
//   alive relay    someone else's alive, passed on
//   suspect own    the sender's own suspicion or confirmation (from == sender)
//   suspect relay  another member's suspicion, passed on
//   suspect buddy  a suspicion sent to its very subject (the buddy system of swim_state::send)
//   failed own / failed relay / failed buddy, left: likewise
struct kind_tally {
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;  // the message with its type and length prefix
};
struct traffic_breakdown {
    std::map<std::string, kind_tally> kinds;
    std::uint64_t probe_datagrams = 0;   // carry a ping, ping-req, ack or nack
    std::uint64_t gossip_datagrams = 0;  // carry only piggybacked updates
    std::uint64_t header_bytes = 0;
    // Updates a receiver already had in exactly this form (same subject, kind, incarnation, from).
    std::uint64_t updates_delivered = 0;
    std::uint64_t updates_redundant = 0;
};

struct sim_stats {
    std::uint64_t datagrams_sent = 0;
    std::uint64_t datagrams_dropped = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t push_pulls = 0;
    std::size_t largest_datagram = 0;
};

class sim_network {
public:
    sim_network(membership::swim_config config, std::uint64_t seed);
    ~sim_network();

    // Adds a member named `name` at address sim:<20000 + index>; returns its index.
    std::size_t add_node(const std::string& name, membership::tag_map tags = {},
                         std::uint32_t generation = 0);
    // Runs join() on node i towards the given nodes' addresses.
    void join(std::size_t i, const std::vector<std::size_t>& seeds);
    // Makes every node know every other as alive without gossip (a converged start).
    void seed_all();

    void run_for(common::duration d);
    // Runs until pred() holds (checked every `every` of virtual time) or `limit` passes; returns
    // whether it held.
    bool run_until(const std::function<bool()>& pred, common::duration limit,
                   common::duration every = common::milliseconds{10});

    common::time_point now() const { return now_; }
    common::time_point start() const { return start_; }
    std::size_t size() const { return nodes_.size(); }
    const membership::swim_config& config() const { return config_; }

    membership::swim_state& state(std::size_t i);
    const std::string& name(std::size_t i) const;
    common::endpoint addr(std::size_t i) const;
    bool running(std::size_t i) const;  // not killed and not paused

    // Calls into a node the way the shell would, delivering what it returns.
    void set_tags(std::size_t i, membership::tag_map tags);
    void leave(std::size_t i);
    void probe_now(std::size_t i, const std::string& target);
    void inject(std::size_t to, const common::endpoint& from, std::vector<std::uint8_t> datagram);

    // Faults.
    void set_loss(double p);                                         // every link
    void set_link_loss(std::size_t from, std::size_t to, double p);  // one direction
    void set_delay(common::duration min, common::duration max);
    void cut(std::size_t a, std::size_t b);  // both directions
    void restore(std::size_t a, std::size_t b);
    void partition(const std::vector<std::vector<std::size_t>>& groups);
    void heal();                             // ends partitions (cuts stay)
    void pause(std::size_t i, bool paused);  // hung: no ticks, incoming datagrams dropped
    void kill(std::size_t i);                // crash: gone for good
    // Restart a killed node: a fresh swim_state with the same name and address and a new
    // generation, joining the given seeds.
    void restart(std::size_t i, std::uint32_t generation, const std::vector<std::size_t>& seeds);

    // What node `observer` believes about `name` (nullopt: unknown).
    std::optional<membership::member_status> status(std::size_t observer,
                                                    const std::string& name) const;
    // Every running node other than `subject` sees `subject` in state s.
    bool all_see(const std::string& subject, membership::member_status s) const;
    // Every running node sees every other running node alive.
    bool converged() const;

    // Events are recorded per node unless disabled (large simulations); the hook sees all.
    void record_events(bool on) { record_ = on; }
    const std::vector<recorded_event>& events(std::size_t i) const;
    std::function<void(std::size_t, common::time_point, const membership::member_event&)> on_event;

    const sim_stats& stats() const { return stats_; }

    // Per-kind accounting of every datagram sent from now on (see traffic_breakdown).
    void explain(bool on) { explain_ = on; }
    const traffic_breakdown& breakdown() const { return breakdown_; }
    // Every running node's counters, added up (the fields of summed_counters).
    membership::swim_counters counters_total() const;
    static constexpr std::uint64_t membership::swim_counters::*summed_counters[] = {
        &membership::swim_counters::datagrams_sent,
        &membership::swim_counters::bytes_sent,
        &membership::swim_counters::probes,
        &membership::swim_counters::phi_probes,
        &membership::swim_counters::indirect_probes,
        &membership::swim_counters::nacks_received,
        &membership::swim_counters::probe_failures,
        &membership::swim_counters::second_chances,
        &membership::swim_counters::suspicions,
        &membership::swim_counters::refutations,
        &membership::swim_counters::failures_declared,
        &membership::swim_counters::push_pulls,
        &membership::swim_counters::misdirected,
    };

private:
    struct node;
    struct in_flight {
        common::time_point at;
        std::uint64_t seq;
        std::size_t to;
        common::endpoint from;
        std::vector<std::uint8_t> payload;
        bool operator>(const in_flight& o) const {
            return std::tie(at, seq) > std::tie(o.at, o.seq);
        }
    };
    struct wake {
        common::time_point at;
        std::size_t node;
        std::uint64_t version;
        bool operator>(const wake& o) const { return std::tie(at, node) > std::tie(o.at, o.node); }
    };

    void deliver(std::size_t from, std::vector<membership::outbound> out);
    void tally(std::size_t from, std::optional<std::size_t> to,
               const std::vector<std::uint8_t>& payload);
    void tally_received(std::size_t to, const std::vector<std::uint8_t>& payload);
    void push_pull(std::size_t from, const common::endpoint& to);
    void after_call(std::size_t i);
    void schedule(std::size_t i);
    bool link_up(std::size_t from, std::size_t to) const;
    std::optional<std::size_t> index_of(const common::endpoint& e) const;
    void step_to(common::time_point t);

    membership::swim_config config_;
    common::rng rng_;
    common::time_point start_;
    common::time_point now_;
    std::vector<std::unique_ptr<node>> nodes_;
    std::priority_queue<in_flight, std::vector<in_flight>, std::greater<>> flights_;
    std::priority_queue<wake, std::vector<wake>, std::greater<>> wakes_;
    std::uint64_t seq_ = 0;
    double loss_ = 0.0;
    std::map<std::pair<std::size_t, std::size_t>, double> link_loss_;
    std::set<std::pair<std::size_t, std::size_t>> cuts_;
    std::vector<int> group_;
    common::duration delay_min_ = common::microseconds{500};
    common::duration delay_max_ = common::milliseconds{2};
    bool record_ = true;
    sim_stats stats_;
    bool explain_ = false;
    traffic_breakdown breakdown_;
    std::vector<std::set<std::string>> heard_;  // per node: updates received (explain mode)
};

}  // namespace rpcnetd::test
