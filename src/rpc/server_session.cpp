#include "rpc/server_session.hpp"

#include "common/error.hpp"
#include "common/log.hpp"
#include "rpc/stream_writer.hpp"
#include "rpc/tls_context.hpp"

#include <algorithm>
#include <boost/asio/ssl/error.hpp>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>

namespace rpcnetd::rpc {
namespace {

namespace asio = net::asio;

spdlog::logger& log() {
    static spdlog::logger& l = common::logger("rpc");
    return l;
}

connection_options session_options(const detail::server_core& core) {
    return {core.lim, core.node_name, true};
}

}  // namespace

namespace detail {

server_core::server_core(net::asio::any_io_executor ex, limits l, std::string name,
                         std::shared_ptr<boost::asio::ssl::context> ctx)
    : lim(l), node_name(std::move(name)), ssl(std::move(ctx)),
      changed(std::move(ex), common::clock::time_point::max()) {}

bool server_core::role_allowed(const std::string& method, const std::string& role) const {
    auto it = roles.find(method);
    if (it == roles.end()) {
        const auto dot = method.find('.');
        if (dot != std::string::npos) {
            it = roles.find(method.substr(0, dot) + ".*");
        }
    }
    if (it == roles.end()) {
        return true;  // any authenticated peer
    }
    return std::find(it->second.begin(), it->second.end(), role) != it->second.end();
}

}  // namespace detail

// Completion of a handler coroutine: a plain (non-coroutine) callable holding the session.
struct server_session::call_done {
    std::shared_ptr<server_session> session;
    std::uint32_t id;
    bool slot_bound;
    void operator()(const std::exception_ptr& e) const { session->on_call_done(id, e, slot_bound); }
};

server_session::server_session(tls_stream stream, std::shared_ptr<detail::server_core> core,
                               std::shared_ptr<boost::asio::ssl::context> ssl)
    : connection(std::move(stream), session_options(*core)), core_(std::move(core)),
      ssl_(std::move(ssl)), peer_identity_("conn:" + std::to_string(++core_->sessions_opened)) {
    core_->sessions.insert(this);
    ++core_->counters.connections_accepted;
}

void server_session::on_ready() {
    if (core_->require_client_cert) {
        peer_role_ = tls_context::peer_role(stream());
        if (auto subject = tls_context::peer_subject(stream()); !subject.empty()) {
            peer_identity_ = "cert:" + subject;
        }
        log().debug("peer authenticated peer={} role={}", peer(), peer_role_);
    }
}

void server_session::on_limit(errc which) {
    auto& c = core_->counters;
    switch (which) {
    case errc::handshake_timeout:
        ++c.handshake_timeouts;
        break;
    case errc::idle_timeout:
        ++c.idle_timeouts;
        break;
    case errc::frame_too_large:
        ++c.frames_too_large;
        break;
    case errc::ping_abuse:
        ++c.ping_abuse;
        break;
    case errc::queue_overflow:
        ++c.queue_overflows;
        break;
    default:
        break;
    }
}

server_session::~server_session() {
    release_held(std::exchange(reading_call_bytes_, 0));
    core_->sessions.erase(this);
    core_->notify();
}

void server_session::on_stream_frame(frame f) {
    switch (f.header.type) {
    case frame_type::call:
        on_call(f);
        return;
    case frame_type::cancel:
        if (auto it = streams_.find(f.header.stream_id); it != streams_.end()) {
            it->second->cancel(true);
        }
        return;
    default:
        // DATA/END from a client are not part of the protocol (server streaming only); a late
        // frame for a finished stream is harmless, so they are ignored rather than fatal.
        log().debug("ignored frame peer={} type={} stream={}", peer(),
                    static_cast<int>(f.header.type), f.header.stream_id);
        return;
    }
}

bool server_session::on_frame_header(const frame_header& h) {
    if (h.type != frame_type::call) {
        return false;  // DATA/END bodies from a client are ignored (on_stream_frame): never
                       // buffered
    }
    const auto& lim = core_->lim;
    if (held_request_bytes_ + h.length > lim.max_request_bytes_per_connection) {
        skip_reason_ = budget_refusal::connection;
        return false;
    }
    if (core_->held_request_bytes + h.length > lim.max_request_bytes) {
        skip_reason_ = budget_refusal::server;
        return false;
    }
    held_request_bytes_ += h.length;
    core_->held_request_bytes += h.length;
    reading_call_bytes_ = h.length;
    return true;
}

void server_session::release_held(std::uint64_t bytes) noexcept {
    held_request_bytes_ -= bytes;
    core_->held_request_bytes -= bytes;
}

void server_session::refuse(std::uint32_t id, status st) {
    v1::End end;
    end.set_code(static_cast<std::uint32_t>(st.code));
    end.set_message(st.message);
    end.set_detail(st.detail);
    end.SerializeToString(&scratch_);
    send(frame_type::end, id, scratch_);
}

// A call whose header was over the memory budget: its body was dropped unread.
void server_session::refuse_over_budget(std::uint32_t id, budget_refusal over,
                                        std::uint32_t length) {
    ++core_->counters.request_budget_refusals;
    const auto& lim = core_->lim;
    const bool mine = over == budget_refusal::connection;
    log().warn("request budget refused peer={} stream={} bytes={} held={} {}", peer(), id, length,
               mine ? held_request_bytes_ : core_->held_request_bytes,
               mine ? "connection" : "server");
    refuse(id, {v1::RESOURCE_EXHAUSTED,
                mine ? "request memory budget of " +
                           std::to_string(lim.max_request_bytes_per_connection) +
                           " bytes per connection reached"
                     : "server request memory budget of " + std::to_string(lim.max_request_bytes) +
                           " bytes reached"});
}

// Refuses the call (true) when the server is shutting down, not accepting, or this connection
// runs its stream limit.
bool server_session::refused_at_capacity(std::uint32_t id) {
    if (goaway_sent_ || core_->draining) {
        refuse(id, {v1::UNAVAILABLE, "server is shutting down"});
        return true;
    }
    if (!core_->accepting) {
        refuse(id, {v1::UNAVAILABLE, "server is not accepting calls"});
        return true;
    }
    if (streams_.size() >= core_->lim.max_streams_per_connection) {
        ++core_->counters.streams_refused;
        refuse(id, {v1::RESOURCE_EXHAUSTED,
                    "stream limit of " + std::to_string(core_->lim.max_streams_per_connection) +
                        " per connection reached"});
        return true;
    }
    return false;
}

// The handler of `method`, or nothing (the call refused) when the method is unknown or the
// peer's certificate role may not call it.
std::optional<server_session::route> server_session::route_call(std::uint32_t id,
                                                                const std::string& method) {
    route r;
    if (auto it = core_->unary.find(method); it != core_->unary.end()) {
        r.unary = &it->second;
    } else if (auto st = core_->streaming.find(method); st != core_->streaming.end()) {
        r.stream = &st->second;
    } else {
        refuse(id, {v1::UNIMPLEMENTED, "unknown method " + method});
        return std::nullopt;
    }
    if (core_->require_client_cert && !core_->role_allowed(method, peer_role_)) {
        ++core_->counters.permission_denied;
        log().warn("permission denied peer={} role={} method={}", peer(),
                   peer_role_.empty() ? "(none)" : peer_role_, method);
        refuse(id, {v1::PERMISSION_DENIED,
                    "certificate role '" + peer_role_ + "' may not call " + method});
        return std::nullopt;
    }
    return r;
}

void server_session::on_call(frame& f) {
    const std::uint32_t id = f.header.stream_id;
    // The frame's bytes reserved when its header arrived (on_frame_header): the call takes them
    // over once it runs; every refusal below gives them back.
    struct reservation {
        server_session& s;
        std::uint64_t bytes;
        ~reservation() { s.release_held(bytes); }
    } reserved{*this, std::exchange(reading_call_bytes_, 0)};
    const budget_refusal over = std::exchange(skip_reason_, budget_refusal::none);
    if (id <= last_stream_id_) {
        log().warn("protocol error peer={} stream id {} reused", peer(), id);
        close(errc::malformed_frame);
        return;
    }
    last_stream_id_ = id;
    if (f.skipped) {
        refuse_over_budget(id, over, f.header.length);
        return;
    }
    v1::Call call;
    if (!call.ParseFromString(f.body)) {
        refuse(id, {v1::INVALID_ARGUMENT, "malformed Call"});
        return;
    }
    // The request now lives in `call`: free the frame body at once, so a call never holds its
    // bytes twice (memory budget, limits::max_request_bytes).
    std::string().swap(f.body);
    if (refused_at_capacity(id)) {
        return;
    }
    const std::optional<route> handler = route_call(id, call.method());
    if (!handler) {
        return;
    }
    const unary_handler* uh = handler->unary;
    const stream_handler* sh = handler->stream;
    std::optional<common::time_point> deadline;
    if (call.deadline_ms() > 0) {
        deadline = common::clock::now() + std::chrono::milliseconds(call.deadline_ms());
    }
    auto owned = std::make_unique<call_context>(get_executor(), std::move(*call.mutable_method()),
                                                id, peer(), deadline);
    owned->set_peer_role(peer_role_);
    owned->set_peer_identity(peer_identity_);
    // Memory budget: the request stays alive until the handler finishes (on_call_done).
    owned->set_held_bytes(std::exchange(reserved.bytes, 0));
    call_context* ctx = owned.get();
    streams_.emplace(id, std::move(owned));
    ++core_->active_streams;
    std::string request = std::move(*call.mutable_request());
    if (uh != nullptr) {
        // Unary handlers are short: they see cancellation through ctx, no slot is bound.
        asio::co_spawn(get_executor(), run_unary(shared_self(), ctx, uh, std::move(request)),
                       call_done{shared_self(), id, false});
    } else {
        asio::co_spawn(
            get_executor(), run_stream(shared_self(), ctx, sh, std::move(request)),
            asio::bind_cancellation_slot(ctx->slot(), call_done{shared_self(), id, true}));
    }
}

net::awaitable<void> server_session::run_unary(std::shared_ptr<server_session> self,
                                               call_context* ctx, const unary_handler* h,
                                               std::string request) {
    status st;
    std::string response;
    try {
        auto r = co_await (*h)(*ctx, std::move(request));
        st = std::move(r.first);
        response = std::move(r.second);
    } catch (const std::exception& e) {
        st = ctx->cancelled() ? status{v1::CANCELLED, "cancelled"} : status{v1::INTERNAL, e.what()};
    }
    // Keep the outbound queue bounded: a client that sends calls but does not read answers
    // ends up with calls waiting here, and then with RESOURCE_EXHAUSTED.
    while (!has_space() && is_open() && !ctx->cancelled()) {
        co_await wait_for_space();
    }
    respond(*ctx, st, &response);
    (void)self;
}

net::awaitable<void> server_session::run_stream(std::shared_ptr<server_session> self,
                                                call_context* ctx, const stream_handler* h,
                                                std::string request) {
    status st;
    try {
        stream_writer w(*this, *ctx);
        st = co_await (*h)(*ctx, std::move(request), w);
    } catch (const std::exception& e) {
        st = ctx->cancelled() ? status{v1::CANCELLED, "cancelled"} : status{v1::INTERNAL, e.what()};
    }
    respond(*ctx, st, nullptr);
    (void)self;
}

void server_session::respond(call_context& ctx, const status& st, const std::string* response) {
    if (ctx.cancelled_by_peer() || !is_open()) {
        return;  // the caller is gone: nothing to say
    }
    if (ctx.cancelled() && st.ok()) {
        refuse(ctx.stream_id(), {v1::UNAVAILABLE, "server is shutting down"});
        return;
    }
    if (st.ok() && response != nullptr) {
        send(frame_type::data, ctx.stream_id(), *response);
    }
    if (st.ok()) {
        send(frame_type::end, ctx.stream_id(), {});  // End{code=OK} encodes to zero bytes
    } else {
        refuse(ctx.stream_id(), st);
    }
}

void server_session::on_call_done(std::uint32_t id, const std::exception_ptr& e, bool slot_bound) {
    if (e) {
        log().error("handler failed peer={} stream={}", peer(), id);
    }
    auto node = streams_.extract(id);
    --core_->active_streams;
    if (!node.empty()) {
        release_held(node.mapped()->held_bytes());
    }
    if (slot_bound && !node.empty()) {
        // The finished coroutine's cancellation state lives in the context's signal; free it on
        // a later turn, after co_spawn's machinery has let go of it.
        asio::post(get_executor(), [owned = std::move(node.mapped())]() mutable { owned.reset(); });
    }
    if (streams_.empty() && goaway_sent_) {
        close_after_flush();
    }
    if (core_->draining) {
        core_->notify();
    }
}

void server_session::drain() {
    if (goaway_sent_ || !is_open()) {
        return;
    }
    goaway_sent_ = true;
    v1::GoAway g;
    g.set_last_stream_id(last_stream_id_);
    g.set_reason("server shutting down");
    send(frame_type::goaway, 0, g.SerializeAsString());
    if (streams_.empty()) {
        close_after_flush();
    }
}

void server_session::cancel_all() {
    for (auto& [id, ctx] : streams_) {
        ctx->cancel(false);
    }
}

void server_session::on_closed(net::error_code reason) {
    if (!tls_established() && reason.category() == boost::asio::error::get_ssl_category()) {
        // Refused during the TLS handshake: TLS 1.2 or plain TCP, or a client certificate that
        // is missing, from another CA, expired or not yet valid.
        ++core_->counters.tls_handshake_failures;
        const std::string why = tls_context::verify_failure(stream());
        log().info("tls handshake refused peer={} reason={}{}", peer(), reason.message(),
                   why.empty() ? std::string() : " certificate=" + why);
    }
    release_held(std::exchange(reading_call_bytes_, 0));  // a CALL body cut off by the close
    cancel_all();
    core_->notify();
}

}  // namespace rpcnetd::rpc
