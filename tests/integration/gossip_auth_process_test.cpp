// Authenticated gossip with real processes: members with another gossip key or another cluster
// name never merge (neither over UDP gossip nor over push-pull), and forged datagrams change
// nothing.
#include "membership/gossip_cipher.hpp"
#include "support/cluster.hpp"
#include "support/key_file.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <thread>

using namespace std::chrono_literals;
using namespace rpcnetd::test;
using rpcnetd::membership::gossip_cipher;

TEST_CASE("gossip auth: other keys and other cluster names never merge",
          "[membership][integration]") {
    const gossip_key_file key_a_file;
    const gossip_key_file key_b_file;
    const std::string& key_a = key_a_file.path();
    const std::string& key_b = key_b_file.path();
    cluster c({"--gossip-key", key_a, "--cluster", "prod"});
    c.add_worker("worker-ok", {"--gossip-key", key_a, "--cluster", "prod"});
    c.add_worker("worker-wrong-key", {"--gossip-key", key_b, "--cluster", "prod"});
    c.add_worker("worker-wrong-cluster", {"--gossip-key", key_a, "--cluster", "staging"});
    c.add_worker("worker-no-key", {"--cluster", "prod"});
    REQUIRE(c.wait_alive_workers(1, 20s));
    // Wait until the director has seen each of the three outsiders try: they join by push-pull
    // (a seed is reached over TCP; no datagram is sent before a join succeeds), and each attempt
    // is refused because it is not sealed with our key and cluster name. Only then is "never
    // merged" a result rather than "never tried".
    std::optional<std::uint64_t> refused;
    std::optional<std::uint64_t> rejected;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
        const auto stats = c.stats_json();
        refused = json_uint(stats, "gossip.push_pulls_refused");
        rejected = json_uint(stats, "gossip.datagrams_rejected");
        if (refused && *refused >= 3) {
            break;
        }
        std::this_thread::sleep_for(200ms);
    }
    INFO("director: push_pulls_refused=" << refused.value_or(0)
                                         << " datagrams_rejected=" << rejected.value_or(0));
    REQUIRE(refused);
    CHECK(*refused >= 3);
    CHECK(c.has_member("worker-ok"));
    CHECK_FALSE(c.has_member("worker-wrong-key"));
    CHECK_FALSE(c.has_member("worker-wrong-cluster"));
    CHECK_FALSE(c.has_member("worker-no-key"));
    for (std::size_t i = 1; i <= 3; ++i) {
        CHECK(c.worker(i).output().find("NodeJoined node=director") == std::string::npos);
        CHECK(c.worker(i).running());
    }
}

TEST_CASE("gossip auth: forged and random datagrams change nothing", "[membership][integration]") {
    const gossip_key_file key_file;
    const std::string& key = key_file.path();
    cluster c({"--gossip-key", key});
    c.add_worker("worker-a", {"--gossip-key", key});
    REQUIRE(c.wait_alive_workers(1, 20s));
    const auto before = c.members();

    const int sock = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(sock >= 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port_of(c.director_addr()));
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    std::mt19937 gen(42);
    std::vector<std::uint8_t> buf(1400);
    for (int i = 0; i < 20000; ++i) {
        const std::size_t n = 1 + gen() % buf.size();
        for (std::size_t j = 0; j < n; ++j) {
            buf[j] = static_cast<std::uint8_t>(gen());
        }
        if (i % 2 == 0) {
            buf[0] = gossip_cipher::version;  // looks like an envelope, fails authentication
        }
        ::sendto(sock, buf.data(), n, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    }
    ::close(sock);

    std::this_thread::sleep_for(2s);
    CHECK(c.director().running());
    const auto after = c.members();
    REQUIRE(after.size() == before.size());
    for (const auto& m : after) {
        CHECK(m.state == "alive");
    }
}
