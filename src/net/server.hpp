#pragma once

// The ternd process: worker threads, listeners, signals (SIGTERM/SIGINT stop cleanly, SIGHUP reloads),
// and the shared runtime. Asio stays inside server.cpp.
#include <memory>
#include <string>

#include "config/config.hpp"

namespace tern::net {

class Server {
public:
    // config_path is empty when running on the embedded default (SIGHUP then has nothing to reload).
    Server(config::Config config, std::string config_path);
    ~Server();

    // Prepares data_dir, certificates and the account store, binds the listeners and serves until a
    // stop signal. Returns the process exit code; start-up failures are logged as one line each.
    int run();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tern::net
