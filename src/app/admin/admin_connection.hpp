#pragma once
// The connections of the operator commands (members, events, stats, drain, keys): how they
// connect to a member, and the one line they print when they cannot.
#include "cli/options.hpp"
#include "common/endpoint.hpp"
#include "net/asio.hpp"
#include "rpc/channel.hpp"

#include <boost/asio/ssl/context.hpp>
#include <google/protobuf/message_lite.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rpcnetd::app {

// The common TLS settings, a 3 s connect deadline, and `node_name` (the command, in the peer's
// Hello) for an operator command's connection.
rpc::channel_options admin_options(const cli::common_config& common, std::string node_name);

// A connection to a member, or nullopt after printing why not (one line on stderr); `what` names
// it in that line ("director ", or "" for any member). `ssl` is a shared client context, or null
// to build one from common.tls.
net::awaitable<std::optional<rpc::channel>>
connect_member(common::endpoint target, const cli::common_config& common,
               std::string_view node_name, std::string_view what = "",
               std::shared_ptr<boost::asio::ssl::context> ssl = nullptr);

// Parses the answer of an operator command's call to `method` into `resp`; false after printing
// "rpcnetd: METHOD failed: STATUS" (one line on stderr) when the call failed or did not parse.
bool parse_answer(std::string_view method, const rpc::call_result& r,
                  google::protobuf::MessageLite& resp);

}  // namespace rpcnetd::app
