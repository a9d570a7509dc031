#include "support/sim_network.hpp"

#include <algorithm>
#include <stdexcept>

namespace rpcnetd::test {

using membership::member_status;
using membership::outbound;

namespace {
constexpr std::uint16_t base_port = 20000;
}

struct sim_network::node {
    std::string name;
    membership::tag_map tags;
    common::rng rng;
    std::unique_ptr<membership::swim_state> state;
    bool paused = false;
    std::uint64_t version = 0;
    std::vector<recorded_event> events;
};

sim_network::sim_network(membership::swim_config config, std::uint64_t seed)
    : config_(config), rng_(seed), start_(common::time_point{} + std::chrono::hours{1}),
      now_(start_) {}

sim_network::~sim_network() = default;

std::size_t sim_network::add_node(const std::string& name, membership::tag_map tags,
                                  std::uint32_t generation) {
    const std::size_t i = nodes_.size();
    auto n = std::make_unique<node>();
    n->name = name;
    n->tags = tags;
    n->rng.seed(rng_());
    n->state = std::make_unique<membership::swim_state>(config_, name, addr(i), std::move(tags),
                                                        n->rng, now_, generation);
    nodes_.push_back(std::move(n));
    group_.push_back(0);
    schedule(i);
    return i;
}

common::endpoint sim_network::addr(std::size_t i) const {
    return common::endpoint{"sim", static_cast<std::uint16_t>(base_port + i)};
}

std::optional<std::size_t> sim_network::index_of(const common::endpoint& e) const {
    if (e.host != "sim" || e.port < base_port) {
        return std::nullopt;
    }
    const auto i = static_cast<std::size_t>(e.port - base_port);
    if (i >= nodes_.size()) {
        return std::nullopt;
    }
    return i;
}

membership::swim_state& sim_network::state(std::size_t i) {
    if (!nodes_.at(i)->state) {
        throw std::logic_error("sim_network: node is killed");
    }
    return *nodes_[i]->state;
}

const std::string& sim_network::name(std::size_t i) const {
    return nodes_.at(i)->name;
}

bool sim_network::running(std::size_t i) const {
    return nodes_.at(i)->state != nullptr && !nodes_[i]->paused;
}

void sim_network::join(std::size_t i, const std::vector<std::size_t>& seeds) {
    std::vector<common::endpoint> eps;
    for (auto s : seeds) {
        eps.push_back(addr(s));
    }
    deliver(i, state(i).join(std::move(eps), now_));
    after_call(i);
}

void sim_network::seed_all() {
    std::vector<membership::member> all;
    for (auto& n : nodes_) {
        if (n->state) {
            all.push_back(n->state->self());
        }
    }
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i]->state) {
            nodes_[i]->state->seed_members(all, now_);
            after_call(i);
        }
    }
}

void sim_network::set_tags(std::size_t i, membership::tag_map tags) {
    deliver(i, state(i).set_tags(std::move(tags), now_));
    after_call(i);
}

void sim_network::leave(std::size_t i) {
    deliver(i, state(i).leave(now_));
    after_call(i);
}

void sim_network::probe_now(std::size_t i, const std::string& target) {
    deliver(i, state(i).probe_now(target, now_));
    after_call(i);
}

void sim_network::inject(std::size_t to, const common::endpoint& from,
                         std::vector<std::uint8_t> datagram) {
    flights_.push(in_flight{now_, seq_++, to, from, std::move(datagram)});
}

void sim_network::set_loss(double p) {
    loss_ = p;
}
void sim_network::set_link_loss(std::size_t from, std::size_t to, double p) {
    link_loss_[{from, to}] = p;
}
void sim_network::set_delay(common::duration min, common::duration max) {
    delay_min_ = min;
    delay_max_ = std::max(min, max);
}
void sim_network::cut(std::size_t a, std::size_t b) {
    cuts_.insert({a, b});
    cuts_.insert({b, a});
}
void sim_network::restore(std::size_t a, std::size_t b) {
    cuts_.erase({a, b});
    cuts_.erase({b, a});
}
void sim_network::partition(const std::vector<std::vector<std::size_t>>& groups) {
    std::fill(group_.begin(), group_.end(), -1);
    int g = 0;
    for (const auto& members : groups) {
        for (auto i : members) {
            group_.at(i) = g;
        }
        ++g;
    }
}
void sim_network::heal() {
    std::fill(group_.begin(), group_.end(), 0);
}

void sim_network::pause(std::size_t i, bool paused) {
    nodes_.at(i)->paused = paused;
    if (!paused && nodes_[i]->state) {
        schedule(i);
    }
}

void sim_network::kill(std::size_t i) {
    nodes_.at(i)->state.reset();
    ++nodes_[i]->version;
}

void sim_network::restart(std::size_t i, std::uint32_t generation,
                          const std::vector<std::size_t>& seeds) {
    auto& n = *nodes_.at(i);
    n.paused = false;
    n.state = std::make_unique<membership::swim_state>(config_, n.name, addr(i), n.tags, n.rng,
                                                       now_, generation);
    schedule(i);
    join(i, seeds);
}

bool sim_network::link_up(std::size_t from, std::size_t to) const {
    if (!running(from) || !running(to) || cuts_.contains({from, to})) {
        return false;
    }
    return group_[from] == group_[to] && group_[from] >= 0;
}

void sim_network::deliver(std::size_t from, std::vector<outbound> out) {
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    std::uniform_int_distribution<common::duration::rep> delay(delay_min_.count(),
                                                               delay_max_.count());
    for (auto& o : out) {
        if (o.type == outbound::kind::push_pull) {
            push_pull(from, o.to);
            continue;
        }
        ++stats_.datagrams_sent;
        stats_.bytes_sent += o.payload.size();
        stats_.largest_datagram = std::max(stats_.largest_datagram, o.payload.size());
        const auto to = index_of(o.to);
        if (explain_) {
            tally(from, to, o.payload);
        }
        double p = loss_;
        if (to) {
            if (auto it = link_loss_.find({from, *to}); it != link_loss_.end()) {
                p = it->second;
            }
        }
        // Partitions and cuts are judged at send time; pauses at arrival.
        if (!to || (!link_up(from, *to) && running(*to)) || coin(rng_) < p) {
            ++stats_.datagrams_dropped;
            continue;
        }
        flights_.push(in_flight{now_ + common::duration{delay(rng_)}, seq_++, *to, addr(from),
                                std::move(o.payload)});
    }
}

void sim_network::push_pull(std::size_t from, const common::endpoint& to_addr) {
    const auto to = index_of(to_addr);
    if (!to || *to == from || !link_up(from, *to) || !link_up(*to, from)) {
        return;
    }
    ++stats_.push_pulls;
    auto mine = state(from).local_state();
    state(*to).merge_remote_state(mine, now_);
    auto theirs = state(*to).local_state();
    after_call(*to);
    state(from).merge_remote_state(theirs, now_);
}

void sim_network::after_call(std::size_t i) {
    auto& n = *nodes_[i];
    if (!n.state) {
        return;
    }
    for (auto& e : n.state->drain_events()) {
        if (on_event) {
            on_event(i, now_, e);
        }
        if (record_) {
            n.events.push_back(recorded_event{now_, std::move(e)});
        }
    }
    schedule(i);
}

void sim_network::schedule(std::size_t i) {
    auto& n = *nodes_[i];
    if (!n.state || n.paused) {
        return;
    }
    wakes_.push(wake{std::max(now_, n.state->next_deadline()), i, ++n.version});
}

void sim_network::step_to(common::time_point t) {
    while (true) {
        const bool have_flight = !flights_.empty() && flights_.top().at <= t;
        const bool have_wake = !wakes_.empty() && wakes_.top().at <= t;
        if (!have_flight && !have_wake) {
            break;
        }
        if (have_flight && (!have_wake || flights_.top().at <= wakes_.top().at)) {
            auto f = flights_.top();
            flights_.pop();
            now_ = std::max(now_, f.at);
            if (!running(f.to)) {
                ++stats_.datagrams_dropped;
                continue;
            }
            if (explain_) {
                tally_received(f.to, f.payload);
            }
            auto out = nodes_[f.to]->state->on_datagram(f.from, f.payload, now_);
            deliver(f.to, std::move(out));
            after_call(f.to);
            continue;
        }
        const auto w = wakes_.top();
        wakes_.pop();
        auto& n = *nodes_[w.node];
        if (w.version != n.version || !running(w.node)) {
            continue;
        }
        now_ = std::max(now_, w.at);
        deliver(w.node, n.state->on_tick(now_));
        after_call(w.node);
    }
    now_ = std::max(now_, t);
}

void sim_network::run_for(common::duration d) {
    step_to(now_ + d);
}

bool sim_network::run_until(const std::function<bool()>& pred, common::duration limit,
                            common::duration every) {
    const auto end = now_ + limit;
    while (!pred()) {
        if (now_ >= end) {
            return false;
        }
        step_to(std::min(end, now_ + every));
    }
    return true;
}

std::optional<member_status> sim_network::status(std::size_t observer,
                                                 const std::string& subject) const {
    const auto& n = *nodes_.at(observer);
    if (!n.state) {
        return std::nullopt;
    }
    auto m = n.state->find(subject);
    if (!m) {
        return std::nullopt;
    }
    return m->status;
}

bool sim_network::all_see(const std::string& subject, member_status s) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!running(i) || nodes_[i]->name == subject) {
            continue;
        }
        if (status(i, subject) != s) {
            return false;
        }
    }
    return true;
}

bool sim_network::converged() const {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!running(i)) {
            continue;
        }
        for (std::size_t j = 0; j < nodes_.size(); ++j) {
            if (i != j && running(j) && status(i, nodes_[j]->name) != member_status::alive) {
                return false;
            }
        }
    }
    return true;
}

void sim_network::tally(std::size_t from, std::optional<std::size_t> to,
                        const std::vector<std::uint8_t>& payload) {
    namespace wire = membership::wire;
    const auto p = wire::decode_packet(payload);
    if (!p) {
        breakdown_.kinds["undecodable"].count += 1;
        return;
    }
    const std::string& sender = nodes_[from]->name;
    const std::string receiver = to ? nodes_[*to]->name : std::string{};
    std::size_t body = 0;
    bool probe = false;
    for (const auto& m : p->messages) {
        const auto size = wire::encode_message(m).size();
        body += size;
        std::string kind;
        if (std::holds_alternative<wire::ping_msg>(m)) {
            kind = "ping";
        } else if (std::holds_alternative<wire::ping_req_msg>(m)) {
            kind = "ping-req";
        } else if (std::holds_alternative<wire::ack_msg>(m)) {
            kind = "ack";
        } else if (std::holds_alternative<wire::nack_msg>(m)) {
            kind = "nack";
        } else if (const auto* a = std::get_if<wire::alive_msg>(&m)) {
            kind = a->name == sender ? "alive self" : "alive relay";
        } else if (const auto* s = std::get_if<wire::suspect_msg>(&m)) {
            kind = s->name == receiver ? "suspect buddy"
                   : s->from == sender ? "suspect own"
                                       : "suspect relay";
        } else if (const auto* f = std::get_if<wire::failed_msg>(&m)) {
            kind = f->name == receiver ? "failed buddy"
                   : f->from == sender ? "failed own"
                                       : "failed relay";
        } else {
            kind = "left";
        }
        probe = probe || kind == "ping" || kind == "ping-req" || kind == "ack" || kind == "nack";
        auto& k = breakdown_.kinds[kind];
        k.count += 1;
        k.bytes += size;
    }
    breakdown_.header_bytes += payload.size() - body;
    (probe ? breakdown_.probe_datagrams : breakdown_.gossip_datagrams) += 1;
}

void sim_network::tally_received(std::size_t to, const std::vector<std::uint8_t>& payload) {
    namespace wire = membership::wire;
    const auto p = wire::decode_packet(payload);
    if (!p) {
        return;
    }
    heard_.resize(nodes_.size());
    for (const auto& m : p->messages) {
        std::string key;
        if (const auto* a = std::get_if<wire::alive_msg>(&m)) {
            key = "a/" + a->name + "/" + std::to_string(a->incarnation);
        } else if (const auto* s = std::get_if<wire::suspect_msg>(&m)) {
            key = "s/" + s->name + "/" + std::to_string(s->incarnation) + "/" + s->from;
        } else if (const auto* f = std::get_if<wire::failed_msg>(&m)) {
            key = "f/" + f->name + "/" + std::to_string(f->incarnation);
        } else if (const auto* l = std::get_if<wire::left_msg>(&m)) {
            key = "l/" + l->name + "/" + std::to_string(l->incarnation);
        } else {
            continue;
        }
        ++breakdown_.updates_delivered;
        if (!heard_[to].insert(std::move(key)).second) {
            ++breakdown_.updates_redundant;
        }
    }
}

membership::swim_counters sim_network::counters_total() const {
    membership::swim_counters t;
    for (const auto& n : nodes_) {
        if (!n->state) {
            continue;
        }
        const auto& c = n->state->counters();
        for (auto field : summed_counters) {
            t.*field += c.*field;
        }
    }
    return t;
}

const std::vector<recorded_event>& sim_network::events(std::size_t i) const {
    return nodes_.at(i)->events;
}

}  // namespace rpcnetd::test
