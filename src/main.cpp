// ternd: the tern XMPP server.
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "base/log.hpp"
#include "config/config.hpp"
#include "net/server.hpp"

namespace {

constexpr std::string_view usage =
    "usage: ternd [--config FILE] [--check-config]\n"
    "  --config FILE    load FILE (TOML; see conf/tern.toml) instead of the embedded default\n"
    "  --check-config   validate the configuration and exit (0 = valid)\n"
    "  --version        print the version and exit\n";

}  // namespace

int main(int argc, char** argv)
{
    ::umask(0077);  // the account store, keys and certificates are for ternd's user only
    std::string config_path;
    bool check_only = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--config" && i + 1 < argc) {
            config_path = argv[++i];
        } else if (arg == "--check-config") {
            check_only = true;
        } else if (arg == "--version") {
            std::printf("ternd %s\n", TERN_VERSION);
            return 0;
        } else if (arg == "--help" || arg == "-h") {
            std::fwrite(usage.data(), 1, usage.size(), stdout);
            return 0;
        } else {
            std::fprintf(stderr, "ternd: unknown argument '%s'\n%.*s", argv[i], static_cast<int>(usage.size()), usage.data());
            return 2;
        }
    }

    tern::config::Config config = tern::config::default_config();
    if (!config_path.empty()) {
        auto loaded = tern::config::load_file(config_path);
        if (!loaded) {
            std::fprintf(stderr, "ternd: %s\n", loaded.error().to_string().c_str());
            return 1;
        }
        config = std::move(*loaded);
    }
    if (check_only) {
        std::printf("%s: configuration is valid\n", config_path.empty() ? "<embedded default>" : config_path.c_str());
        return 0;
    }
    if (config_path.empty()) {
        tern::log::info("ternd.default_config", "note={}",
                        tern::log::quote("no --config given: domain localhost, STARTTLS on 127.0.0.1:5222, direct "
                                         "TLS on 127.0.0.1:5223, data in ./data. Add a user with: "
                                         "build/src/ctl/ternctl adduser alice@localhost"));
    }
    return tern::net::Server(std::move(config), config_path).run();
}
