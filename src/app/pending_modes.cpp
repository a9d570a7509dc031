// Modes whose issue has not landed yet say so and exit 1 (issue #4 fills them in).
#include "app/modes.hpp"

#include <iostream>

namespace rpcnetd::app {
namespace {
int not_built(const char* mode) {
    std::cerr << "rpcnetd: mode '" << mode << "' is not built yet (issue #4)\n";
    return 1;
}
} // namespace

int run_director(const cli::director_config&) { return not_built("director"); }
int run_worker(const cli::worker_config&) { return not_built("worker"); }
int run_client(const cli::client_config&) { return not_built("client"); }
int run_members(const cli::members_config&) { return not_built("members"); }
int run_events(const cli::events_config&) { return not_built("events"); }

} // namespace rpcnetd::app
