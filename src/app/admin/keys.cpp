// rpcnetd keys install|use|remove|list: applies one keyring operation (app/keyring_service.hpp)
// to every live member of the cluster. The director lists the members (Director.Members); each
// member is then called directly, one after the other, and one line per member is printed.
// Exit 1 if any member failed (or none was reachable), so a script can stop a rotation there.
#include "app/admin/admin_connection.hpp"
#include "app/keyring_service.hpp"
#include "app/modes.hpp"
#include "app/shutdown.hpp"
#include "common/safe_text.hpp"
#include "common/secure_random.hpp"
#include "membership/gossip_cipher.hpp"
#include "net/asio.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/channel.hpp"
#include "rpc/tls_context.hpp"

#include <openssl/crypto.h>

#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <optional>

namespace rpcnetd::app {
namespace {

using namespace std::chrono_literals;
using membership::gossip_cipher;

struct keys_job {
    cli::keys_config cfg;
    keyring_op op = keyring_op::list;
    gossip_cipher::key current{};              // seals requests (the cluster's primary)
    std::optional<gossip_cipher::key> target;  // the key operated on
    std::shared_ptr<boost::asio::ssl::context> ssl;
    // Who we are in the requests' freshness stamps: one random name per run, so two runs never
    // share a replay window; requests are numbered within the run.
    std::string sender = fmt::format("rpcnetd-keys/{:016x}", common::secure_random_u64());
    mutable std::uint64_t sequence = 0;

    ~keys_job() {
        OPENSSL_cleanse(current.data(), current.size());
        if (target) {
            OPENSSL_cleanse(target->data(), target->size());
        }
    }
};

constexpr std::string_view node_name = "rpcnetd-keys";

std::string ring_text(const v1::KeyringResponse& r) {
    std::string out;
    for (const auto& k : r.keys()) {
        out += out.empty() ? "" : ",";
        out += (k.primary() ? "*" : "") + k.fingerprint();
    }
    return out;
}

// One call, sealed with `with`; the opened response or a failure message.
net::awaitable<std::pair<std::optional<v1::KeyringResponse>, std::string>>
call_member(rpc::channel& c, const keys_job& job, const gossip_cipher::key& with,
            const common::endpoint& to) {
    // Fresh for this member only: our clock, the next number, its address.
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const auto stamp = keyring_service::request_stamp(job.sender, static_cast<std::uint64_t>(now),
                                                      ++job.sequence, to);
    auto r = co_await c.unary(
        keyring_method(job.op),
        keyring_service::seal_request(with, job.cfg.common.cluster, job.target, stamp), 5s);
    if (!r.st.ok()) {
        co_return std::pair{std::nullopt, r.st.to_string()};
    }
    const auto body =
        keyring_service::open_response(with, job.cfg.common.cluster, r.response, stamp);
    v1::KeyringResponse resp;
    if (!body || !resp.ParseFromString(*body)) {
        co_return std::pair{std::nullopt, std::string("response does not authenticate")};
    }
    co_return std::pair{std::optional{resp}, std::string{}};
}

// Applies the operation to one member; prints its line; true on success.
net::awaitable<bool> apply_to(const keys_job& job, const v1::MemberInfo& m) {
    auto ex = co_await net::asio::this_coro::executor;
    const auto addr = common::parse_endpoint(m.addr());
    std::string failure;
    std::optional<v1::KeyringResponse> resp;
    if (!addr) {
        failure = "bad address";
    } else {
        const common::endpoint target = *addr;
        auto conn = co_await rpc::channel::connect(
            ex, target, job.ssl, admin_options(job.cfg.common, std::string(node_name)));
        if (!conn) {
            failure = "cannot connect: " + conn.error().message();
        } else {
            rpc::channel c = *conn;
            std::tie(resp, failure) = co_await call_member(c, job, job.current, target);
            if (!resp && job.op == keyring_op::use && job.target &&
                failure.rfind("UNAUTHENTICATED", 0) == 0) {
                // A retried rotation: this member already seals with the new key.
                std::tie(resp, failure) = co_await call_member(c, job, *job.target, target);
            }
            c.close();
        }
    }
    const char* verb = keyring_verb(job.op);
    const std::string what =
        job.target ? fmt::format("{} key={}", verb, gossip_cipher::fingerprint(*job.target))
                   : std::string(verb);
    if (!resp) {
        std::cout << fmt::format("❌ node={} addr={} {} failed: {}\n", common::escape_text(m.name()),
                                 common::escape_text(m.addr()), what, common::escape_text(failure));
        co_return false;
    }
    std::cout << fmt::format("🔑 node={} addr={} {} {} keys={}\n", common::escape_text(m.name()),
                             common::escape_text(m.addr()), what,
                             job.op == keyring_op::list ? "ok"
                             : resp->changed()          ? "done"
                                                        : "unchanged",
                             ring_text(*resp));
    co_return true;
}

net::awaitable<int> run_job(const keys_job& job) {
    auto conn =
        co_await connect_member(job.cfg.director, job.cfg.common, node_name, "director ", job.ssl);
    if (!conn) {
        co_return 1;
    }
    rpc::channel c = *conn;
    auto r = co_await c.unary("Director.Members", v1::MembersRequest().SerializeAsString(), 5s);
    c.close();
    v1::MembersResponse members;
    if (!parse_answer("Director.Members", r, members)) {
        co_return 1;
    }
    std::size_t ok = 0;
    std::size_t failed = 0;
    for (const auto& m : members.members()) {
        // Suspects are tried too: most are alive, and one left behind would be cut off later.
        if (m.state() != "alive" && m.state() != "suspect") {
            std::cout << fmt::format("⏭️  node={} addr={} skipped: state={}\n",
                                     common::escape_text(m.name()), common::escape_text(m.addr()),
                                     common::escape_text(m.state()));
            continue;
        }
        if (co_await apply_to(job, m)) {
            ++ok;
        } else {
            ++failed;
        }
    }
    std::cout << fmt::format("keys {}: {} members ok, {} failed\n", keyring_verb(job.op), ok,
                             failed);
    co_return failed == 0 && ok > 0 ? 0 : 1;
}

}  // namespace

int run_keys(const cli::keys_config& cfg) {
    keys_job job;
    job.cfg = cfg;
    job.op = cfg.action == cli::keys_action::install  ? keyring_op::install
             : cfg.action == cli::keys_action::use    ? keyring_op::use
             : cfg.action == cli::keys_action::remove ? keyring_op::remove
                                                      : keyring_op::list;
    // Key files are read before anything starts: a bad file is a usage error (exit 2).
    job.current = gossip_cipher::load_key_file(cfg.common.gossip_key_file);
    if (job.op != keyring_op::list) {
        job.target = gossip_cipher::load_key_file(cfg.key_file);
    }
    job.ssl = rpc::tls_context::make_client(cfg.common.tls);

    net::asio::io_context ioc(1);
    shutdown_signal sig(ioc.get_executor());
    int exit_code = 1;
    net::asio::co_spawn(ioc, sig.wait(), [&](const std::exception_ptr&, int signo) {
        if (signo != 0) {
            ioc.stop();
        }
    });
    net::asio::co_spawn(ioc, run_job(job), [&](const std::exception_ptr& e, int code) {
        exit_code = e ? 1 : code;
        sig.cancel();
    });
    ioc.run();
    return exit_code;
}

}  // namespace rpcnetd::app
