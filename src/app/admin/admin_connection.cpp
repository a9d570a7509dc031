#include "app/admin/admin_connection.hpp"

#include "rpc/tls_context.hpp"

#include <iostream>

namespace rpcnetd::app {

rpc::channel_options admin_options(const cli::common_config& common, std::string node_name) {
    using namespace std::chrono_literals;
    rpc::channel_options o;
    o.tls = common.tls;
    o.node_name = std::move(node_name);
    o.connect_timeout = 3s;
    return o;
}

net::awaitable<std::optional<rpc::channel>>
connect_member(common::endpoint target, const cli::common_config& common,
               std::string_view node_name, std::string_view what,
               std::shared_ptr<boost::asio::ssl::context> ssl) {
    auto ex = co_await net::asio::this_coro::executor;
    if (!ssl) {
        ssl = rpc::tls_context::make_client(common.tls);
    }
    auto conn = co_await rpc::channel::connect(ex, target, ssl,
                                               admin_options(common, std::string(node_name)));
    if (!conn) {
        std::cerr << "rpcnetd: cannot reach " << what << target.to_string() << ": "
                  << conn.error().message() << "\n";
        co_return std::nullopt;
    }
    co_return *conn;
}

bool parse_answer(std::string_view method, const rpc::call_result& r,
                  google::protobuf::MessageLite& resp) {
    if (r.st.ok() && resp.ParseFromString(r.response)) {
        return true;
    }
    std::cerr << "rpcnetd: " << method << " failed: " << r.st.to_string() << "\n";
    return false;
}

}  // namespace rpcnetd::app
