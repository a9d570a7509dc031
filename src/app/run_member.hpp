#pragma once
// The process shape shared by director and worker: build the app on one io_context thread,
// start it, and on SIGTERM/SIGINT await its graceful shutdown() (leave, drain), then exit 0.
// App needs `App(any_io_executor, const Config&)`, `void start()`, `awaitable<void> shutdown()`
// and `member_node& node()`.
#include "app/shutdown.hpp"
#include "net/asio.hpp"

#include <exception>
#include <iostream>

namespace rpcnetd::app {

template <typename App>
net::awaitable<void> serve_until_signal(App& app, shutdown_signal& sig) {
    co_await sig.wait();
    co_await app.shutdown();
}

template <typename App, typename Config>
int run_member(const Config& cfg) {
    net::asio::io_context ioc(1);
    App app(ioc.get_executor(), cfg);
    shutdown_signal sig(ioc.get_executor());
    // A newcomer refused its name (member_node::on_refused) stops like on SIGTERM, but without
    // gossiping "left", and exits 1 with the reason as its last line.
    app.node().on_refused([&sig] { sig.cancel(); });
    app.start();
    int exit_code = 0;
    net::asio::co_spawn(ioc, serve_until_signal(app, sig), [&](const std::exception_ptr& e) {
        if (e) {
            exit_code = 1;
        }
        ioc.stop();
    });
    ioc.run();
    if (const auto& refusal = app.node().refusal()) {
        std::cerr << "rpcnetd: " << *refusal << "\n";
        return 1;
    }
    return exit_code;
}

}  // namespace rpcnetd::app
