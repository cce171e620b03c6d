#pragma once

// A well-behaved pair of clients on a server that is being abused: two bound sessions that keep exchanging
// a message, an IQ ping answered by the other client and an IQ ping answered by the server, each reply
// awaited for at most reply_bound. Rounds run on a background thread while the test abuses the server on
// its own; stop() says whether every round was served.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tern_process.hpp"
#include "xmpp_client.hpp"

namespace tern::test {

class Canary {
public:
    // A bound on each wait for a reply, not a latency target: loopback replies take milliseconds.
    static constexpr std::chrono::milliseconds reply_bound{2000};

    struct Report {
        int rounds = 0;
        std::vector<std::string> failures;  // at most one: the first failure ends the rounds
        std::chrono::milliseconds slowest{0};
    };

    // Creates the canary's two accounts; call before server.start().
    static void add_accounts(TernProcess& server);

    // Logs both accounts in on the server's STARTTLS port.
    explicit Canary(const TernProcess& server);
    ~Canary();
    Canary(const Canary&) = delete;
    Canary& operator=(const Canary&) = delete;

    // One round on the calling thread; throws if a reply misses the bound. Not while running.
    void round();

    // Rounds back to back on a background thread until stop().
    void start();
    Report stop();
    // Rounds completed since start().
    int rounds_so_far();

private:
    void run();
    std::chrono::milliseconds timed_round();

    XmppClient first_;
    XmppClient second_;
    std::string first_jid_;
    std::string second_jid_;
    int counter_ = 0;

    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    Report report_;
};

}  // namespace tern::test
