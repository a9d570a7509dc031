#include "rpc/status.hpp"

namespace rpcnetd::rpc {

std::string status_code_name(status_code c) {
    if (v1::StatusCode_IsValid(c)) {
        return v1::StatusCode_Name(c);
    }
    return std::to_string(static_cast<int>(c));
}

std::string status::to_string() const {
    if (message.empty()) {
        return status_code_name(code);
    }
    return status_code_name(code) + ": " + message;
}

}  // namespace rpcnetd::rpc
