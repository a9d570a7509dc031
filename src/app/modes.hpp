#pragma once
// The modes rpcnetd runs. Each returns the process exit code (0 success, 1 runtime failure) and
// throws usage_error for configuration problems found at start-up (exit 2).
#include "cli/options.hpp"

namespace rpcnetd::app {

int run_director(const cli::director_config& config);
int run_worker(const cli::worker_config& config);
int run_client(const cli::client_config& config);
int run_members(const cli::members_config& config);
int run_events(const cli::events_config& config);
int run_stats(const cli::stats_config& config);
int run_keys(const cli::keys_config& config);
int run_drain(const cli::drain_config& config);

}  // namespace rpcnetd::app
