#pragma once
// Worker.Generate backed by the user's program (worker --exec / --exec-shell; README "Running
// your own program"). For each call: check capacity (--max-jobs), start the program (exec_job),
// cut its stdout into tokens (token_framer), number them, apply the resume contract (replay:
// drop the tokens before from_sequence; continue: hand the client's context over in a file and
// number the first line from_sequence), and end the stream with OK (exit 0), APPLICATION_ERROR
// (the program failed: reason + stderr tail) or WORKER_DRAINING (the worker's drain timeout).
//
// Backpressure: the next read of the program's stdout happens only after the previous tokens
// were queued, and stream_writer::write waits while the connection's queue is over its bound;
// so a slow client stops the reads, the pipe fills and the program blocks in write(). Per
// stream the worker holds one read buffer (64 KiB) plus at most one partial line
// (--max-token-bytes).
//
// Runs on the worker's I/O thread. stop() must be awaited before destruction.
#include "app/worker/exec_job.hpp"
#include "cli/options.hpp"
#include "net/task_group.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/call_context.hpp"
#include "rpc/status.hpp"
#include "rpc/stream_writer.hpp"

#include <map>
#include <memory>
#include <string>

namespace rpcnetd::app::worker {

class exec_runner {
public:
    exec_runner(net::asio::any_io_executor ex, const cli::exec_config& cfg, std::string label);

    // Throws usage_error when the program is not an executable file (worker start-up: exit 2).
    static void check_program(const cli::exec_config& cfg);

    // The Worker.Generate stream for one call (see the class comment).
    net::awaitable<rpc::status> generate(rpc::call_context& ctx, const v1::GenerateRequest& req,
                                         rpc::stream_writer& writer);

    // Programs holding a slot (running, or stopped but not yet reaped).
    std::size_t running() const noexcept { return jobs_.size(); }

    // The drain timeout passed: stop every program; their streams end with WORKER_DRAINING.
    void drain_now();
    // Kills and reaps every remaining program and waits for the job coroutines.
    net::awaitable<void> stop();

private:
    net::awaitable<rpc::status> stream_tokens(exec_job& job, const v1::GenerateRequest& req,
                                              rpc::stream_writer& writer);
    rpc::status outcome(const exec_job& job) const;
    std::string write_context_file(const std::string& context) const;

    net::asio::any_io_executor ex_;
    const cli::exec_config& cfg_;
    std::string label_;
    std::map<const exec_job*, std::shared_ptr<exec_job>> jobs_;
    net::task_group tasks_;  // last: the job coroutines
};

}  // namespace rpcnetd::app::worker
