// The per-address limits alone (issue 12, item 7): the cost of one login event (a password check's
// auth_checked plus a connect and disconnect) once N addresses hold failure records, for growing N. The
// figure should not grow with N. No sockets: see `tern-loadgen login` for the whole server.
//   address_limits_bench [events per measurement, default 200000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "server/address_limits.hpp"

using namespace tern;
using Clock = std::chrono::steady_clock;

namespace {

std::string address(std::size_t i)
{
    return "10." + std::to_string((i >> 16) & 255) + '.' + std::to_string((i >> 8) & 255) + '.' + std::to_string(i & 255);
}

}  // namespace

int main(int argc, char** argv)
{
    const long events = argc > 1 ? std::atol(argv[1]) : 200000;
    for (std::size_t held : {std::size_t{100}, std::size_t{10000}, std::size_t{1000000}}) {
        server::AddressLimits limits;
        auto now = Clock::now();
        // `held` addresses, each with a recent failure (a scan of the guessers of a botnet).
        for (std::size_t i = 0; i < held; ++i) limits.auth_checked(address(i), "", now, true);
        // Then logins from addresses that are not among them: connect, a right password, disconnect.
        std::vector<std::string> keys;
        for (int i = 0; i < 1000; ++i) keys.push_back("192.0." + std::to_string(i / 250) + '.' + std::to_string(i % 250));
        const auto start = Clock::now();
        for (long e = 0; e < events; ++e) {
            const std::string& key = keys[static_cast<std::size_t>(e) % keys.size()];
            if (!limits.try_connect(key)) return std::fprintf(stderr, "refused\n"), 1;
            limits.auth_checked(key, "user@example.org", now, false);
            limits.authenticated(key);
            limits.disconnected(key, true);
        }
        const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / events;
        std::printf("failure records %8zu (held %zu): %6.0f ns per login event\n", limits.failure_records(), held, ns);
    }
    return 0;
}
