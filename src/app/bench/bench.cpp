#include "app/bench/bench.hpp"

#include "app/bench/bench_phases.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "rpc/tls_context.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <exception>

#include <sys/resource.h>

namespace rpcnetd::app {
namespace {

// The idle phase holds up to ~1000 sockets; the usual soft limit of 1024 is too tight.
void raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

net::awaitable<int> run_phase(bench_env* env) {
    switch (env->cfg.mode) {
    case cli::bench_mode::unary:
        co_return co_await bench_unary(*env);
    case cli::bench_mode::stream:
        co_return co_await bench_stream(*env);
    case cli::bench_mode::connect:
        co_return co_await bench_connect(*env);
    case cli::bench_mode::idle:
        co_return co_await bench_idle(*env);
    case cli::bench_mode::assign:
        co_return co_await bench_assign(*env);
    }
    co_return 2;
}

std::uint32_t to_u32(const std::string& flag, const std::string& v) {
    char* end = nullptr;
    const unsigned long n = std::strtoul(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n > 0xFFFFFFFFUL) {
        throw usage_error("bad value for --" + flag + ": '" + v + "'");
    }
    return static_cast<std::uint32_t>(n);
}

std::chrono::milliseconds seconds_flag(const std::string& flag, const std::string& v) {
    char* end = nullptr;
    const double s = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || s < 0) {
        throw usage_error("bad value for --" + flag + " (seconds): '" + v + "'");
    }
    return std::chrono::milliseconds(static_cast<long long>(s * 1000.0 + 0.5));
}

// One `--key value` of the grpc-compare flags (scripts/bench/grpc-compare.sh) into c.
void apply_grpc_flag(cli::bench_config& c, std::string& certdir, const std::string& key,
                     const std::string& value) {
    if (key == "port") {
        const auto p = to_u32(key, value);
        if (p == 0 || p > 65535) {
            throw usage_error("bad --port " + value);
        }
        c.target.port = static_cast<std::uint16_t>(p);
    } else if (key == "certdir") {
        certdir = value;
    } else if (key == "server-pid") {
        c.server_pid = static_cast<int>(to_u32(key, value));
    } else if (key == "conc") {
        c.concurrency = std::max<std::uint32_t>(1, to_u32(key, value));
    } else if (key == "payload") {
        c.payload = to_u32(key, value);
    } else if (key == "warmup") {
        c.warmup = seconds_flag(key, value);
    } else if (key == "duration") {
        c.duration = seconds_flag(key, value);
    } else if (key == "streams") {
        c.streams = std::max<std::uint32_t>(1, to_u32(key, value));
    } else if (key == "count") {
        c.count = to_u32(key, value);
    } else if (key == "warmup-count") {
        c.warmup_count = to_u32(key, value);
    } else if (key == "iters") {
        c.iters = std::max<std::uint32_t>(1, to_u32(key, value));
    } else if (key == "warmup-iters") {
        c.warmup_iters = to_u32(key, value);
    } else if (key == "channels") {
        c.channels = std::max<std::uint32_t>(1, to_u32(key, value));
    } else if (key == "scheme" || key == "mode") {
        // grpc_client knobs with no meaning here
    } else {
        throw usage_error("unknown flag --" + key);
    }
}

}  // namespace

int run_bench(const cli::bench_config& config) {
    raise_fd_limit();
    net::asio::io_context ioc{1};
    bench_env env;
    env.cfg = config;
    env.ssl = rpc::tls_context::make_client(config.common.tls);
    env.opts.tls = config.common.tls;
    env.opts.node_name = "rpcnetd-bench";
    env.opts.connect_timeout = std::chrono::milliseconds(10000);
    int rc = 1;
    std::exception_ptr error;
    net::asio::co_spawn(ioc, run_phase(&env), [&](const std::exception_ptr& e, int r) {
        error = e;
        rc = r;
    });
    ioc.run();
    if (error) {
        std::rethrow_exception(error);
    }
    return rc;
}

cli::bench_config bench_config_from_grpc_flags(const std::vector<std::string>& args) {
    if (args.empty()) {
        throw usage_error("usage: <unary|stream|connect|idle> --port P --certdir DIR [flags]");
    }
    cli::bench_config c;
    const std::string& phase = args[0];
    if (phase == "unary") {
        c.mode = cli::bench_mode::unary;
    } else if (phase == "stream") {
        c.mode = cli::bench_mode::stream;
    } else if (phase == "connect") {
        c.mode = cli::bench_mode::connect;
    } else if (phase == "idle") {
        c.mode = cli::bench_mode::idle;
    } else {
        throw usage_error("unknown phase '" + phase + "'");
    }
    c.output = cli::bench_output::result;
    c.target = {"127.0.0.1", 50551};
    std::string certdir = ".";
    for (std::size_t i = 1; i < args.size(); ++i) {
        std::string key = args[i];
        std::string value;
        if (key.rfind("--", 0) != 0) {
            throw usage_error("unexpected argument '" + key + "'");
        }
        key = key.substr(2);
        if (const auto eq = key.find('='); eq != std::string::npos) {
            value = key.substr(eq + 1);
            key = key.substr(0, eq);
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            throw usage_error("missing value for --" + key);
        }
        apply_grpc_flag(c, certdir, key, value);
    }
    c.common.tls.cert_file = "";
    c.common.tls.key_file = "";
    c.common.tls.ca_file = certdir + "/server.crt";
    return c;
}

}  // namespace rpcnetd::app
