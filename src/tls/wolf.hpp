#pragma once

// The one place tls/ includes wolfSSL from: options.h must come before every other wolfSSL header, or the
// struct layouts differ from the library's (FACTS.md §3). Only .cpp files of this layer include this header.
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <string>

namespace tern::tls::detail {

// wolfSSL_Init once per process (thread-safe); later calls are free.
void ensure_initialized();

// "<wolfSSL's text for code> (<code>)".
std::string error_text(int code);

}  // namespace tern::tls::detail
