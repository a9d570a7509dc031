// Writes the hand-made seeds of the fuzz corpus: well-formed inputs a fuzzer cannot find on its
// own (a datagram sealed with the target's key) or would take long to (valid frame streams, SWIM
// packets of every message type, serialized protobuf bodies). Hidden; scripts/fuzz.sh --seeds runs
//   RPCNETD_FUZZ_SEED_DIR=<dir> ./build/rpcnetd_tests "[.fuzz_seeds]"
// and then minimises seeds + fuzzer findings into tests/fuzz/corpus/ with libFuzzer's -merge=1.
#include "fuzz/gossip_envelope_fuzz.hpp"
#include "membership/member_proto.hpp"
#include "membership/swim_codec.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/frame.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
namespace wire = rpcnetd::membership::wire;
using bytes = std::vector<std::uint8_t>;

class seed_writer {
public:
    explicit seed_writer(fs::path root) : root_(std::move(root)) {}
    void add(const std::string& target, const std::string& name, const bytes& data) {
        fs::create_directories(root_ / target);
        std::ofstream out(root_ / target / ("seed-" + name), std::ios::binary);
        out.write(reinterpret_cast<const char*>(data.data()),
                  static_cast<std::streamsize>(data.size()));
    }

private:
    fs::path root_;
};

bytes cat(std::initializer_list<bytes> parts) {
    bytes out;
    for (const auto& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

bytes of(const std::string& s) {
    return {s.begin(), s.end()};
}

void frame_seeds(seed_writer& w) {
    using rpcnetd::rpc::frame_type;
    std::string stream;
    rpcnetd::v1::Hello hello;
    hello.set_version(1);
    hello.set_max_frame(1024);
    rpcnetd::rpc::append_frame(stream, frame_type::hello, 0, hello.SerializeAsString());
    rpcnetd::v1::Call call;
    call.set_method("Worker.Generate");
    call.set_request("job");
    rpcnetd::rpc::append_frame(stream, frame_type::call, 1, call.SerializeAsString());
    rpcnetd::rpc::append_frame(stream, frame_type::ping, 0, "12345678");
    rpcnetd::rpc::append_frame(stream, frame_type::cancel, 1, "");
    for (std::uint8_t cfg = 0; cfg < 4; ++cfg) {
        w.add("frame_decoder", "stream-" + std::to_string(cfg), cat({{cfg, 7}, of(stream)}));
    }
    w.add("frame_decoder", "too-large", {3, 1, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1, 3, 0, 0, 0});
    w.add("frame_decoder", "bad-type", {2, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9, 0, 0, 0, 'x'});
    w.add("frame_decoder", "bad-reserved", {2, 1, 0, 0, 0, 1, 0, 0, 0, 1, 3, 0, 0, 1, 'x'});
    w.add("frame_decoder", "partial", cat({{2, 9}, of(stream.substr(0, stream.size() - 3))}));
}

std::vector<wire::message> every_message() {
    return {wire::ping_msg{7, "n0"},
            wire::ping_req_msg{8, "n2", {"10.0.0.2", 7946}},
            wire::ack_msg{7},
            wire::nack_msg{8},
            wire::alive_msg{"n3", {"10.0.0.3", 7946}, 5, {{"role", "worker"}, {"gpu", "1"}}},
            wire::suspect_msg{"n2", 4, "n1"},
            wire::failed_msg{"n4", 3, "n1"},
            wire::left_msg{"n1", 9}};
}

void codec_seeds(seed_writer& w) {
    const auto all = every_message();
    for (std::size_t i = 0; i < all.size(); ++i) {
        w.add("swim_codec", "msg-" + std::to_string(i),
              wire::encode_packet("n1", std::span<const wire::message>(&all[i], 1)));
    }
    const auto packet = wire::encode_packet("n1", std::span<const wire::message>(all));
    w.add("swim_codec", "all", packet);
    w.add("swim_codec", "unknown-type", {1, 2, 'n', '1', 2, 99, 0, 1, 0, 3, 0, 4, 0, 0, 0, 1});
    w.add("swim_codec", "version-2", {2, 2, 'n', '1', 1, 3, 0, 4, 0, 0, 0, 1});

    // gossip_envelope mode 0: a real sealed datagram under the ring's primary and secondary key.
    using rpcnetd::membership::gossip_cipher;
    namespace ef = rpcnetd::fuzz::envelope_fuzz;
    const gossip_cipher secondary(ef::fixed_key(2));
    w.add("gossip_envelope", "sealed-primary", cat({{0}, ef::ring().seal(packet, ef::cluster)}));
    w.add("gossip_envelope", "sealed-secondary", cat({{0}, secondary.seal(packet, ef::cluster)}));
    w.add("gossip_envelope", "mutate", cat({{1, 0, 20, 3, 5}, of("other"), packet}));
    // Modes 3 and 4: stamped messages of every kind (receiver binding, kinds, replay windows).
    namespace ms = rpcnetd::membership;
    const std::string self_host = "127.0.0.1";
    const bytes self = cat(
        {{static_cast<std::uint8_t>(self_host.size())}, of(self_host), {0x1b, 0x5a}});  // port 7002
    const bytes other_self = cat(
        {{static_cast<std::uint8_t>(self_host.size())}, of(self_host), {0x1b, 0x5b}});  // port 7003
    const ms::gossip_stamp stamp{"n1", 1, 2, "127.0.0.1:7002"};
    for (const auto kind : ef::kinds) {
        const auto sealed = ef::envelope().seal(kind, stamp, packet);
        const std::string k = ms::to_string(kind);
        w.add("gossip_envelope", "stamped-" + k, cat({{3}, self, sealed}));
        w.add("gossip_envelope", "stamped-" + k + "-elsewhere", cat({{3}, other_self, sealed}));
    }
    auto u64 = [](std::uint64_t v) {
        bytes out;
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.push_back(static_cast<std::uint8_t>(v >> shift));
        }
        return out;
    };
    const std::uint64_t now = 1'700'000'000'000'000ULL;  // unix microseconds
    // Mode 4's input: kind, sender, generation, sequence, receiver, self, the receiver's clock.
    auto seal_input = [&](std::uint8_t kind, std::uint64_t clock) {
        return cat({{4, kind, 2},
                    of("n1"),
                    u64(now),
                    u64(7),
                    {14},
                    of("127.0.0.1:7002"),
                    self,
                    u64(clock),
                    packet});
    };
    for (std::uint8_t kind = 0; kind < std::size(ef::kinds); ++kind) {
        w.add("gossip_envelope", "seal-" + std::string(ms::to_string(ef::kinds[kind])),
              seal_input(kind, now + 1'000'000));
    }
    w.add("gossip_envelope", "seal-keyring-stale", seal_input(3, now + 3'600'000'000ULL));
    w.add("gossip_envelope", "key-text",
          cat({{2}, of(gossip_cipher::encode_key(ef::fixed_key(9)) + "\n")}));
}

void proto_seeds(seed_writer& w) {
    rpcnetd::v1::PushPullRequest pp;
    rpcnetd::membership::fill(
        *pp.mutable_members(),
        {{"n1",
          {"10.0.0.1", 7946},
          3,
          rpcnetd::membership::member_status::alive,
          {{"role", "worker"}}},
         {"n0", {"10.0.0.0", 7946}, 9, rpcnetd::membership::member_status::suspect, {}},
         {"n2", {"::1", 7946}, 1, rpcnetd::membership::member_status::failed, {}},
         {"n3", {"h", 1}, 2, rpcnetd::membership::member_status::left, {}}});
    pp.set_cluster("c");
    pp.set_join(true);
    w.add("proto_bodies", "push-pull-request", cat({{8}, of(pp.SerializeAsString())}));
    w.add("proto_bodies", "push-pull-response", cat({{9}, of(pp.SerializeAsString())}));
    rpcnetd::v1::AssignRequest assign;
    auto* tag = assign.add_filter();
    tag->set_key("gpu");
    tag->set_value("1");
    assign.add_exclude("w1");
    assign.set_job("j");
    w.add("proto_bodies", "assign", cat({{5}, of(assign.SerializeAsString())}));
    rpcnetd::v1::GenerateRequest gen;
    gen.set_job("j");
    gen.set_prompt("p");
    gen.set_to_sequence(10);
    w.add("proto_bodies", "generate", cat({{4}, of(gen.SerializeAsString())}));
    rpcnetd::v1::Call call;
    call.set_method("Director.Assign");
    call.set_request(assign.SerializeAsString());
    call.set_deadline_ms(1000);
    w.add("proto_bodies", "call", cat({{1}, of(call.SerializeAsString())}));
    rpcnetd::v1::End end;
    end.set_code(14);
    end.set_message("unavailable");
    w.add("proto_bodies", "end", cat({{2}, of(end.SerializeAsString())}));
}

}  // namespace

TEST_CASE("fuzz seeds: write the hand-made seed corpus", "[.fuzz_seeds]") {
    const char* dir = std::getenv("RPCNETD_FUZZ_SEED_DIR");
    REQUIRE(dir != nullptr);
    seed_writer w{fs::path(dir)};
    frame_seeds(w);
    codec_seeds(w);
    proto_seeds(w);
}
