#include "balance/balancer.hpp"

#include "balance/least_connections.hpp"
#include "balance/random_pick.hpp"
#include "balance/round_robin.hpp"

namespace rpcnetd::balance {

std::unique_ptr<balancer> make_balancer(std::string_view name) {
    if (name == "least-connections") {
        return std::make_unique<least_connections>();
    }
    if (name == "round-robin") {
        return std::make_unique<round_robin>();
    }
    if (name == "random") {
        return std::make_unique<random_pick>();
    }
    return nullptr;
}

} // namespace rpcnetd::balance
