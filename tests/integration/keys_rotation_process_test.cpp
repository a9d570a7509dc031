// Gossip keyring with real processes (issue #5): `rpcnetd keys install/use/remove` rotates the
// cluster key under a live stream with no failure declared anywhere; a member holding only the
// retired key cannot join afterwards; a replayed authenticated datagram gets no answer, neither
// from the member it was sealed for nor from another one (counted in `rpcnetd stats`).
#include "membership/gossip_cipher.hpp"
#include "membership/gossip_envelope.hpp"
#include "membership/swim_codec.hpp"
#include "support/cluster.hpp"
#include "support/key_file.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

using namespace std::chrono_literals;
using namespace rpcnetd::test;
using rpcnetd::membership::gossip_cipher;

namespace {

run_result keys(cluster& c, const std::string& action, const std::string& current,
                const std::string& key = {}) {
    std::vector<std::string> argv{rpcnetd_binary(),  "keys",         action, "--director",
                                  c.director_addr(), "--gossip-key", current};
    if (!key.empty()) {
        argv.push_back("--key-file");
        argv.push_back(key);
    }
    for (auto& f : c.common_flags()) {
        argv.push_back(f);
    }
    auto r = run_command(std::move(argv), 30s);
    UNSCOPED_INFO("keys " << action << " exit=" << r.exit_code << "\n" << r.output);
    return r;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + needle.size())) {
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("keys: rotating the gossip key under a live stream declares no failure",
          "[membership][integration][keys]") {
    const gossip_key_file a;
    const gossip_key_file b;
    cluster c({"--gossip-key", a.path()});
    c.add_worker("worker-a", {"--gossip-key", a.path(), "--token-interval", "50ms"});
    c.add_worker("worker-b", {"--gossip-key", a.path(), "--token-interval", "50ms"});
    REQUIRE(c.wait_alive_workers(2, 30s));

    constexpr std::uint64_t tokens = 200;  // 10 s at 50 ms: the rotation runs inside it
    auto client = c.start_client({"--tokens", std::to_string(tokens)});
    REQUIRE(client->wait_for_output("\"event\":\"token\"", 20s));

    const auto installed = keys(c, "install", a.path(), b.path());
    CHECK(installed.exit_code == 0);
    CHECK(count_of(installed.output, "🔑") == 3);
    const auto used = keys(c, "use", a.path(), b.path());
    CHECK(used.exit_code == 0);
    CHECK(count_of(used.output, "keys=*" + b.fingerprint()) == 3);
    // Removing the primary is refused on every member.
    const auto refused = keys(c, "remove", b.path(), b.path());
    CHECK(refused.exit_code == 1);
    CHECK(count_of(refused.output, "primary") == 3);
    const auto removed = keys(c, "remove", b.path(), a.path());
    CHECK(removed.exit_code == 0);
    CHECK(client->running());  // the rotation happened during the stream

    REQUIRE(client->wait_exit(60s) == std::optional<int>{0});
    const auto run = parse_client_output(client->output());
    CHECK(exactly_once_in_order(run.sequences, tokens));

    const auto listed = keys(c, "list", b.path());
    CHECK(listed.exit_code == 0);
    CHECK(count_of(listed.output, "keys=*" + b.fingerprint() + "\n") == 3);
    CHECK(listed.output.find(a.fingerprint()) == std::string::npos);
    // The retired key no longer authorizes anything.
    CHECK(keys(c, "list", a.path()).exit_code == 1);

    // A member started afterwards with only the retired key cannot join (several probe periods
    // and join retries).
    const auto late = c.add_worker("worker-late", {"--gossip-key", a.path()});
    std::this_thread::sleep_for(6s);
    CHECK_FALSE(c.has_member("worker-late"));
    CHECK(c.worker(late).output().find("NodeJoined node=director") == std::string::npos);
    CHECK(c.worker(late).running());

    // Well past the longest suspicion timeout since the rotation: nobody was declared failed.
    CHECK(c.director().output().find("NodeFailed") == std::string::npos);
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(c.worker(i).output().find("NodeFailed") == std::string::npos);
    }
    for (const auto& m : c.members()) {
        CHECK(m.state == "alive");
    }
}

TEST_CASE("keys: a replayed authenticated datagram gets no answer from a real member",
          "[membership][integration][replay]") {
    const gossip_key_file k;
    cluster c({"--gossip-key", k.path()});
    c.add_worker("w", {"--gossip-key", k.path()});
    REQUIRE(c.wait_alive_workers(1, 20s));

    const int sock = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(sock >= 0);
    timeval tv{1, 500000};  // replies from a live member on loopback take microseconds
    ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port_of(c.director_addr()));
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);

    namespace ms = rpcnetd::membership;
    const ms::gossip_envelope envelope(std::make_shared<gossip_cipher>(k.key()), "rpcnetd");
    auto sealed_ping = [&](std::uint64_t sequence, std::uint32_t seq) {
        const std::vector<ms::wire::message> m{ms::wire::ping_msg{seq, "director"}};
        const auto packet = ms::wire::encode_packet("peer", m);
        const auto director = rpcnetd::common::parse_endpoint(c.director_addr());
        return envelope.seal(ms::envelope_kind::datagram,
                             {"peer", 1, sequence, ms::receiver_of(*director)}, packet);
    };
    // The ack for ping `seq`, if one arrives before the socket timeout.
    auto exchange = [&](const std::vector<std::uint8_t>& d, std::uint32_t seq,
                        const sockaddr_in& dest) {
        ::sendto(sock, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&dest),
                 sizeof dest);
        std::vector<std::uint8_t> buf(2048);
        for (;;) {
            const auto n = ::recv(sock, buf.data(), buf.size(), 0);
            if (n <= 0) {
                return false;
            }
            auto opened = envelope.open(ms::envelope_kind::datagram,
                                        std::span(buf.data(), static_cast<std::size_t>(n)));
            if (!opened) {
                continue;
            }
            auto p = ms::wire::decode_packet(opened->payload);
            if (!p) {
                continue;
            }
            for (const auto& m : p->messages) {
                const auto* ack = std::get_if<ms::wire::ack_msg>(&m);
                if (ack != nullptr && ack->seq == seq) {
                    return true;
                }
            }
        }
    };
    const auto captured = sealed_ping(1, 77);
    CHECK(exchange(captured, 77, to));        // the original is answered
    CHECK_FALSE(exchange(captured, 77, to));  // its replay is not
    CHECK_FALSE(exchange(captured, 77, to));
    CHECK(exchange(sealed_ping(2, 78), 78, to));  // the sender's next datagram is

    // Replayed to another member holding the key (the worker), which never heard from "peer":
    // sealed for the director, so dropped, unanswered, and counted in its stats.
    sockaddr_in to_worker = to;
    to_worker.sin_port = htons(port_of(c.worker_addr(0)));
    const auto before =
        json_uint(c.stats_json(c.worker_addr(0)), "gossip.datagrams_wrong_receiver");
    REQUIRE(before);
    CHECK_FALSE(exchange(sealed_ping(3, 79), 79, to_worker));
    const auto after = json_uint(c.stats_json(c.worker_addr(0)), "gossip.datagrams_wrong_receiver");
    REQUIRE(after);
    CHECK(*after == *before + 1);
    ::close(sock);
    CHECK(c.director().running());
    CHECK(c.worker(0).running());
}
