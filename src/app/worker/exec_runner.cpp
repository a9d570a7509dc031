#include "app/worker/exec_runner.hpp"

#include "app/worker/job_environment.hpp"
#include "app/worker/token_framer.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "common/utf8.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <system_error>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace rpcnetd::app::worker {
namespace {

namespace asio = net::asio;

constexpr std::size_t read_size = 64 * 1024;
// A silent program's stream carries a Token with sequence 0 this often (client
// --stream-idle-timeout defaults to 1 s).
constexpr auto keepalive_interval = std::chrono::milliseconds(250);

std::optional<std::string> env_var(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
}

inherited_environment worker_environment() {
    return {env_var("PATH"), env_var("HOME"), env_var("TMPDIR")};
}

}  // namespace

exec_runner::exec_runner(asio::any_io_executor ex, const cli::exec_config& cfg, std::string label)
    : ex_(ex), cfg_(cfg), label_(std::move(label)), tasks_(ex, "exec") {}

void exec_runner::check_program(const cli::exec_config& cfg) {
    if (!cfg.enabled()) {
        return;
    }
    const auto path = env_var("PATH").value_or("/usr/local/bin:/usr/bin:/bin");
    if (!is_executable(cfg.argv.front(), path)) {
        throw usage_error("--exec: '" + cfg.argv.front() +
                          "' is not an executable file (give a path or a program on PATH, and "
                          "chmod +x it)");
    }
}

std::string exec_runner::write_context_file(const std::string& context) const {
    std::string dir = env_var("TMPDIR").value_or("/tmp");
    std::string path = dir + "/rpcnetd-context-XXXXXX";
    // mkstemp creates the file 0600 with O_EXCL: no other user can read or swap it.
    const int fd = ::mkstemp(path.data());
    if (fd < 0) {
        throw std::system_error(errno, std::generic_category(), "cannot create context file");
    }
    // Small (at most the client's 3 MiB limit) and a local file: written inline.
    std::size_t off = 0;
    while (off < context.size()) {
        const auto n = ::write(fd, context.data() + off, context.size() - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int err = errno;
            ::close(fd);
            ::unlink(path.c_str());
            throw std::system_error(err, std::generic_category(), "cannot write context file");
        }
        off += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return path;
}

net::awaitable<rpc::status> exec_runner::generate(rpc::call_context& ctx,
                                                  const v1::GenerateRequest& req,
                                                  rpc::stream_writer& writer) {
    if (cfg_.max_jobs != 0 && jobs_.size() >= cfg_.max_jobs) {
        co_return rpc::status{
            v1::RESOURCE_EXHAUSTED,
            fmt::format("worker {} runs its maximum of {} jobs", label_, cfg_.max_jobs)};
    }
    const bool cont = cfg_.resume == cli::exec_resume::continue_from_context;
    job_description d;
    d.job = req.job();
    d.prompt = req.prompt();
    d.resume_from = std::max<std::uint64_t>(1, req.from_sequence());
    d.worker = label_;
    d.continue_mode = cont;
    exec_job::settings s;
    s.job = req.job();
    s.job_timeout = cfg_.job_timeout;
    s.kill_timeout = cfg_.kill_timeout;
    std::shared_ptr<exec_job> job;
    try {
        if (cont) {
            d.context_file = write_context_file(req.context());
            d.context_dropped = req.context_dropped();
            s.context_file = d.context_file;
        }
        auto proc = exec_process::spawn(cfg_.argv, job_environment(d, worker_environment()));
        job = std::make_shared<exec_job>(ex_, std::move(proc), std::move(s));
    } catch (const std::system_error& e) {
        if (!d.context_file.empty() && !job) {
            ::unlink(d.context_file.c_str());
        }
        common::logger("app").warn("job start failed job={} error={}", req.job(), e.what());
        co_return rpc::status{v1::APPLICATION_ERROR, e.what()};
    }
    common::logger("app").debug("job start job={} pid={} from={} peer={}", req.job(), job->pid(),
                                d.resume_from, ctx.peer());
    jobs_.emplace(job.get(), job);
    job->start(tasks_, req.prompt(), [this, key = job.get()] { jobs_.erase(key); });

    // Whatever ends this call (cancel, lost connection, an exception), the program is stopped.
    struct stop_guard {
        exec_job& j;
        ~stop_guard() {
            if (!j.finished()) {
                j.terminate(stop_reason::cancelled);
            }
        }
    } guard{*job};
    co_return co_await stream_tokens(*job, req, writer);
}

net::awaitable<rpc::status> exec_runner::stream_tokens(exec_job& job,
                                                       const v1::GenerateRequest& req,
                                                       rpc::stream_writer& writer) {
    const bool cont = cfg_.resume == cli::exec_resume::continue_from_context;
    const std::uint64_t from = std::max<std::uint64_t>(1, req.from_sequence());
    const std::uint64_t to = req.to_sequence();
    std::uint64_t seq = cont ? from : 1;  // the number of the next token
    token_framer framer(cfg_.framing, cfg_.max_token_bytes);
    std::vector<char> buf(read_size);
    v1::Token token;
    token.set_worker(label_);
    token.set_chunk(cfg_.framing == cli::exec_framing::chunks);
    std::string wire;
    v1::Token keepalive;  // sequence 0: clients drop it as already delivered
    keepalive.set_worker(label_);
    const rpc::status cancelled{v1::CANCELLED, "stream cancelled"};

    bool eof = false;
    net::asio::steady_timer quiet(ex_);
    // When the client last got a frame. A replay drops the tokens before `from` without
    // sending them, so the program may be busy for seconds while the client hears nothing.
    auto last_frame = common::clock::now();
    net::error_code nb;
    job.stdout_pipe().non_blocking(true, nb);
    for (;;) {
        net::error_code ec;
        std::size_t n = job.stdout_pipe().read_some(asio::buffer(buf), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
            if (job.stdout_cut()) {
                eof = true;  // the group is dead; a process that left it holds the pipe open
            } else {
                // Wait for output, but tell the client every keepalive_interval that the job
                // is alive (its stream idle timeout must not fire while a program thinks).
                // Waiting for readability, not reading, so the timer winning loses no data.
                // Both report errors as values: the loser's operation_aborted would otherwise be
                // a C++ exception per chunk of output (a failed wait falls through to the read,
                // which sees the error).
                using namespace net::asio::experimental::awaitable_operators;
                quiet.expires_at(last_frame + keepalive_interval);
                const auto woke =
                    co_await (job.stdout_pipe().async_wait(asio::posix::descriptor_base::wait_read,
                                                           net::use_tuple) ||
                              quiet.async_wait(net::use_tuple));
                if (woke.index() == 1) {
                    keepalive.SerializeToString(&wire);
                    if (co_await writer.write(wire)) {
                        co_return cancelled;
                    }
                    last_frame = common::clock::now();
                }
                continue;
            }
        } else if (ec) {
            eof = true;  // end of file (or a broken pipe: the same for us)
        }
        framer.put(std::string_view(buf.data(), n));
        for (;;) {
            auto text = framer.next();
            if (!text && eof) {
                text = framer.finish();  // a last line without "\n"
            }
            if (!text) {
                break;
            }
            if (to != 0 && seq > to) {
                job.terminate(stop_reason::target_reached);
                co_return rpc::status{};
            }
            if (seq >= from) {
                token.set_sequence(seq);
                if (common::valid_utf8(*text)) {
                    token.set_text(text->data(), text->size());
                    token.clear_raw();
                } else {
                    token.clear_text();
                    token.set_raw(text->data(), text->size());
                }
                token.SerializeToString(&wire);
                if (co_await writer.write(wire)) {
                    co_return cancelled;
                }
                last_frame = common::clock::now();
            } else if (common::clock::now() - last_frame >= keepalive_interval) {
                keepalive.SerializeToString(&wire);
                if (co_await writer.write(wire)) {
                    co_return cancelled;
                }
                last_frame = common::clock::now();
            }
            ++seq;
        }
        if (framer.overflow()) {
            job.terminate(stop_reason::token_too_long);
            break;
        }
        if (eof) {
            break;
        }
    }
    co_await job.wait_finished();
    if (!job.finished()) {
        co_return cancelled;
    }
    co_return outcome(job);
}

rpc::status exec_runner::outcome(const exec_job& job) const {
    rpc::status st{v1::APPLICATION_ERROR, {}};
    switch (job.reason()) {
    case stop_reason::draining:
        return rpc::status{v1::WORKER_DRAINING,
                           fmt::format("worker {} is shutting down (drain timeout)", label_)};
    case stop_reason::timeout:
        st.message = fmt::format("job timeout after {}ms", cfg_.job_timeout.count());
        break;
    case stop_reason::token_too_long:
        st.message = fmt::format("a token (stdout line) is longer than --max-token-bytes {}",
                                 cfg_.max_token_bytes);
        break;
    default:
        if (WIFEXITED(job.wait_status()) && WEXITSTATUS(job.wait_status()) == 0) {
            return rpc::status{};
        }
        st.message = "program failed: " + describe_wait_status(job.wait_status());
        break;
    }
    st.detail = job.stderr_text();
    return st;
}

void exec_runner::drain_now() {
    for (auto& [key, job] : jobs_) {
        job->terminate(stop_reason::draining);
    }
}

net::awaitable<void> exec_runner::stop() {
    tasks_.cancel();
    co_await tasks_.wait();
}

}  // namespace rpcnetd::app::worker
