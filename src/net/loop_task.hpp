#pragma once

// The coroutine type of a connection's lifelong loop (Connection::run). Lighter than asio::awaitable on
// purpose, because an idle connection holds exactly this while it waits: its frame and one pending
// async_wait whose handler is a coroutine handle and a pointer. An asio::awaitable loop also kept a
// co_spawn entry frame, the awaitable thread and the frame use_awaitable makes for every operation
// (measured: 4.59 KiB per idle plaintext session against 3.05 with callbacks).
//
// - LoopTask starts at once and frees its frame when it returns; nothing awaits it.
// - co_await readable(socket): resumes with the wait's error code.
// - co_await awaited(socket, awaitable): runs an Asio coroutine (an action: STARTTLS, a pool hop, an IQ
//   handler that suspends) on the socket's executor and resumes with its result; an exception in it is
//   rethrown here.
// A handler that is destroyed without being called (its io_context went away) destroys the suspended
// frame with it, so nothing leaks at shutdown.
#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/ip/tcp.hpp>

namespace tern::net {

struct LoopTask {
    struct promise_type {
        LoopTask get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }  // run() catches everything itself

    };
};

namespace detail {

// Owns the suspended frame until it is resumed.
class Resumer {
public:
    Resumer() = default;
    explicit Resumer(std::coroutine_handle<> frame) noexcept : frame_(frame) {}
    Resumer(Resumer&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
    Resumer& operator=(Resumer&& other) noexcept
    {
        if (this != &other) {
            if (frame_) frame_.destroy();
            frame_ = std::exchange(other.frame_, {});
        }
        return *this;
    }
    ~Resumer()
    {
        if (frame_) frame_.destroy();
    }
    explicit operator bool() const noexcept { return static_cast<bool>(frame_); }
    void resume() { std::exchange(frame_, {}).resume(); }

private:
    std::coroutine_handle<> frame_;
};

}  // namespace detail

class Readable {
public:
    explicit Readable(asio::ip::tcp::socket& socket) : socket_(socket) {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> frame)
    {
        socket_.async_wait(asio::ip::tcp::socket::wait_read,
                           [resumer = detail::Resumer(frame), ec = &ec_](const asio::error_code& result) mutable {
                               *ec = result;
                               resumer.resume();
                           });
    }
    asio::error_code await_resume() const noexcept { return ec_; }

private:
    asio::ip::tcp::socket& socket_;
    asio::error_code ec_;
};

inline Readable readable(asio::ip::tcp::socket& socket) { return Readable(socket); }

// co_await parked(slot): suspends until whoever holds `slot` resumes it (or destroys it).
class Parked {
public:
    explicit Parked(detail::Resumer& slot) : slot_(slot) {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> frame) noexcept { slot_ = detail::Resumer(frame); }
    void await_resume() const noexcept {}

private:
    detail::Resumer& slot_;
};

inline Parked parked(detail::Resumer& slot) { return Parked(slot); }

template <class T>
class Awaited {
public:
    Awaited(asio::ip::tcp::socket& socket, asio::awaitable<T> awaitable)
        : socket_(socket), awaitable_(std::move(awaitable))
    {
    }
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> frame)
    {
        if constexpr (std::is_void_v<T>) {
            asio::co_spawn(socket_.get_executor(), std::move(awaitable_),
                           [resumer = detail::Resumer(frame), error = &error_](std::exception_ptr e) mutable {
                               *error = e;
                               resumer.resume();
                           });
        } else {
            asio::co_spawn(socket_.get_executor(), std::move(awaitable_),
                           [resumer = detail::Resumer(frame), error = &error_, value = &value_](std::exception_ptr e,
                                                                                                T result) mutable {
                               *error = e;
                               if (!e) value->emplace(std::move(result));
                               resumer.resume();
                           });
        }
    }
    T await_resume()
    {
        if (error_) std::rethrow_exception(error_);
        if constexpr (!std::is_void_v<T>) return std::move(*value_);
    }

private:
    struct Nothing {};
    asio::ip::tcp::socket& socket_;
    asio::awaitable<T> awaitable_;
    std::exception_ptr error_;
    [[no_unique_address]] std::conditional_t<std::is_void_v<T>, Nothing, std::optional<T>> value_;
};

template <class T>
Awaited<T> awaited(asio::ip::tcp::socket& socket, asio::awaitable<T> awaitable)
{
    return Awaited<T>(socket, std::move(awaitable));
}

}  // namespace tern::net
