#include "net/blocking_pool.hpp"

#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>

namespace tern::net {

asio::awaitable<void> BlockingPool::run(std::function<void()> job)
{
    // The completion comes back through the awaiting coroutine's executor (its worker). The lambda is
    // passed uncalled, so co_spawn keeps `job` alive until it has run; it is a named local, not a temporary
    // inside the co_await expression (g++ 12 destroys such a temporary's captures twice).
    auto entry = [job = std::move(job)]() -> asio::awaitable<void> {
        job();
        co_return;
    };
    co_await asio::co_spawn(pool_, std::move(entry), asio::use_awaitable);
}

}  // namespace tern::net
