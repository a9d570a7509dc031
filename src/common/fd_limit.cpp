#include "common/fd_limit.hpp"

#include <fmt/format.h>

#include <sys/resource.h>

namespace rpcnetd::common {

fd_limits current_fd_limits() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return {};
    }
    return {rl.rlim_cur, rl.rlim_cur, rl.rlim_max};
}

fd_limits raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return {};
    }
    fd_limits out{rl.rlim_cur, rl.rlim_cur, rl.rlim_max};
    if (rl.rlim_cur < rl.rlim_max) {
        rlimit raised = rl;
        raised.rlim_cur = rl.rlim_max;
        // RLIM_INFINITY as the hard limit is refused for NOFILE on Linux (fs.nr_open caps
        // it); then the inherited soft limit stays and fd_shortfall() tells.
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            out.soft = raised.rlim_cur;
        }
    }
    return out;
}

std::optional<std::string> fd_shortfall(const fd_limits& limits, std::uint64_t max_connections) {
    const std::uint64_t needed = max_connections + fd_reserve;
    if (limits.soft == 0 || needed <= limits.soft) {
        return std::nullopt;
    }
    return fmt::format(
        "file descriptor limit too low for --max-connections: nofile_soft={} nofile_hard={} "
        "max_connections={} reserve={} needed={}; raise the hard limit (LimitNOFILE= in the "
        "systemd unit, ulimit -Hn) or lower --max-connections to {}",
        limits.soft, limits.hard, max_connections, fd_reserve, needed,
        limits.soft > fd_reserve ? limits.soft - fd_reserve : 0);
}

}  // namespace rpcnetd::common
