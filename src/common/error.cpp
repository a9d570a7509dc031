#include "common/error.hpp"

namespace rpcnetd {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design (categories are
// static singletons); the warning does not apply.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "rpcnetd"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::ok:
            return "ok";
        case errc::frame_too_large:
            return "frame exceeds the maximum frame size";
        case errc::malformed_frame:
            return "malformed frame";
        case errc::protocol_version:
            return "unsupported protocol version";
        case errc::unknown_method:
            return "unknown method";
        case errc::stream_limit:
            return "too many concurrent streams";
        case errc::connection_limit:
            return "too many connections";
        case errc::handshake_timeout:
            return "handshake timed out";
        case errc::idle_timeout:
            return "connection idle timeout";
        case errc::cancelled:
            return "cancelled";
        case errc::worker_failed:
            return "worker failed";
        case errc::no_workers:
            return "no workers available";
        case errc::malformed_packet:
            return "malformed packet";
        case errc::authentication_failed:
            return "authentication failed";
        case errc::not_implemented:
            return "unsupported operation";
        case errc::unavailable:
            return "unavailable";
        case errc::deadline_exceeded:
            return "deadline exceeded";
        case errc::internal:
            return "internal error";
        case errc::ping_abuse:
            return "too many pings";
        case errc::queue_overflow:
            return "outbound queue limit exceeded";
        case errc::permission_denied:
            return "permission denied";
        }
        return "unknown rpcnetd error";
    }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& rpcnetd_category() noexcept {
    static const category instance;
    return instance;
}

}  // namespace rpcnetd
