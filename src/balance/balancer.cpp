#include "balance/balancer.hpp"

#include "balance/affinity.hpp"
#include "balance/least_connections.hpp"
#include "balance/power_of_two.hpp"
#include "balance/random_pick.hpp"
#include "balance/round_robin.hpp"

namespace rpcnetd::balance {

std::unique_ptr<balancer> make_balancer(std::string_view name, strategy_options options) {
    if (name == "least-connections") {
        return std::make_unique<least_connections>();
    }
    if (name == "round-robin") {
        return std::make_unique<round_robin>();
    }
    if (name == "random") {
        return std::make_unique<random_pick>();
    }
    if (name == "power-of-two") {
        return std::make_unique<power_of_two>();
    }
    if (name == "affinity") {
        return std::make_unique<affinity>(options.affinity_epsilon);
    }
    return nullptr;
}

}  // namespace rpcnetd::balance
