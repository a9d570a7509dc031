#include "app/run.hpp"

#include "app/modes.hpp"
#include "cli/options.hpp"
#include "common/error.hpp"
#include "common/fd_limit.hpp"
#include "common/large_blocks.hpp"
#include "common/log.hpp"

#include <cstdio>
#include <exception>
#include <iostream>
#include <type_traits>

namespace rpcnetd::app {

int run_bench(const cli::bench_config& config);

namespace {

// Certificates are checked before anything starts so a typo is one clear line, exit 2.
void check_readable(const std::string& flag, const std::string& path) {
    if (path.empty()) {
        return;
    }
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        throw usage_error("cannot read --" + flag + " file '" + path + "'");
    }
    std::fclose(f);
}

// The default certificate paths are relative to the source tree (its development pair); an
// installed binary started elsewhere must be told where its certificates are.
void check_default_cert(const cli::common_config& c, bool needs_own_cert) {
    const auto& t = c.tls;
    if (t.cert_file != cli::default_cert_file || (!needs_own_cert && !t.ca_file.empty())) {
        return;
    }
    if (std::FILE* f = std::fopen(t.cert_file.c_str(), "rb")) {
        std::fclose(f);
        return;
    }
    throw usage_error("no certificate (--cert/--key): the default " + t.cert_file +
                      " exists only in the source tree; pass --cert FILE --key FILE --ca FILE "
                      "or set cert, key and ca in --config; make them with scripts/gen-certs.sh");
}

void check_tls_files(const cli::common_config& c, bool needs_own_cert) {
    check_default_cert(c, needs_own_cert);
    if (needs_own_cert) {
        check_readable("cert", c.tls.cert_file);
        check_readable("key", c.tls.key_file);
    }
    check_readable("ca", c.tls.ca_file.empty() ? c.tls.cert_file : c.tls.ca_file);
    check_readable("gossip-key", c.gossip_key_file);
}

int dispatch(const cli::command& cmd) {
    return std::visit(
        [](const auto& c) -> int {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, cli::help_request>) {
                std::cout << c.text;
                return 0;
            } else {
                common::init_logging(c.common.log_level, c.common.log_format);
                if constexpr (std::is_same_v<T, cli::director_config>) {
                    check_tls_files(c.common, true);
                    return run_director(c);
                } else if constexpr (std::is_same_v<T, cli::worker_config>) {
                    check_tls_files(c.common, true);
                    return run_worker(c);
                } else if constexpr (std::is_same_v<T, cli::client_config>) {
                    check_tls_files(c.common, c.common.tls.require_client_cert);
                    return run_client(c);
                } else if constexpr (std::is_same_v<T, cli::members_config>) {
                    check_tls_files(c.common, c.common.tls.require_client_cert);
                    return run_members(c);
                } else if constexpr (std::is_same_v<T, cli::stats_config>) {
                    check_tls_files(c.common, c.common.tls.require_client_cert);
                    return run_stats(c);
                } else if constexpr (std::is_same_v<T, cli::keys_config>) {
                    check_tls_files(c.common, c.common.tls.require_client_cert);
                    check_readable("key-file", c.key_file);
                    return run_keys(c);
                } else if constexpr (std::is_same_v<T, cli::drain_config>) {
                    check_tls_files(c.common, c.common.tls.require_client_cert);
                    return run_drain(c);
                } else if constexpr (std::is_same_v<T, cli::events_config>) {
                    check_tls_files(c.common, c.common.tls.require_client_cert);
                    return run_events(c);
                } else {
                    check_tls_files(c.common, c.common.tls.require_client_cert);
                    return run_bench(c);
                }
            }
        },
        cmd);
}

}  // namespace

int run_main(int argc, char** argv) {
    // Before any socket exists: every mode may hold many connections (a director its clients,
    // bench its idle channels), and epoll has no FD_SETSIZE bound to protect.
    (void)common::raise_fd_limit();
    // Request-sized blocks are mmap'd, so freeing them lowers RSS (the request memory budget).
    (void)common::return_large_blocks();
    try {
        return dispatch(cli::parse_command_line(argc, argv));
    } catch (const usage_error& e) {
        std::cerr << "rpcnetd: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "rpcnetd: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace rpcnetd::app
