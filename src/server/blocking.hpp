#pragma once

// Work that may block (SQLite, which can wait up to its busy timeout on a lock another process holds;
// PBKDF2) runs off the I/O threads: run() carries out `job` elsewhere and resumes the awaiting coroutine on
// its own executor once it is done. net::BlockingPool implements it over a small thread pool. A job may run
// on any pool thread, so it touches only thread-safe state (the registry, ClientHandles, thread-local
// store connections) and what the awaiting coroutine owns.
#include <functional>

#include <asio/awaitable.hpp>

namespace tern::server {

class Blocking {
public:
    virtual ~Blocking() = default;
    virtual asio::awaitable<void> run(std::function<void()> job) = 0;
};

}  // namespace tern::server
