#pragma once
// Room for file descriptors. A daemon promising --max-connections needs that many descriptors
// plus its own (listeners, gossip socket, epoll, log files, connections to other members), but
// it inherits the soft RLIMIT_NOFILE of whoever started it (1,024 on a stock login).
// raise_fd_limit() lifts the soft limit to the hard limit at start (as Go's runtime does);
// fd_shortfall() is the pure check behind the one warning when even that is not enough.
#include <cstdint>
#include <optional>
#include <string>

namespace rpcnetd::common {

// Descriptors a member needs besides its client connections.
inline constexpr std::uint64_t fd_reserve = 64;

struct fd_limits {
    std::uint64_t soft_before = 0;  // soft limit inherited
    std::uint64_t soft = 0;         // soft limit now
    std::uint64_t hard = 0;
};

// Raises the soft RLIMIT_NOFILE to the hard limit; never lowers it. Returns the limits seen
// (all zero if getrlimit failed). Called once at start, before any thread or socket exists.
fd_limits raise_fd_limit();

// The limits raise_fd_limit() left (read again, so callers need not carry them around).
fd_limits current_fd_limits();

// A one-line explanation with the numbers when max_connections plus fd_reserve descriptors
// do not fit under `limits.soft`; nullopt when they fit. Pure.
std::optional<std::string> fd_shortfall(const fd_limits& limits, std::uint64_t max_connections);

}  // namespace rpcnetd::common
