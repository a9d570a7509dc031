#include "app/client/client_printer.hpp"

#include "common/json.hpp"
#include "common/safe_text.hpp"

#include <fmt/format.h>

namespace rpcnetd::app {

using common::json_object;

void client_printer::emit(const std::string& line) {
    auto& to = format_ == cli::client_output::raw ? diag_ : out_;
    to << line << '\n';
    to.flush();
}

void client_printer::flush() {
    out_.flush();
}

void client_printer::error(std::string_view reason, std::string_view stderr_tail) {
    if (format_ == cli::client_output::jsonl) {
        emit(json_object()
                 .add("event", "error")
                 .add("reason", reason)
                 .add("stderr", stderr_tail)
                 .str());
        return;
    }
    std::string line = fmt::format("❌ the job failed: {}", reason);
    if (!stderr_tail.empty()) {
        line += fmt::format("\n--- program stderr (last {} bytes) ---\n{}", stderr_tail.size(),
                            stderr_tail);
        if (line.back() == '\n') {
            line.pop_back();
        }
    }
    emit(line);
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
        emit(fmt::format("🎯 assigned worker {} at {} (from sequence {}, by director {})",
                         common::escape_text(worker), common::escape_text(addr), from_sequence,
                         common::escape_text(director)));
    }
}

void client_printer::token(std::uint64_t sequence, std::string_view text, std::string_view worker,
                           std::uint64_t total, bool chunk) {
    if (format_ == cli::client_output::raw) {
        out_ << text;
        if (!chunk) {
            out_ << '\n';
        }
        return;
    }
    if (format_ == cli::client_output::jsonl) {
        emit(json_object()
                 .add("event", "token")
                 .add("sequence", sequence)
                 .add("text", text)
                 .add("worker", worker)
                 .str());
    } else {
        emit(fmt::format("📦 received token (sequence={}, text=\"{}\", total={}) from {}", sequence,
                         common::escape_text(text), total, common::escape_text(worker)));
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
                         common::escape_text(from), common::escape_text(reason), resume_at));
    }
}

void client_printer::waiting(std::string_view reason) {
    if (format_ == cli::client_output::jsonl) {
        emit(json_object().add("event", "waiting").add("reason", reason).str());
    } else {
        emit(fmt::format("⏳ waiting: {}", common::escape_text(reason)));
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

}  // namespace rpcnetd::app
