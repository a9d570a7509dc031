#include "app/client_printer.hpp"

#include "common/json.hpp"

#include <fmt/format.h>

namespace rpcnetd::app {

using common::json_object;

void client_printer::emit(const std::string& line) {
    out_ << line << '\n';
    out_.flush();
}

void client_printer::assigned(std::string_view worker, std::string_view addr,
                              std::uint64_t from_sequence, std::string_view director) {
    if (format_ == cli::client_output::jsonl) {
        emit(json_object()
                 .add("event", "assigned")
                 .add("worker", worker)
                 .add("addr", addr)
                 .add("from_sequence", from_sequence)
                 .add("director", director)
                 .str());
    } else {
        emit(fmt::format("🎯 assigned worker {} at {} (from sequence {}, by director {})", worker,
                         addr, from_sequence, director));
    }
}

void client_printer::token(std::uint64_t sequence, std::string_view text, std::string_view worker,
                           std::uint64_t total) {
    if (format_ == cli::client_output::jsonl) {
        emit(json_object()
                 .add("event", "token")
                 .add("sequence", sequence)
                 .add("text", text)
                 .add("worker", worker)
                 .str());
    } else {
        emit(fmt::format("📦 received token (sequence={}, text=\"{}\", total={}) from {}", sequence,
                         text, total, worker));
    }
}

void client_printer::failover(std::string_view from, std::string_view reason,
                              std::uint64_t resume_at) {
    if (format_ == cli::client_output::jsonl) {
        emit(json_object()
                 .add("event", "failover")
                 .add("from", from)
                 .add("reason", reason)
                 .add("resume_at", resume_at)
                 .str());
    } else {
        emit(fmt::format("🔄 worker {} failed ({}); asking the director for another, resuming at "
                         "sequence {}",
                         from, reason, resume_at));
    }
}

void client_printer::waiting(std::string_view reason) {
    if (format_ == cli::client_output::jsonl) {
        emit(json_object().add("event", "waiting").add("reason", reason).str());
    } else {
        emit(fmt::format("⏳ waiting: {}", reason));
    }
}

void client_printer::queued(std::uint64_t position) {
    if (format_ == cli::client_output::jsonl) {
        emit(json_object().add("event", "queued").add("position", position).str());
    } else {
        emit(fmt::format("🕒 queued: every matching worker is busy; position {}", position));
    }
}

void client_printer::done(std::uint64_t total, std::uint64_t failovers) {
    if (format_ == cli::client_output::jsonl) {
        emit(json_object()
                 .add("event", "done")
                 .add("total", total)
                 .add("failovers", failovers)
                 .str());
    } else {
        emit(fmt::format("✅ done: {} tokens, {} failovers", total, failovers));
    }
}

} // namespace rpcnetd::app
