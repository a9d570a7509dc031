// Gossip port under a flood (issue #5): 30 s aimed at 12,000 datagrams per second at a real
// director with a gossip key - random bytes, random bytes that look like an envelope, and
// well-formed SWIM alive/suspect/failed/left/ping messages about the members, both sealed with a
// wrong key and unsealed. Nothing may crash, change membership or be answered, and every datagram
// must be accounted for: rejected by the daemon, or dropped by the kernel before the daemon read
// it (gossip.datagrams_dropped_by_kernel, from SO_MEMINFO).
#include "membership/gossip_cipher.hpp"
#include "membership/gossip_envelope.hpp"
#include "membership/swim_codec.hpp"
#include "support/cluster.hpp"
#include "support/key_file.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <thread>

using namespace std::chrono_literals;
using namespace rpcnetd::test;
using rpcnetd::membership::gossip_cipher;
namespace wire = rpcnetd::membership::wire;

namespace {

struct gossip_counts {
    std::uint64_t received = 0;
    std::uint64_t rejected = 0;
    std::uint64_t replayed = 0;
    std::uint64_t dropped_by_kernel = 0;
};

// The gossip counters of `target` (Node.Stats); nullopt when the call fails or lacks one.
std::optional<gossip_counts> read_gossip_counts(cluster& c, const std::string& target) {
    const std::string out = c.stats_json(target);
    const auto received = json_uint(out, "gossip.datagrams_received");
    const auto rejected = json_uint(out, "gossip.datagrams_rejected");
    const auto replayed = json_uint(out, "gossip.datagrams_replayed");
    const auto dropped = json_uint(out, "gossip.datagrams_dropped_by_kernel");
    if (!received || !rejected || !replayed || !dropped) {
        UNSCOPED_INFO("stats failed or lacks a gossip counter:\n" << out);
        return std::nullopt;
    }
    return gossip_counts{*received, *rejected, *replayed, *dropped};
}

// Polls the director's counters (bounded) until rejected + dropped_by_kernel since `before`
// reach `sent`: the daemon may still be reading what is queued. The last reading, or nullopt.
std::optional<gossip_counts> wait_accounted(cluster& c, const gossip_counts& before,
                                            std::uint64_t sent) {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (true) {
        auto now = read_gossip_counts(c, c.director_addr());
        const bool done = now && (now->rejected - before.rejected) +
                                         (now->dropped_by_kernel - before.dropped_by_kernel) >=
                                     sent;
        if (done || std::chrono::steady_clock::now() >= deadline) {
            return now;
        }
        std::this_thread::sleep_for(250ms);
    }
}

// A UDP socket bound to 127.0.0.1 (so answers could come back to it) aimed at one port.
class flood_socket {
public:
    explicit flood_socket(unsigned short port) : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
        REQUIRE(fd_ >= 0);
        sockaddr_in local{};
        local.sin_family = AF_INET;
        ::inet_pton(AF_INET, "127.0.0.1", &local.sin_addr);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
        to_.sin_family = AF_INET;
        to_.sin_port = htons(port);
        ::inet_pton(AF_INET, "127.0.0.1", &to_.sin_addr);
    }
    ~flood_socket() { ::close(fd_); }
    flood_socket(const flood_socket&) = delete;
    flood_socket& operator=(const flood_socket&) = delete;

    // True when the kernel took the whole datagram.
    bool send(std::span<const std::uint8_t> d) {
        const auto n =
            ::sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&to_), sizeof to_);
        return n == static_cast<ssize_t>(d.size());
    }
    // Datagrams waiting on the socket (read and discarded). ICMP errors are not datagrams.
    std::size_t drain() {
        std::size_t n = 0;
        std::uint8_t buf[2048];
        while (true) {
            const auto r = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
            if (r >= 0) {
                ++n;
            } else if (errno != EINTR && errno != ECONNREFUSED) {
                return n;
            }
        }
    }
    // Waits up to `limit` for anything to arrive, then drains.
    std::size_t wait_and_drain(std::chrono::milliseconds limit) {
        pollfd p{fd_, POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(limit.count()));
        return drain();
    }

private:
    int fd_;
    sockaddr_in to_{};
};

std::vector<std::uint8_t> encode(const std::string& sender, std::vector<wire::message> m) {
    return wire::encode_packet(sender, std::span<const wire::message>(m));
}

// Well-formed SWIM packets that would change membership (or draw an ack) if accepted.
std::vector<std::vector<std::uint8_t>> forged_packets(const member_view& director,
                                                      const member_view& worker,
                                                      const std::string& worker_addr) {
    const std::uint64_t huge = std::numeric_limits<std::uint64_t>::max() / 2;
    const rpcnetd::common::endpoint hijack{"127.0.0.1", 9};
    const rpcnetd::common::endpoint worker_ep{"127.0.0.1", port_of(worker_addr)};
    std::vector<std::vector<std::uint8_t>> out;
    for (const std::string& sender : {worker.name, std::string("intruder")}) {
        out.push_back(encode(sender, {wire::failed_msg{worker.name, worker.incarnation, sender}}));
        out.push_back(encode(sender, {wire::failed_msg{worker.name, huge, sender}}));
        out.push_back(
            encode(sender, {wire::suspect_msg{director.name, director.incarnation, sender}}));
        out.push_back(encode(sender, {wire::suspect_msg{worker.name, worker.incarnation, sender}}));
        out.push_back(encode(sender, {wire::left_msg{worker.name, huge}}));
        out.push_back(encode(sender, {wire::alive_msg{worker.name, hijack, huge, {}}}));
        out.push_back(
            encode(sender, {wire::alive_msg{"intruder", worker_ep, huge, {{"role", "worker"}}}}));
        out.push_back(encode(sender, {wire::ping_msg{7, director.name}}));
        out.push_back(encode(sender, {wire::ping_msg{8, director.name},
                                      wire::failed_msg{worker.name, huge, sender},
                                      wire::suspect_msg{director.name, huge, sender}}));
    }
    return out;
}

// Cycles through the four kinds: (a) random bytes, (b) random bytes behind the envelope version
// byte, (c) forged packets sealed with a wrong key, (d) the same packets unsealed.
class datagram_mix {
public:
    datagram_mix(std::vector<std::vector<std::uint8_t>> plain, std::uint64_t seed)
        : plain_(std::move(plain)), gen_(seed), buf_(1400) {
        namespace ms = rpcnetd::membership;
        const auto wrong = gossip_cipher::generate_key();
        for (std::uint64_t seq = 1; seq <= 4; ++seq) {
            for (const auto& p : plain_) {
                const ms::gossip_stamp stamp{"intruder", 1, seq, "127.0.0.1:1"};
                sealed_.push_back(ms::gossip_envelope::seal_with(
                    wrong, "rpcnetd", ms::envelope_kind::datagram, stamp, p));
            }
        }
    }

    std::span<const std::uint8_t> next() {
        switch (count_++ % 4) {
        case 0:
            return random_bytes(false);
        case 1:
            return random_bytes(true);
        case 2:
            return sealed_[gen_() % sealed_.size()];
        default:
            return plain_[gen_() % plain_.size()];
        }
    }

private:
    std::span<const std::uint8_t> random_bytes(bool envelope) {
        const std::size_t n = 1 + gen_() % buf_.size();
        for (std::size_t i = 0; i < n; i += 8) {
            const auto r = gen_();
            for (std::size_t j = i; j < std::min(n, i + 8); ++j) {
                buf_[j] = static_cast<std::uint8_t>(r >> (8 * (j - i)));
            }
        }
        if (envelope) {
            buf_[0] = gossip_cipher::version;
        }
        return {buf_.data(), n};
    }

    std::vector<std::vector<std::uint8_t>> plain_;
    std::vector<std::vector<std::uint8_t>> sealed_;
    std::mt19937_64 gen_;
    std::vector<std::uint8_t> buf_;
    std::uint64_t count_ = 0;
};

struct flood_result {
    std::uint64_t sent = 0;
    std::uint64_t send_failures = 0;
    std::uint64_t replies = 0;
    double seconds = 0;
};

// Sends at `rate` per second for `length`, in bursts every 10 ms that catch up with the schedule
// (at most max_burst at once, so a stalled sender does not dump seconds of backlog at once).
flood_result flood(flood_socket& sock, datagram_mix& mix, double rate,
                   std::chrono::seconds length) {
    constexpr std::uint64_t max_burst = 2000;
    flood_result r;
    const auto start = std::chrono::steady_clock::now();
    auto now = start;
    while (now - start < length) {
        const std::chrono::duration<double> elapsed = now - start;
        const auto due = static_cast<std::uint64_t>(rate * elapsed.count());
        for (std::uint64_t i = 0; i < max_burst && r.sent + r.send_failures < due; ++i) {
            if (sock.send(mix.next())) {
                ++r.sent;
            } else {
                ++r.send_failures;
            }
        }
        r.replies += sock.drain();
        std::this_thread::sleep_for(10ms);  // pacing, not waiting for an outcome
        now = std::chrono::steady_clock::now();
    }
    r.seconds = std::chrono::duration<double>(now - start).count();
    return r;
}

std::optional<member_view> find(const std::vector<member_view>& ms, const std::string& name) {
    for (const auto& m : ms) {
        if (m.name == name) {
            return m;
        }
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("gossip flood: 30 s aimed at 12k datagrams/s are all rejected or counted as kernel drops",
          "[membership][integration][flood]") {
    const gossip_key_file key;
    cluster c({"--gossip-key", key.path()});
    const auto w = c.add_worker("worker-a", {"--gossip-key", key.path()});
    REQUIRE(c.wait_alive_workers(1, 30s));
    const auto before = c.members();
    REQUIRE(before.size() == 2);
    const auto director = find(before, "director");
    const auto worker = find(before, "worker-a");
    REQUIRE(director);
    REQUIRE(worker);
    const auto counts_before = read_gossip_counts(c, c.director_addr());
    REQUIRE(counts_before);

    flood_socket sock(port_of(c.director_addr()));
    datagram_mix mix(forged_packets(*director, *worker, c.worker_addr(w)), 20261126);
    const auto run = flood(sock, mix, 12000.0, 30s);
    const double rate = static_cast<double>(run.sent) / run.seconds;
    const auto replies = run.replies + sock.wait_and_drain(1500ms);

    const auto after = wait_accounted(c, *counts_before, run.sent);
    REQUIRE(after);
    const auto rejected = after->rejected - counts_before->rejected;
    const auto dropped = after->dropped_by_kernel - counts_before->dropped_by_kernel;
    std::cout << "gossip flood: sent=" << run.sent << " in " << run.seconds
              << " s, rate=" << static_cast<std::uint64_t>(rate)
              << "/s, send_failures=" << run.send_failures << ", rejected=" << rejected
              << ", dropped_by_kernel=" << dropped
              << ", received(authenticated)=" << after->received - counts_before->received
              << ", replayed=" << after->replayed - counts_before->replayed
              << ", replies=" << replies << "\n";

    CHECK(c.director().running());
    CHECK(c.worker(w).running());
    CHECK(run.seconds >= 30.0);
    // The rate is what this machine could send (aimed at 12,000/s): reported above, not judged.
    // A loaded machine that sends fewer must not fail the test; the accounting below must hold
    // at any rate.
    if (rate < 10000.0) {
        WARN("sender reached only " << static_cast<std::uint64_t>(rate) << " datagrams/s");
    }
    CHECK(run.sent > 0);
    CHECK(replies == 0);
    CHECK(rejected + dropped == run.sent);
    CHECK(after->replayed == counts_before->replayed);

    // Membership unchanged: the director lists the same members, all alive, at the same
    // incarnations (a refuted suspicion would have bumped one), and neither member logged a
    // suspicion, failure or departure.
    const auto now = c.members();
    REQUIRE(now.size() == before.size());
    for (const auto& m : before) {
        const auto still = find(now, m.name);
        REQUIRE(still);
        CHECK(still->state == "alive");
        CHECK(still->incarnation == m.incarnation);
    }
    CHECK_FALSE(c.has_member("intruder"));
    for (const char* bad : {"NodeSuspect", "NodeFailed", "NodeLeft"}) {
        CHECK(c.director().output().find(bad) == std::string::npos);
        CHECK(c.worker(w).output().find(bad) == std::string::npos);
    }
}

TEST_CASE("gossip flood: datagrams a stopped director's kernel drops show in Node.Stats",
          "[membership][integration][flood]") {
    const gossip_key_file key;
    cluster c({"--gossip-key", key.path()});
    REQUIRE(c.wait_members([](const auto& ms) { return !ms.empty(); }, 30s));
    const auto members = c.members();
    REQUIRE(members.size() == 1);
    const auto counts_before = read_gossip_counts(c, c.director_addr());
    REQUIRE(counts_before);

    // While the director is stopped nothing reads its socket: the receive buffer fills and the
    // kernel drops the rest. After SIGCONT every datagram must be counted one way or the other.
    flood_socket sock(port_of(c.director_addr()));
    datagram_mix mix(forged_packets(members[0], members[0], c.director_addr()), 7);
    c.director().signal(SIGSTOP);
    std::uint64_t sent = 0;
    for (int i = 0; i < 20000; ++i) {
        sent += sock.send(mix.next()) ? 1 : 0;
    }
    c.director().signal(SIGCONT);

    const auto after = wait_accounted(c, *counts_before, sent);
    REQUIRE(after);
    const auto rejected = after->rejected - counts_before->rejected;
    const auto dropped = after->dropped_by_kernel - counts_before->dropped_by_kernel;
    std::cout << "gossip burst into a stopped director: sent=" << sent << ", rejected=" << rejected
              << ", dropped_by_kernel=" << dropped << "\n";
    CHECK(c.director().running());
    CHECK(sent == 20000);
    CHECK(dropped > 0);
    CHECK(rejected + dropped == sent);
    CHECK(sock.wait_and_drain(1s) == 0);
}
