#pragma once
// Server side of one connection: opens a stream per CALL, runs the method's handler inline on the
// I/O thread, sends DATA/END, honours CANCEL, refuses calls over the per-connection stream limit
// (RESOURCE_EXHAUSTED), unknown methods (UNIMPLEMENTED) and calls while not accepting or draining
// (UNAVAILABLE). Internal to rpc::server.
#include "rpc/call_context.hpp"
#include "rpc/connection.hpp"
#include "rpc/handler.hpp"
#include "rpc/server_counters.hpp"

#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace rpcnetd::rpc {

class server_session;

namespace detail {

// State shared by a server and its sessions (sessions may briefly outlive the server object).
struct server_core {
    server_core(net::asio::any_io_executor ex, limits l, std::string name,
                std::shared_ptr<boost::asio::ssl::context> ctx);

    std::unordered_map<std::string, unary_handler> unary;
    std::unordered_map<std::string, stream_handler> streaming;
    // Method ("Worker.Generate") or service wildcard ("Keys.*") -> roles allowed to call it.
    // Enforced only with require_client_cert; methods without an entry: any authenticated peer.
    std::unordered_map<std::string, std::vector<std::string>> roles;
    bool require_client_cert = false;
    server_counters counters;
    limits lim;
    std::string node_name;
    std::shared_ptr<boost::asio::ssl::context> ssl;
    bool accepting = true;  // false: new calls get UNAVAILABLE
    bool draining = false;  // stop() in progress: GOAWAY sent on every connection
    std::size_t active_streams = 0;
    std::uint64_t sessions_opened = 0;  // numbers each session's "conn:<n>" identity
    std::uint64_t held_request_bytes =
        0;  // all sessions' running calls (limits::max_request_bytes)
    std::unordered_set<server_session*> sessions;
    net::asio::steady_timer changed;  // stop() waits here; cancelled when a session/stream ends
    bool stop_waiting = false;

    // True when a peer with `role` may call `method` (see `roles`).
    bool role_allowed(const std::string& method, const std::string& role) const;

    void notify() {
        if (stop_waiting) {
            changed.cancel();
        }
    }
};

}  // namespace detail

class server_session final : public connection {
public:
    // `ssl`: the context `stream` was made from, kept alive as long as this connection (a TLS
    // reload swaps the server's context; running connections keep theirs).
    server_session(tls_stream stream, std::shared_ptr<detail::server_core> core,
                   std::shared_ptr<boost::asio::ssl::context> ssl);
    ~server_session() override;

    // Sends GOAWAY; the connection closes once its running streams have ended.
    void drain();
    // Cancels every running handler (server stop after the drain timeout).
    void cancel_all();
    std::size_t stream_count() const noexcept { return streams_.size(); }

protected:
    void on_stream_frame(frame f) override;
    bool on_frame_header(const frame_header& h) override;
    void on_closed(net::error_code reason) override;
    void on_ready() override;
    void on_limit(errc which) override;

private:
    struct call_done;
    struct route {
        const unary_handler* unary = nullptr;
        const stream_handler* stream = nullptr;
    };
    void on_call(frame& f);
    bool refused_at_capacity(std::uint32_t id);
    std::optional<route> route_call(std::uint32_t id, const std::string& method);
    void release_held(std::uint64_t bytes) noexcept;
    void refuse(std::uint32_t id, status st);
    void respond(call_context& ctx, const status& st, const std::string* response);
    void on_call_done(std::uint32_t id, const std::exception_ptr& e, bool slot_bound);
    net::awaitable<void> run_unary(std::shared_ptr<server_session> self, call_context* ctx,
                                   const unary_handler* h, std::string request);
    net::awaitable<void> run_stream(std::shared_ptr<server_session> self, call_context* ctx,
                                    const stream_handler* h, std::string request);
    std::shared_ptr<server_session> shared_self() {
        return std::static_pointer_cast<server_session>(shared_from_this());
    }

    std::shared_ptr<detail::server_core> core_;
    std::shared_ptr<boost::asio::ssl::context> ssl_;
    std::string peer_role_;
    std::string peer_identity_;             // see call_context::peer_identity
    std::uint64_t held_request_bytes_ = 0;  // this connection's running calls
    // The memory budget is charged when a CALL header arrives, before its body is buffered: the
    // frame's length is reserved while the body is read (reading_call_bytes_) and then held by
    // the call. A header over the budget has its body dropped unread (skip_reason_ says which
    // budget), and the call is refused when the frame ends.
    enum class budget_refusal : std::uint8_t { none, connection, server };
    std::uint64_t reading_call_bytes_ = 0;
    budget_refusal skip_reason_ = budget_refusal::none;
    void refuse_over_budget(std::uint32_t id, budget_refusal over, std::uint32_t length);
    std::unordered_map<std::uint32_t, std::unique_ptr<call_context>> streams_;
    std::uint32_t last_stream_id_ = 0;
    bool goaway_sent_ = false;
    std::string scratch_;
};

}  // namespace rpcnetd::rpc
