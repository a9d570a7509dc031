#include "rpc/client_session.hpp"

#include "common/error.hpp"
#include "common/log.hpp"

#include <vector>

namespace rpcnetd::rpc::detail {
namespace {

spdlog::logger& log() {
    static spdlog::logger& l = common::logger("rpc");
    return l;
}

std::string transport_message(const net::error_code& ec) {
    if (!ec) {
        return "connection closed";
    }
    return "connection lost: " + ec.message();
}

}  // namespace

call_state::call_state(net::asio::any_io_executor ex, std::uint32_t stream_id, bool unary_call)
    : id(stream_id), unary(unary_call), wake(std::move(ex)) {}

client_session::client_session(tls_stream stream, connection_options opts,
                               std::shared_ptr<boost::asio::ssl::context> ssl)
    : connection(std::move(stream), std::move(opts)), ssl_(std::move(ssl)) {}

std::shared_ptr<call_state> client_session::open(std::string_view method, std::string request,
                                                 common::duration timeout, bool unary_call) {
    if (!is_open() || goaway_ || next_id_ == 0) {
        auto st = std::make_shared<call_state>(get_executor(), 0, unary_call);
        st->end =
            status{v1::UNAVAILABLE, goaway_ ? goaway_message() : transport_message(close_reason())};
        st->transport_error = true;
        return st;
    }
    const std::uint32_t id = next_id_++;
    auto st = std::make_shared<call_state>(get_executor(), id, unary_call);
    streams_.emplace(id, st);
    call_msg_.set_method(method.data(), method.size());
    call_msg_.set_request(std::move(request));
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
    call_msg_.set_deadline_ms(ms > 0 ? static_cast<std::uint64_t>(ms) : 0);
    call_msg_.SerializeToString(&scratch_);
    send(frame_type::call, id, scratch_);
    return st;
}

void client_session::abandon(call_state& st) {
    if (!st.end && st.id != 0 && streams_.erase(st.id) > 0) {
        send(frame_type::cancel, st.id, {});
        st.end = status{v1::CANCELLED, "cancelled"};
        st.transport_error = true;  // ended locally, not by a server status
        if (st.waiting) {
            st.wake.cancel();  // a next() in progress returns the cancellation
        }
    }
    std::size_t buffered = 0;
    for (const auto& m : st.inbox) {
        buffered += m.size();
    }
    st.inbox.clear();
    consumed(buffered);
    maybe_close_drained();
}

void client_session::finish(call_state& st, status s, bool transport) {
    st.end = std::move(s);
    st.transport_error = transport;
    if (st.waiting) {
        st.wake.cancel();
    }
}

void client_session::on_stream_frame(frame f) {
    auto it = streams_.find(f.header.stream_id);
    if (it == streams_.end()) {
        return;  // a stream we abandoned (or never had): its late frames are ignored
    }
    call_state& st = *it->second;
    switch (f.header.type) {
    case frame_type::data:
        inbound_add(f.body.size());
        st.inbox.push_back(std::move(f.body));
        if (st.waiting && !st.unary) {
            st.wake.cancel();
        }
        return;
    case frame_type::end: {
        v1::End end;
        status s;
        if (!end.ParseFromString(f.body)) {
            s = {v1::INTERNAL, "malformed End frame"};
        } else {
            s = {static_cast<status_code>(end.code()), std::move(*end.mutable_message())};
            s.detail = std::move(*end.mutable_detail());
        }
        auto keep = it->second;
        streams_.erase(it);
        finish(*keep, std::move(s), false);
        maybe_close_drained();
        return;
    }
    case frame_type::cancel: {
        auto keep = it->second;
        streams_.erase(it);
        finish(*keep, {v1::CANCELLED, "cancelled by server"}, false);
        maybe_close_drained();
        return;
    }
    default:
        log().warn("protocol error peer={} unexpected frame type={} from server", peer(),
                   static_cast<int>(f.header.type));
        close(errc::malformed_frame);
        return;
    }
}

void client_session::on_goaway(const v1::GoAway& g) {
    goaway_ = true;
    goaway_last_ = g.last_stream_id();
    goaway_reason_ = g.reason();
    log().debug("goaway peer={} last_stream={} reason={}", peer(), goaway_last_, g.reason());
    std::vector<std::shared_ptr<call_state>> refused;
    for (auto& [id, st] : streams_) {
        if (id > goaway_last_) {
            refused.push_back(st);
        }
    }
    for (auto& st : refused) {
        streams_.erase(st->id);
        finish(*st, {v1::UNAVAILABLE, goaway_message()}, true);
    }
    maybe_close_drained();
}

std::string client_session::goaway_message() const {
    // A limit the server enforced names itself ("frame too large", "too many pings", ...).
    if (goaway_reason_.empty() || goaway_reason_ == "server shutting down") {
        return "server is shutting down (goaway)";
    }
    return "server closed the connection (goaway: " + goaway_reason_ + ")";
}

void client_session::maybe_close_drained() {
    if (goaway_ && streams_.empty()) {
        close_after_flush();
    }
}

void client_session::on_closed(net::error_code reason) {
    auto all = std::move(streams_);
    streams_.clear();
    for (auto& [id, st] : all) {
        finish(*st, {v1::UNAVAILABLE, transport_message(reason)}, true);
    }
}

}  // namespace rpcnetd::rpc::detail
