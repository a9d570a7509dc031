#include "membership/swim_service.hpp"

#include <algorithm>
#include <limits>

#include "common/error.hpp"
#include "common/log.hpp"

#include <chrono>
#include <stdexcept>
#include <utility>

#include <linux/sock_diag.h>
#include <sys/socket.h>

namespace rpcnetd::membership {

namespace asio = net::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr std::size_t push_pull_queue_limit = 8;
constexpr auto push_pull_deadline = std::chrono::seconds{5};

common::endpoint to_common(const net::udp::endpoint& e) {
    auto addr = e.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
        addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    }
    return common::endpoint{addr.to_string(), e.port()};
}

std::uint32_t default_generation() {
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    return static_cast<std::uint32_t>(secs);
}

}  // namespace

swim_service::swim_service(asio::any_io_executor ex, swim_service_options options,
                           push_pull_transport& push_pull, event_handler on_event)
    : ex_(ex), options_(std::move(options)), on_event_(std::move(on_event)), push_pull_(push_pull),
      rng_(common::random_seed()), socket_(ex), tick_timer_(ex), wake_(ex), done_(ex),
      damper_(options_.config.probe_interval), deliver_(std::exchange(on_event_, {})) {
    // The application's handler sees the core's events through the damper; suspect events it
    // holds are released by release_held_events() when their hold ends.
    if (deliver_) {
        on_event_ = [this](const member_event& e) {
            for (const auto& d : damper_.offer({e}, common::clock::now())) {
                deliver_(d);
            }
        };
    }
    if (options_.envelope) {
        // The stamp rides inside the envelope, so it takes room from the SWIM payload too.
        options_.config.envelope_reserve =
            static_cast<std::uint32_t>(gossip_envelope::datagram_overhead(options_.name));
        // Only datagrams that open reach the core: their sources are members holding the key.
        options_.config.authenticated = true;
        receiver_.emplace(*options_.envelope, envelope_kind::datagram);
    }
}

void swim_service::release_held_events() {
    for (const auto& e : damper_.due(common::clock::now())) {
        if (deliver_) {
            deliver_(e);
        }
    }
}

swim_service::~swim_service() {
    // stop() must have been awaited: the coroutine borrows this object (always checked).
    if (running_) {
        common::logger("swim").critical("swim_service destroyed while running; await stop()");
        std::abort();
    }
}

std::optional<net::udp::endpoint> swim_service::resolve(const common::endpoint& e) const {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(e.host == "localhost" ? "127.0.0.1" : e.host, ec);
    if (ec) {
        // A host name: only seeds can be one (--join; member addresses are the IPs members
        // bind). Joining through a named seed works by push-pull, whose TLS client resolves it;
        // UDP pings to the name are dropped (counted as send errors) until then.
        return std::nullopt;
    }
    return net::udp::endpoint{addr, e.port};
}

void swim_service::start() {
    if (state_) {
        throw std::logic_error("swim_service::start called twice");
    }
    const auto bind_to = resolve(options_.addr);
    if (!bind_to) {
        throw runtime_failure("gossip address must be an IP literal or localhost: " +
                              options_.addr.to_string());
    }
    boost::system::error_code ec;
    socket_.open(bind_to->protocol(), ec);
    if (!ec) {
        socket_.bind(*bind_to, ec);
    }
    if (ec) {
        throw runtime_failure("cannot bind gossip udp " + options_.addr.to_string() + ": " +
                              ec.message());
    }
    socket_fd_ = socket_.native_handle();
    size_receive_buffer();
    socket_.non_blocking(true, ec);
    self_addr_ = options_.addr;
    self_addr_.port = socket_.local_endpoint().port();
    if (!bind_to->address().is_unspecified()) {
        // Advertise the address peers will see as our datagrams' source ("localhost" ->
        // "127.0.0.1"), so they can match our datagrams to our member entry.
        self_addr_.host = bind_to->address().to_string();
    }
    check_self_fits();
    const auto generation = options_.generation != 0 ? options_.generation : default_generation();
    replay_generation_ =
        options_.replay_generation != 0
            ? options_.replay_generation
            : static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
    state_ = std::make_unique<swim_state>(options_.config, options_.name, self_addr_, options_.tags,
                                          rng_, common::clock::now(), generation);
    running_ = true;
    done_.expires_at(common::time_point::max());
    asio::co_spawn(ex_, run(), [this](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                common::logger("swim").error("swim service ended: {}", ex.what());
            }
        }
        running_ = false;
        done_.cancel();
    });
    common::logger("swim").info("gossip started node={} addr={} inc={}", options_.name,
                                self_addr_.to_string(), state_->self().incarnation);
    if (!options_.seeds.empty()) {
        dispatch(state_->join(options_.seeds, common::clock::now()));
    }
}

net::awaitable<void> swim_service::run() {
    co_await (reader() && ticker() && push_puller());
}

net::awaitable<void> swim_service::reader() {
    std::vector<std::uint8_t> buf(65536);
    net::udp::endpoint sender;
    while (!stopping_) {
        auto [ec, n] =
            co_await socket_.async_receive_from(asio::buffer(buf), sender, net::use_tuple);
        if (ec == asio::error::operation_aborted || stopping_) {
            co_return;
        }
        if (ec) {
            // ICMP port unreachable from an earlier send shows up here on Linux; not fatal.
            common::logger("swim").trace("udp receive error={}", ec.message());
            continue;
        }
        if (paused_) {
            continue;
        }
        std::span<const std::uint8_t> data(buf.data(), n);
        std::optional<std::vector<std::uint8_t>> opened;
        if (receiver_) {
            // Nothing reaches the core (and so nothing is answered) before this passes.
            opened = authenticate(data, sender);
            if (!opened) {
                continue;
            }
            data = *opened;
        }
        dispatch(state_->on_datagram(to_common(sender), data, common::clock::now()));
        flush_events();
    }
}

std::optional<std::vector<std::uint8_t>>
swim_service::authenticate(std::span<const std::uint8_t> data, const net::udp::endpoint& sender) {
    auto outcome = receiver_->open(data, self_addr_);
    switch (outcome.verdict) {
    case open_verdict::accepted:
        return std::move(outcome.message->payload);
    case open_verdict::unauthenticated:
    case open_verdict::stale:
        state_->note_rejected();
        break;
    case open_verdict::wrong_receiver:
        state_->note_wrong_receiver();
        break;
    case open_verdict::replayed:
        state_->note_replayed();
        break;
    }
    // A flood of junk lands here thousands of times a second: format the sender only when the
    // line will be written.
    if (auto& log = common::logger("swim"); log.should_log(spdlog::level::debug)) {
        log.debug("gossip datagram dropped from={} why={}", to_common(sender).to_string(),
                  to_string(outcome.verdict));
    }
    return std::nullopt;
}

net::awaitable<void> swim_service::ticker() {
    // Sleeps until the core's next deadline instead of polling at tick_resolution(): an idle
    // member then wakes only for its probes and (non-empty) gossip rounds. dispatch() cancels
    // the wait when a datagram or an API call created an earlier deadline; the loop re-arms.
    const auto longest = std::chrono::seconds(1);
    while (!stopping_) {
        const auto now = common::clock::now();
        const auto next = std::min(state_->next_deadline(),
                                   damper_.next_due().value_or(common::time_point::max()));
        const auto due = std::clamp(next, now, now + longest);
        tick_timer_.expires_at(due);
        auto [ec] = co_await tick_timer_.async_wait(net::use_tuple);
        if (stopping_) {
            co_return;
        }
        if (ec == asio::error::operation_aborted) {
            continue;  // rescheduled
        }
        if (paused_) {
            // Hung on purpose: do nothing, but look again a little later.
            tick_timer_.expires_after(state_->tick_resolution());
            co_await tick_timer_.async_wait(net::use_tuple);
            continue;
        }
        dispatch(state_->on_tick(common::clock::now()));
        flush_events();
        release_held_events();
    }
}

net::awaitable<void> swim_service::push_puller() {
    while (!stopping_) {
        if (push_pull_queue_.empty()) {
            wake_.expires_at(common::time_point::max());
            co_await wake_.async_wait(net::use_tuple);
            continue;
        }
        auto [to, join] = push_pull_queue_.front();
        push_pull_queue_.pop_front();
        if (paused_) {
            continue;
        }
        asio::steady_timer deadline(ex_, push_pull_deadline);
        push_pull_deadline_ = &deadline;  // stop() cancels it, which cancels the exchange
        auto result = co_await (push_pull_.exchange(to, state_->local_state(), join) ||
                                deadline.async_wait(net::use_tuple));
        push_pull_deadline_ = nullptr;
        if (stopping_) {
            co_return;
        }
        if (result.index() == 1) {
            common::logger("swim").debug("push-pull timeout peer={}", to.to_string());
            continue;
        }
        auto& remote = std::get<0>(result);
        if (!remote) {
            common::logger("swim").debug("push-pull failed peer={} join={}", to.to_string(), join);
            continue;
        }
        if (!paused_) {
            if (join) {
                state_->merge_join_state(*remote, common::clock::now());
            } else {
                state_->merge_remote_state(*remote, common::clock::now());
            }
            flush_events();
        }
    }
}

void swim_service::dispatch(std::vector<outbound> out) {
    if (state_ && !stopping_ && state_->next_deadline() < tick_timer_.expiry()) {
        tick_timer_.cancel();  // the ticker re-arms for the earlier deadline
    }
    for (auto& o : out) {
        if (o.type == outbound::kind::push_pull) {
            if (push_pull_queue_.size() < push_pull_queue_limit) {
                push_pull_queue_.emplace_back(o.to, o.join);
                wake_.cancel();
            }
            continue;
        }
        send_datagram(o.to, o.payload);
    }
}

void swim_service::send_datagram(const common::endpoint& to,
                                 std::span<const std::uint8_t> payload) {
    if (paused_ || stopping_ || !socket_.is_open()) {
        return;
    }
    const auto ep = resolve(to);
    if (!ep) {
        ++send_errors_;
        return;
    }
    std::vector<std::uint8_t> sealed;
    if (options_.envelope) {
        // Sealed for this receiver: the address we send to, as it will see itself bound.
        const gossip_stamp stamp{options_.name, replay_generation_, next_sequence_++,
                                 receiver_of(to_common(*ep))};
        sealed = options_.envelope->seal(envelope_kind::datagram, stamp, payload);
        payload = sealed;
    }
    // Non-blocking send: a full socket buffer drops the datagram (UDP may lose it anyway)
    // instead of blocking the io thread or queueing without bound.
    boost::system::error_code ec;
    socket_.send_to(asio::buffer(payload.data(), payload.size()), *ep, 0, ec);
    if (ec) {
        ++send_errors_;
        common::logger("swim").trace("udp send to={} error={}", to.to_string(), ec.message());
    }
}

void swim_service::flush_events() {
    for (const auto rtt : state_->drain_probe_rtts()) {
        if (on_probe_rtt_) {
            on_probe_rtt_(rtt);
        }
    }
    for (auto& e : state_->drain_events()) {
        if (e.kind == member_event_kind::conflict) {
            report_conflict(e);
        } else {
            common::logger("swim").info(
                "member {} node={} addr={} state={} inc={}", to_string(e.kind), e.snapshot.name,
                e.snapshot.addr.to_string(), to_string(e.snapshot.status), e.snapshot.incarnation);
        }
        if (on_event_) {
            on_event_(e);
        }
    }
}

void swim_service::report_conflict(const member_event& e) {
    auto& log = common::logger("swim");
    if (e.snapshot.name == options_.name) {
        log.error("name conflict node={} claimed by addr={} while we run at addr={}{}",
                  e.snapshot.name, e.claimant.to_string(), e.snapshot.addr.to_string(),
                  e.newcomer ? " (learned at join: checking whether it still answers)" : "");
        return;
    }
    log.warn("name conflict node={} held by addr={} claimed by addr={}: kept the holder, "
             "probing it",
             e.snapshot.name, e.snapshot.addr.to_string(), e.claimant.to_string());
    // A dead holder turns suspect within a period, and the claimant's next alive takes over.
    dispatch(state_->probe_now(e.snapshot.name, common::clock::now()));
}

net::awaitable<void> swim_service::leave(common::duration drain) {
    if (!state_ || !running_) {
        co_return;
    }
    dispatch(state_->leave(common::clock::now()));
    const auto deadline = common::clock::now() + drain;
    asio::steady_timer t(ex_);
    while (running_ && state_->broadcasts_pending() && common::clock::now() < deadline) {
        t.expires_after(state_->tick_resolution());
        co_await t.async_wait(net::use_tuple);
    }
    common::logger("swim").info("left cluster node={}", options_.name);
}

net::awaitable<void> swim_service::stop() {
    stopping_ = true;
    boost::system::error_code ec;
    socket_.close(ec);
    tick_timer_.cancel();
    wake_.cancel();
    if (push_pull_deadline_ != nullptr) {
        push_pull_deadline_->cancel();
    }
    while (running_) {
        co_await done_.async_wait(net::use_tuple);
    }
}

std::vector<member> swim_service::members() const {
    return state_ ? state_->members() : std::vector<member>{};
}

std::optional<member> swim_service::find(const std::string& name) const {
    return state_ ? state_->find(name) : std::nullopt;
}

void swim_service::set_tags(tag_map tags) {
    options_.tags = tags;
    if (state_) {
        dispatch(state_->set_tags(std::move(tags), common::clock::now()));
    }
}

void swim_service::probe_now(const std::string& name) {
    if (state_ && !paused_) {
        dispatch(state_->probe_now(name, common::clock::now()));
    }
}

void swim_service::set_paused(bool paused) {
    paused_ = paused;
}

void swim_service::check_self_fits() const {
    // Room for the tags added at run time (active_streams=N).
    constexpr std::size_t runtime_tag_room = 64;
    const wire::alive_msg self{options_.name, socket_.is_open() ? self_addr_ : options_.addr,
                               std::numeric_limits<std::uint64_t>::max(), options_.tags};
    const std::size_t need =
        wire::header_size(options_.name) + wire::encode_message(self).size() + runtime_tag_room;
    const std::size_t room = options_.config.max_datagram - options_.config.envelope_reserve;
    if (need > room) {
        throw usage_error("the member name and tags need " + std::to_string(need) +
                          " bytes of a gossip datagram, " + std::to_string(room) +
                          " fit: shorten the name/label or the tags");
    }
}

void swim_service::size_receive_buffer() {
    // Best effort throughout: a smaller buffer only means more (counted) drops under bursts.
    const int wanted = static_cast<int>(
        std::min<std::size_t>(options_.receive_buffer, std::numeric_limits<int>::max() / 2));
    boost::system::error_code ec;
    socket_.set_option(asio::socket_base::receive_buffer_size(wanted), ec);
    asio::socket_base::receive_buffer_size got;
    socket_.get_option(got, ec);
    // Linux reports twice the size it granted (the doubling covers its bookkeeping); less than
    // asked means net.core.rmem_max capped it. SO_RCVBUFFORCE ignores the cap but needs
    // CAP_NET_ADMIN; without it the call fails and the capped size stays.
    if (!ec && got.value() / 2 < wanted) {
        if (::setsockopt(socket_fd_, SOL_SOCKET, SO_RCVBUFFORCE, &wanted, sizeof wanted) == 0) {
            socket_.get_option(got, ec);
        }
    }
    common::logger("swim").debug("gossip receive buffer wanted={} granted={}", wanted,
                                 ec ? 0 : got.value() / 2);
}

std::uint64_t swim_service::kernel_drops() const {
    if (!socket_.is_open()) {
        return 0;
    }
    // SO_MEMINFO (Linux >= 4.6) fills sk_meminfo; SK_MEMINFO_DROPS is the socket's sk_drops,
    // which UDP increments for every datagram it could not queue (receive buffer full, memory
    // pressure, bad checksum). A 32-bit kernel counter: it wraps after 2^32 drops.
    std::uint32_t meminfo[SK_MEMINFO_VARS] = {};
    socklen_t len = sizeof meminfo;
    if (::getsockopt(socket_fd_, SOL_SOCKET, SO_MEMINFO, meminfo, &len) != 0 ||
        len < (SK_MEMINFO_DROPS + 1) * sizeof(std::uint32_t)) {
        return 0;
    }
    return meminfo[SK_MEMINFO_DROPS];
}

swim_counters swim_service::counters() const {
    auto c = state_ ? state_->counters() : swim_counters{};
    c.datagrams_dropped_by_kernel = kernel_drops();
    return c;
}

std::vector<member> swim_service::handle_push_pull(const std::vector<member>& remote) {
    if (!state_ || paused_) {
        return {};
    }
    state_->merge_remote_state(remote, common::clock::now());
    flush_events();
    return state_->local_state();
}

}  // namespace rpcnetd::membership
