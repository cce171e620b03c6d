#pragma once

// The error every store call returns.
#include <string>
#include <string_view>

namespace tern::store {

enum class StoreErrc {
    Exists,    // add: the account is already there
    NotFound,  // set_password: no such account
    Database,  // SQLite failed (I/O, corruption, busy beyond busy_timeout, newer schema)
};
std::string_view to_string(StoreErrc code);

struct StoreError {
    StoreErrc code;
    std::string message;  // one line, suitable for a log or ternctl's output
};

}  // namespace tern::store
