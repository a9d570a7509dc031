#pragma once
// Final status of an RPC, as carried in the End frame (codes: rpcnetd.v1.StatusCode).
// Transport failures seen by a client are statuses too: UNAVAILABLE (connection lost or refused),
// DEADLINE_EXCEEDED (the call's timeout passed), CANCELLED (the caller cancelled).
#include "proto/rpcnetd.pb.h"

#include <string>
#include <utility>

namespace rpcnetd::rpc {

using status_code = v1::StatusCode;

struct status {
    status_code code = v1::OK;
    std::string message;
    // End.detail: APPLICATION_ERROR carries the program's stderr tail here; empty otherwise.
    std::string detail;

    status() = default;
    status(status_code c, std::string m = {}) : code(c), message(std::move(m)) {}  // NOLINT

    bool ok() const noexcept { return code == v1::OK; }
    // "OK" or "UNAVAILABLE: connection reset"
    std::string to_string() const;
};

// Name of a status code ("RESOURCE_EXHAUSTED"), or the number for codes this build doesn't know.
std::string status_code_name(status_code c);

}  // namespace rpcnetd::rpc
