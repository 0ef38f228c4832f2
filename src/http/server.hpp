#pragma once
// The HTTP/1.1 listener (Boost.Beast over Asio coroutines). This header stays
// free of Beast so that only server.cpp pays for its templates.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "http/router.hpp"

namespace agentd::http {

struct ServerOptions {
    std::string host = "127.0.0.1";
    unsigned short port = 8000;
    std::size_t io_threads = 2;
    std::size_t blocking_threads = 4;
    std::size_t body_limit = 10 * 1024 * 1024;  ///< larger bodies get 413
    std::size_t header_limit = 16 * 1024;       ///< larger header blocks get 431
    std::chrono::seconds request_timeout{30};   ///< a request must arrive whole within this
    std::chrono::seconds idle_timeout{75};      ///< keep-alive connections idle longer are closed
    std::chrono::seconds shutdown_grace{10};    ///< in-flight requests get this long on SIGTERM
    std::string port_file;                      ///< written with the bound port once listening
    bool access_log = true;
    /// Called on an io thread when shutdown begins (must not block): e.g. cancel runs.
    std::function<void()> on_shutdown;
    /// Shutdown waits (within the grace period) until this returns true.
    std::function<bool()> background_idle;
};

class Server {
public:
    Server(ServerOptions options, const Router& router);
    ~Server();

    /// Binds, serves until SIGINT/SIGTERM (or stop()), then drains and returns.
    /// Throws when the address cannot be bound.
    void run();
    void stop();
    unsigned short bound_port() const;

    /// The first io thread's executor, for components that run coroutines.
    boost::asio::any_io_executor io_executor();
    /// The io threads' executors in turn, to spread work (chat runs) over them.
    boost::asio::any_io_executor next_io_executor();
    /// The pool for blocking work (storage, filesystem).
    boost::asio::thread_pool& blocking_pool();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace agentd::http
