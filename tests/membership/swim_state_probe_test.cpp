// swim_state driven directly with literal time points: phi-triggered probes, probe_now, hostile
// datagrams, the Lifeguard confirmation maths, datagram packing, and randomized gossip.
#include "membership/swim_state.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace std::chrono_literals;
using namespace rpcnetd;
using membership::member_event_kind;
using membership::member_status;

namespace {

membership::swim_config test_config() {
    membership::swim_config c;  // the defaults of DESIGN.md §6
    c.reap_after = 30s;
    return c;
}

}  // namespace

TEST_CASE("swim_state: phi crossing triggers an out-of-turn probe", "[membership]") {
    // Two members so two datagrams from the round-robin probe cannot be mistaken for it: the
    // probe interval is long (10 s) and only phi can make the state ping b within a second.
    auto config = test_config();
    config.probe_interval = 10s;
    config.probe_timeout = 1s;
    config.phi_max_samples = 10;  // forget the seeded first-heartbeat estimate quickly
    common::rng rng(9);
    const auto t0 = common::time_point{} + 100s;
    membership::swim_state s(config, "a", {"h", 1}, {}, rng, t0);
    s.seed_members({{"b", {"h", 2}, 0, member_status::alive, {}},
                    {"c", {"h", 3}, 0, member_status::alive, {}}},
                   t0);
    // b pings us every 100 ms for two seconds (any datagram from b is a heartbeat).
    std::uint32_t seq = 1;
    auto ping_from_b = [&](common::time_point at) {
        const std::vector<membership::wire::message> m{membership::wire::ping_msg{seq++, "a"}};
        return s.on_datagram({"h", 2}, membership::wire::encode_packet("b", m), at);
    };
    for (int i = 0; i < 20; ++i) {
        CHECK(ping_from_b(t0 + std::chrono::milliseconds{100 * i}).size() == 1);  // our ack
    }
    const auto last = t0 + 1900ms;
    const auto probes_before = s.counters().probes;
    // b goes quiet. Tick every 10 ms and look for a ping to b.
    std::optional<common::time_point> pinged;
    for (auto t = last; t < last + 3s && !pinged; t += 10ms) {
        for (const auto& o : s.on_tick(t)) {
            auto p = membership::wire::decode_packet(o.payload);
            if (o.to == common::endpoint{"h", 2} && p.has_value() &&
                std::holds_alternative<membership::wire::ping_msg>(p->messages.front())) {
                pinged = t;
            }
        }
    }
    REQUIRE(pinged);
    CHECK(*pinged - last < 1s);  // phi = 8 about 5 std deviations (>= 100 ms) after the mean
    CHECK(*pinged - last > 300ms);
    CHECK(s.counters().phi_probes == 1);
    CHECK(s.counters().probes >= probes_before + 1);
}

TEST_CASE("swim_state: probe_now pings a member at once", "[membership]") {
    auto config = test_config();
    config.probe_interval = 10s;
    common::rng rng(10);
    const auto t0 = common::time_point{} + 100s;
    membership::swim_state s(config, "a", {"h", 1}, {}, rng, t0);
    s.seed_members({{"b", {"h", 2}, 0, member_status::alive, {}}}, t0);
    auto out = s.probe_now("b", t0 + 1ms);
    REQUIRE(out.size() == 1);
    CHECK(out[0].to == common::endpoint{"h", 2});
    CHECK(s.counters().requested_probes == 1);
    CHECK(s.probe_now("b", t0 + 2ms).empty());       // already probing
    CHECK(s.probe_now("nobody", t0 + 2ms).empty());  // unknown
}

TEST_CASE("swim_state: malformed and truncated datagrams are dropped and counted", "[membership]") {
    common::rng rng(11);
    const auto t0 = common::time_point{} + 100s;
    membership::swim_state s(test_config(), "a", {"h", 1}, {}, rng, t0);
    const std::vector<membership::wire::message> m{membership::wire::ping_msg{1, "a"}};
    const auto good = membership::wire::encode_packet("b", m);
    for (std::size_t n = 0; n < good.size(); ++n) {
        std::vector<std::uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
        CHECK(s.on_datagram({"h", 2}, cut, t0).empty());
    }
    CHECK(s.counters().datagrams_rejected == good.size());
    std::vector<std::uint8_t> garbage(2000, 0xff);
    CHECK(s.on_datagram({"h", 2}, garbage, t0).empty());
    CHECK(s.counters().datagrams_rejected == good.size() + 1);
    SECTION("a ping for another name gets no ack") {
        const std::vector<membership::wire::message> other{membership::wire::ping_msg{1, "z"}};
        CHECK(s.on_datagram({"h", 2}, membership::wire::encode_packet("b", other), t0).empty());
        CHECK(s.counters().misdirected == 1);
    }
    SECTION("a valid ping is answered") {
        CHECK(s.on_datagram({"h", 2}, good, t0).size() == 1);
    }
    SECTION("failed to open (reported by the shell)") {
        s.note_rejected();
        CHECK(s.counters().datagrams_rejected == good.size() + 2);
    }
}

namespace {

// One swim_state whose nine peers answer every ping at once; the test decides who suspects whom.
struct answering_harness {
    common::rng rng{12};
    common::time_point t0 = common::time_point{} + 100s;
    common::time_point now = t0;
    membership::swim_state s;

    answering_harness() : s(test_config(), "a", {"h", 1}, {}, rng, t0) {
        std::vector<membership::member> peers;
        for (std::uint16_t i = 2; i <= 10; ++i) {
            peers.push_back({std::string(1, static_cast<char>('a' + i - 1)),
                             {"h", i},
                             0,
                             member_status::alive,
                             {}});
        }
        s.seed_members(peers, t0);  // b..j
    }

    void answer(const std::vector<membership::outbound>& out) {
        for (const auto& o : out) {
            auto p = membership::wire::decode_packet(o.payload);
            REQUIRE(p.has_value());
            for (const auto& m : p->messages) {
                if (const auto* ping = std::get_if<membership::wire::ping_msg>(&m)) {
                    if (const auto it = silent_from.find(ping->target);
                        it != silent_from.end() && now >= it->second) {
                        continue;  // dead from then on: its pings go unanswered
                    }
                    const std::vector<membership::wire::message> ack{
                        membership::wire::ack_msg{ping->seq}};
                    s.on_datagram(o.to, membership::wire::encode_packet(ping->target, ack), now);
                }
            }
        }
    }

    std::map<std::string, common::time_point> silent_from;

    void suspect_from(const std::string& from, const std::string& about) {
        const std::vector<membership::wire::message> m{
            membership::wire::suspect_msg{about, 0, from}};
        const auto sender = s.find(from);
        answer(s.on_datagram(sender->addr, membership::wire::encode_packet(from, m), now));
    }

    // Ticks in 10 ms steps until `name` is failed; returns how long that took.
    common::duration time_to_failed(const std::string& name, common::duration limit) {
        const auto start = now;
        while (now - start < limit) {
            now += 10ms;
            answer(s.on_tick(now));
            if (s.find(name)->status == member_status::failed) {
                break;
            }
        }
        return now - start;
    }
};

}  // namespace

TEST_CASE("swim_state: independent confirmations shrink the suspicion timeout", "[membership]") {
    // 10 members: K = suspicion_confirmations = 2, min = 4 periods = 800 ms, max = 6 * min = 4.8 s.
    answering_harness h;
    h.now += 1s;
    h.answer(h.s.on_tick(h.now));
    // j answers pings until just before its timer expires, then is dead: the declaration comes
    // after the two unanswered looks a takes before declaring (docs/gossip-storm.md), 800 ms after
    // the timer. The first look lasts one probe timeout (100 ms); this harness's relays never
    // nack, so Lifeguard charges the 6 missing nacks to a's own health (multiplier 7) and the
    // second look lasts 700 ms.
    SECTION("one accuser: the full 4.8 s") {
        h.suspect_from("b", "j");
        REQUIRE(h.s.find("j")->status == member_status::suspect);
        h.silent_from["j"] = h.now + 4790ms;
        const auto took = h.time_to_failed("j", 10s);
        CHECK(took >= 5590ms);
        CHECK(took <= 5610ms);
    }
    SECTION("one confirmation: 4.8 s - 4 s * log 2 / log 3 = 2.28 s") {
        h.suspect_from("b", "j");
        h.suspect_from("c", "j");
        h.silent_from["j"] = h.now + 2260ms;
        const auto took = h.time_to_failed("j", 10s);
        CHECK(took >= 3070ms);
        CHECK(took <= 3090ms);
    }
    SECTION("two confirmations: the 800 ms minimum") {
        h.suspect_from("b", "j");
        h.suspect_from("c", "j");
        h.suspect_from("c", "j");  // repeats do not count
        h.suspect_from("d", "j");
        h.silent_from["j"] = h.now + 780ms;
        const auto took = h.time_to_failed("j", 10s);
        CHECK(took >= 1590ms);
        CHECK(took <= 1610ms);
    }
    CHECK(h.s.counters().failures_declared == 1);
    const auto events = h.s.drain_events();
    CHECK(std::count_if(events.begin(), events.end(), [](const auto& e) {
              return e.kind == member_event_kind::failed && e.snapshot.name == "j";
          }) == 1);
}

TEST_CASE("swim_state: piggybacked updates are packed within the payload budget", "[membership]") {
    auto config = test_config();
    config.envelope_reserve = 29;  // gossip_cipher: version + nonce + tag
    common::rng rng(14);
    const auto t0 = common::time_point{} + 100s;
    membership::swim_state s(config, "a", {"10.0.0.1", 7946}, {}, rng, t0);
    std::vector<membership::member> remote;
    for (std::uint16_t i = 0; i < 300; ++i) {
        remote.push_back(
            {"member-with-a-longish-name-" + std::to_string(i),
             {"10.0.1." + std::to_string(i % 250), static_cast<std::uint16_t>(7000 + i)},
             1,
             member_status::alive,
             {{"role", "worker"}, {"label", "worker-" + std::to_string(i)}}});
    }
    s.merge_remote_state(remote, t0);  // 300 joins to gossip
    CHECK(s.broadcasts_pending());
    std::size_t datagrams = 0;
    std::size_t messages = 0;
    for (auto t = t0; t < t0 + 2s; t += 10ms) {
        for (const auto& o : s.on_tick(t)) {
            if (o.type != membership::outbound::kind::datagram) {
                continue;
            }
            ++datagrams;
            CHECK(o.payload.size() <= config.max_datagram - config.envelope_reserve);
            auto p = membership::wire::decode_packet(o.payload);
            REQUIRE(p.has_value());
            messages += p->messages.size();
        }
    }
    CHECK(datagrams > 0);
    CHECK(messages > 10 * datagrams);  // many updates per datagram, not one each
}

TEST_CASE("swim_state: random well-formed gossip never breaks its invariants", "[membership]") {
    common::rng rng(15);
    common::rng script(16);
    auto t = common::time_point{} + 100s;
    membership::swim_state s(test_config(), "a", {"h", 1}, {}, rng, t);
    const std::vector<std::string> names{"a", "b", "c", "d", "e"};
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(script() % n); };
    for (int i = 0; i < 20000; ++i) {
        const auto& name = names[pick(names.size())];
        const auto& from = names[pick(names.size())];
        const std::uint64_t inc = pick(6);
        const std::uint16_t port = static_cast<std::uint16_t>(1 + pick(5));
        std::vector<membership::wire::message> m;
        switch (pick(8)) {
        case 0:
            m.push_back(membership::wire::alive_msg{name, {"h", port}, inc, {{"k", from}}});
            break;
        case 1:
            m.push_back(membership::wire::suspect_msg{name, inc, from});
            break;
        case 2:
            m.push_back(membership::wire::failed_msg{name, inc, from});
            break;
        case 3:
            m.push_back(membership::wire::left_msg{name, inc});
            break;
        case 4:
            m.push_back(membership::wire::ping_msg{static_cast<std::uint32_t>(pick(50)), name});
            break;
        case 5:
            m.push_back(membership::wire::ack_msg{static_cast<std::uint32_t>(pick(50))});
            break;
        case 6:
            m.push_back(membership::wire::nack_msg{static_cast<std::uint32_t>(pick(50))});
            break;
        default:
            m.push_back(membership::wire::ping_req_msg{
                static_cast<std::uint32_t>(pick(50)), name, {"h", port}});
        }
        t += std::chrono::milliseconds{pick(40)};
        CHECK_NOTHROW(s.on_datagram({"h", port}, membership::wire::encode_packet(from, m), t));
        CHECK_NOTHROW(s.on_tick(t));
        if (i % 5000 == 4999) {
            CHECK_NOTHROW(s.merge_remote_state(s.local_state(), t));
        }
    }
    const auto members = s.members();
    const auto live = std::count_if(members.begin(), members.end(), [](const auto& m) {
        return m.status == member_status::alive || m.status == member_status::suspect;
    });
    CHECK(static_cast<std::size_t>(live) == s.live_count());
    CHECK(s.self().status == member_status::alive);
    CHECK(s.next_deadline() > t - 1s);
}

TEST_CASE("swim_state: merged members that would not encode and decode again are ignored",
          "[membership]") {
    common::rng rng(15);
    const auto t0 = common::time_point{} + 100s;
    membership::swim_state s(test_config(), "a", {"10.0.0.1", 7946}, {}, rng, t0);
    std::vector<membership::member> remote{
        {"good", {"10.0.0.2", 7946}, 1, member_status::alive, {}},
        {"empty-host", {"", 7946}, 1, member_status::alive, {}},
        {"bracketed", {"[::1]", 7946}, 1, member_status::alive, {}},
        {"bad\xFFname", {"10.0.0.3", 7946}, 1, member_status::alive, {}},
        {"left\xC0\xAF", {"10.0.0.4", 7946}, 1, member_status::left, {}},
        {"long-tag", {"10.0.0.5", 7946}, 1, member_status::alive, {{"k", std::string(300, 'v')}}},
        {"bad-tag", {"10.0.0.6", 7946}, 1, member_status::alive, {{"k", "\xED\xA0\x80"}}},
    };
    s.merge_remote_state(remote, t0);
    s.seed_members(remote, t0);
    CHECK(s.find("good").has_value());
    CHECK_FALSE(s.find("empty-host").has_value());
    CHECK_FALSE(s.find("bracketed").has_value());
    CHECK_FALSE(s.find("bad\xFFname").has_value());
    CHECK_FALSE(s.find("long-tag").has_value());
    CHECK_FALSE(s.find("bad-tag").has_value());
    // Whatever it gossips now decodes: no ill-formed name reached the broadcast queue.
    for (auto t = t0; t < t0 + 2s; t += 10ms) {
        for (const auto& o : s.on_tick(t)) {
            if (o.type == membership::outbound::kind::datagram) {
                CHECK(membership::wire::decode_packet(o.payload).has_value());
            }
        }
    }
}
