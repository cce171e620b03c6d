#pragma once

// Runs an awaitable to completion on a private io_context: unit tests of awaitable code (IQ handlers, the
// dispatcher, the router's pending IQs) without a server around it.
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

namespace tern::test {

template <class T>
T await_now(asio::awaitable<T> awaitable)
{
    asio::io_context io;
    auto result = asio::co_spawn(io, std::move(awaitable), asio::use_future);
    io.run();
    return result.get();
}

}  // namespace tern::test
