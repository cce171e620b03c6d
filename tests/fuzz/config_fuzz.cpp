// The TOML configuration loader on arbitrary text: it returns a Config or a ConfigError, never crashes or
// throws. A valid result satisfies what the loader promises (at least one domain, limits in range).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config.hpp"

namespace {

void require(bool ok)
{
    if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // No base directory: relative secret_file paths stay relative and, in the fuzzing scratch directory,
    // name nothing.
    const auto config = tern::config::load_string(text, "fuzz.toml");
    if (config) {
        require(!config->server.domains.empty());
        require(config->limits.max_stanza_bytes > 0 && config->limits.max_depth > 0);
    } else {
        require(!config.error().message.empty());
        require(!config.error().to_string().empty());
    }
    return 0;
}
