#pragma once

// The server's blocking pool (server::Blocking): SQLite calls and PBKDF2 run on its threads, never on a
// worker, and the awaiting coroutine resumes on its own worker afterwards.
#include <cstddef>

#include <asio/thread_pool.hpp>

#include "server/blocking.hpp"

namespace tern::net {

class BlockingPool final : public server::Blocking {
public:
    explicit BlockingPool(std::size_t threads) : pool_(threads) {}

    asio::awaitable<void> run(std::function<void()> job) override;
    asio::thread_pool& pool() { return pool_; }
    void join() { pool_.join(); }

private:
    asio::thread_pool pool_;
};

}  // namespace tern::net
