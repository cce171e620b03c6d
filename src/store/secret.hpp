#pragma once

// A server secret kept in a file of data_dir: random bytes written once with mode 0600 and read at every
// start, so what is derived from it (the SCRAM salts shown to unknown usernames) is the same across restarts,
// as real salts are.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/expected.hpp"

namespace tern::store {

// data_dir/sasl_secret keys the fake SCRAM salts of unknown usernames (sasl::ServerContext).
inline constexpr std::string_view sasl_secret_file_name = "sasl_secret";
inline constexpr std::size_t secret_bytes = 32;

// The secret in `path`, first created with secret_bytes random bytes if there is no such file (atomically:
// a crash leaves no half-written secret). Fails if the file cannot be created or read, holds anything other
// than secret_bytes bytes, or is accessible to group or others.
expected<std::string, std::string> load_or_create_secret(const std::filesystem::path& path);

}  // namespace tern::store
