#include "membership/gossip_cipher.hpp"

#include "common/error.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <unistd.h>

using rpcnetd::membership::gossip_cipher;

namespace {

std::vector<std::uint8_t> bytes(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    std::iota(v.begin(), v.end(), std::uint8_t{7});
    return v;
}

gossip_cipher::key key_of(std::uint8_t fill) {
    gossip_cipher::key k{};
    k.fill(fill);
    return k;
}

// A scratch file under the system temp dir, removed when the test ends.
class temp_file {
public:
    explicit temp_file(const std::string& contents) {
        static int counter = 0;
        path_ = (std::filesystem::temp_directory_path() /
                 ("rpcnetd-key-" + std::to_string(::getpid()) + "-" + std::to_string(++counter)))
                    .string();
        std::ofstream(path_, std::ios::binary) << contents;
        // Key files must be private to their owner (see key_file_mode.hpp).
        std::filesystem::permissions(path_, std::filesystem::perms::owner_read |
                                                std::filesystem::perms::owner_write);
    }
    ~temp_file() {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace

TEST_CASE("gossip_cipher: round trip adds exactly overhead() bytes", "[membership][cipher]") {
    const gossip_cipher c(key_of(1));
    STATIC_REQUIRE(gossip_cipher::overhead() == 29);
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{100},
                                std::size_t{1400 - gossip_cipher::overhead()}}) {
        CAPTURE(n);
        const auto plain = bytes(n);
        const auto sealed = c.seal(plain, "prod");
        CHECK(sealed.size() == n + gossip_cipher::overhead());
        CHECK(sealed[0] == gossip_cipher::version);
        const auto opened = c.open(sealed, "prod");
        REQUIRE(opened);
        CHECK(*opened == plain);
    }
}

TEST_CASE("gossip_cipher: every seal uses a fresh nonce", "[membership][cipher]") {
    const gossip_cipher c(key_of(1));
    const auto plain = bytes(64);
    const auto a = c.seal(plain, "prod");
    const auto b = c.seal(plain, "prod");
    CHECK(a != b);
    CHECK(!std::equal(a.begin() + 1, a.begin() + 13, b.begin() + 1));
    // The ciphertext is not the plaintext.
    CHECK(!std::equal(plain.begin(), plain.end(), a.begin() + 13));
}

TEST_CASE("gossip_cipher: any altered bit is rejected", "[membership][cipher]") {
    const gossip_cipher c(key_of(2));
    const auto sealed = c.seal(bytes(40), "prod");
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            auto forged = sealed;
            forged[i] = static_cast<std::uint8_t>(forged[i] ^ (1u << bit));
            CAPTURE(i, bit);
            CHECK_FALSE(c.open(forged, "prod"));
        }
    }
    SECTION("appended bytes are rejected too") {
        auto longer = sealed;
        longer.push_back(0);
        CHECK_FALSE(c.open(longer, "prod"));
    }
}

TEST_CASE("gossip_cipher: wrong key or wrong cluster is rejected", "[membership][cipher]") {
    const gossip_cipher c(key_of(3));
    const auto sealed = c.seal(bytes(40), "prod");
    CHECK_FALSE(gossip_cipher(key_of(4)).open(sealed, "prod"));
    CHECK_FALSE(c.open(sealed, "staging"));
    CHECK_FALSE(c.open(sealed, ""));
    CHECK_FALSE(c.open(sealed, std::string_view("prod\0", 5)));
    CHECK_FALSE(c.open(sealed, "Prod"));
    CHECK(c.open(sealed, "prod"));
}

TEST_CASE("gossip_cipher: truncation at every length is rejected", "[membership][cipher]") {
    const gossip_cipher c(key_of(5));
    for (const std::size_t n : {std::size_t{0}, std::size_t{17}}) {
        const auto sealed = c.seal(bytes(n), "prod");
        for (std::size_t len = 0; len < sealed.size(); ++len) {
            CAPTURE(n, len);
            CHECK_FALSE(c.open(std::span(sealed.data(), len), "prod"));
        }
    }
    CHECK_FALSE(c.open({}, "prod"));
}

TEST_CASE("gossip_cipher: another version byte is rejected", "[membership][cipher]") {
    const gossip_cipher c(key_of(6));
    auto sealed = c.seal(bytes(10), "prod");
    sealed[0] = 2;
    CHECK_FALSE(c.open(sealed, "prod"));
}

TEST_CASE("gossip_cipher: a keyring seals with the primary and opens with any key",
          "[membership][cipher]") {
    const gossip_cipher old_only(key_of(7));
    const gossip_cipher ring(std::vector<gossip_cipher::key>{key_of(8), key_of(7)});
    const gossip_cipher new_only(key_of(8));
    CHECK(ring.key_count() == 2);
    const auto plain = bytes(30);
    CHECK(ring.open(old_only.seal(plain, "prod"), "prod") == plain);
    CHECK(new_only.open(ring.seal(plain, "prod"), "prod") == plain);
    CHECK_FALSE(old_only.open(ring.seal(plain, "prod"), "prod"));
    CHECK_THROWS_AS(gossip_cipher(std::vector<gossip_cipher::key>{}), std::invalid_argument);

    SECTION("a moved-from cipher opens nothing and refuses to seal") {
        gossip_cipher from(key_of(7));
        const gossip_cipher to(std::move(from));
        const auto sealed = to.seal(plain, "prod");
        CHECK(to.open(sealed, "prod") == plain);
        CHECK_FALSE(from.open(sealed, "prod"));  // NOLINT(bugprone-use-after-move)
        CHECK_THROWS_AS(from.seal(plain, "prod"), std::logic_error);
    }
}

TEST_CASE("gossip_cipher: key encoding", "[membership][cipher]") {
    const auto k = gossip_cipher::generate_key();
    const auto text = gossip_cipher::encode_key(k);
    CHECK(text.size() == 44);
    CHECK(text.back() == '=');
    CHECK(gossip_cipher::decode_key(text) == k);
    CHECK(gossip_cipher::decode_key(" " + text + "\n") == k);
    CHECK(gossip_cipher::generate_key() != k);
    // RFC 4648 vectors through a 32-byte key of known bytes: all zero is "AAAA…A=".
    CHECK(gossip_cipher::encode_key(gossip_cipher::key{}) == std::string(43, 'A') + "=");
    CHECK_FALSE(gossip_cipher::decode_key(std::string(43, 'A') + "B"));     // non-canonical tail
    CHECK_FALSE(gossip_cipher::decode_key(std::string(43, 'A')));           // length not % 4
    CHECK_FALSE(gossip_cipher::decode_key(std::string(40, 'A') + "AA=="));  // 31 bytes
    CHECK_FALSE(gossip_cipher::decode_key(std::string(42, 'A') + "*="));    // bad character
    CHECK_FALSE(gossip_cipher::decode_key(std::string(20, 'A') + "=" + std::string(23, 'A')));
    CHECK_FALSE(gossip_cipher::decode_key(""));
}

TEST_CASE("gossip_cipher: key files", "[membership][cipher]") {
    const auto k = gossip_cipher::generate_key();
    SECTION("a good file, with the trailing newline openssl writes") {
        const temp_file f(gossip_cipher::encode_key(k) + "\n");
        CHECK(gossip_cipher::load_key_file(f.path()) == k);
    }
    const auto fails_with = [](const std::string& path, const std::string& reason) {
        CHECK_THROWS_AS(gossip_cipher::load_key_file(path), rpcnetd::usage_error);
        CHECK_THROWS_WITH(gossip_cipher::load_key_file(path),
                          Catch::Contains(path) && Catch::Contains(reason));
    };
    SECTION("missing file") {
        fails_with("/nonexistent/rpcnetd/gossip.key", "cannot read");
    }
    SECTION("a directory") {
        const auto dir = std::filesystem::temp_directory_path().string();
        CHECK_THROWS_AS(gossip_cipher::load_key_file(dir), rpcnetd::usage_error);
    }
    SECTION("readable by group or others, like a private ssh key: refused with the chmod") {
        for (const auto extra :
             {std::filesystem::perms::group_read, std::filesystem::perms::others_read}) {
            const temp_file f(gossip_cipher::encode_key(k) + "\n");
            std::filesystem::permissions(f.path(), extra, std::filesystem::perm_options::add);
            fails_with(f.path(), "run chmod 600 " + f.path());
        }
    }
    SECTION("empty") {
        const temp_file f("\n");
        fails_with(f.path(), "is empty");
    }
    SECTION("not base64") {
        const temp_file f("this is not a key at all!!!!!!!!!!!!!!!!!!!!!\n");
        fails_with(f.path(), "not valid base64");
    }
    SECTION("16 bytes instead of 32") {
        const temp_file f("AAAAAAAAAAAAAAAAAAAAAA==\n");
        fails_with(f.path(), "key is 16 bytes, expected 32");
    }
    SECTION("a huge file") {
        const temp_file f(std::string(4096, 'A'));
        fails_with(f.path(), "too large");
    }
}

TEST_CASE("gossip_cipher: rotation install -> use -> remove keeps every datagram opening",
          "[membership][cipher]") {
    const auto a = key_of(1);
    const auto b = key_of(2);
    gossip_cipher member(a);  // a member being rotated
    const gossip_cipher old_peer(a);
    const auto plain = bytes(40);
    const auto fp_a = gossip_cipher::fingerprint(a);
    const auto fp_b = gossip_cipher::fingerprint(b);

    CHECK(member.install(b) == gossip_cipher::ring_result::done);
    CHECK(member.install(b) == gossip_cipher::ring_result::unchanged);
    CHECK(member.fingerprints() == std::vector<std::string>{fp_a, fp_b});
    // Installed only: still seals with a, opens b.
    CHECK(old_peer.open(member.seal(plain, "prod"), "prod") == plain);
    CHECK(member.open(gossip_cipher(b).seal(plain, "prod"), "prod") == plain);
    // Not primary: open_primary ignores b.
    CHECK_FALSE(member.open_primary(gossip_cipher(b).seal(plain, "prod"), "prod"));

    CHECK(member.use(b) == gossip_cipher::ring_result::done);
    CHECK(member.use(b) == gossip_cipher::ring_result::unchanged);
    CHECK(member.fingerprints() == std::vector<std::string>{fp_b, fp_a});
    CHECK(gossip_cipher(b).open(member.seal(plain, "prod"), "prod") == plain);
    CHECK_FALSE(old_peer.open(member.seal(plain, "prod"), "prod"));
    // Datagrams still sealed with a by members not yet switched are opened.
    CHECK(member.open(old_peer.seal(plain, "prod"), "prod") == plain);
    CHECK(member.open_primary(gossip_cipher(b).seal(plain, "prod"), "prod") == plain);

    CHECK(member.remove(b) == gossip_cipher::ring_result::is_primary);
    CHECK(member.remove(a) == gossip_cipher::ring_result::done);
    CHECK(member.remove(a) == gossip_cipher::ring_result::unchanged);
    CHECK(member.fingerprints() == std::vector<std::string>{fp_b});
    CHECK_FALSE(member.open(old_peer.seal(plain, "prod"), "prod"));
    CHECK(member.use(a) == gossip_cipher::ring_result::not_found);
}

TEST_CASE("gossip_cipher: the keyring is bounded and fingerprints name keys, not reveal them",
          "[membership][cipher]") {
    gossip_cipher ring(key_of(0));
    for (std::uint8_t i = 1; i < gossip_cipher::max_keys; ++i) {
        CHECK(ring.install(key_of(i)) == gossip_cipher::ring_result::done);
    }
    CHECK(ring.key_count() == gossip_cipher::max_keys);
    CHECK(ring.install(key_of(99)) == gossip_cipher::ring_result::full);
    CHECK_THROWS_AS(
        gossip_cipher(std::vector<gossip_cipher::key>(gossip_cipher::max_keys + 1, key_of(1))),
        std::invalid_argument);

    const auto fp = gossip_cipher::fingerprint(key_of(5));
    CHECK(fp.size() == 16);
    CHECK(fp.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(fp == gossip_cipher::fingerprint(key_of(5)));
    CHECK(fp != gossip_cipher::fingerprint(key_of(6)));
    // SHA-256 of 32 zero bytes starts 66687aadf862bd77.
    CHECK(gossip_cipher::fingerprint(key_of(0)) == "66687aadf862bd77");
}

TEST_CASE("gossip_cipher: seals are counted per key, against the nonce budget",
          "[membership][cipher]") {
    gossip_cipher c(key_of(1));
    const auto fp1 = gossip_cipher::fingerprint(key_of(1));
    const auto fp2 = gossip_cipher::fingerprint(key_of(2));
    for (int i = 0; i < 3; ++i) {
        (void)c.seal(bytes(10), "prod");
    }
    (void)c.open(c.seal(bytes(10), "prod"), "prod");  // opening seals nothing
    using counts = std::vector<std::pair<std::string, std::uint64_t>>;
    CHECK(c.seal_counts() == counts{{fp1, 4}});
    REQUIRE(c.install(key_of(2)) == gossip_cipher::ring_result::done);
    CHECK(c.seal_counts() == counts{{fp1, 4}, {fp2, 0}});
    REQUIRE(c.use(key_of(2)) == gossip_cipher::ring_result::done);
    (void)c.seal(bytes(10), "prod");
    CHECK(c.seal_counts() == counts{{fp2, 1}, {fp1, 4}});
    REQUIRE(c.remove(key_of(1)) == gossip_cipher::ring_result::done);
    CHECK(c.seal_counts() == counts{{fp2, 1}});
}
