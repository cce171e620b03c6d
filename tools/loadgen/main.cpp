// tern-loadgen: load generator for tern (and any XMPP server speaking STARTTLS or direct TLS with SCRAM).
#include <cstdio>
#include <string_view>
#include <vector>

#include "loadgen/options.hpp"
#include "loadgen/scenarios.hpp"

int main(int argc, char** argv)
{
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    const auto options = tern::loadgen::parse_options(args);
    if (!options) {
        std::fprintf(stderr, "tern-loadgen: %s\n", options.error().c_str());
        return 3;
    }
    if (!*options) {
        const auto text = tern::loadgen::usage();
        std::fwrite(text.data(), 1, text.size(), stdout);
        return 0;
    }
    return tern::loadgen::run(**options);
}
