#include "tls/wolf.hpp"

#include <stdexcept>

namespace tern::tls::detail {

void ensure_initialized()
{
    static const int result = wolfSSL_Init();
    if (result != WOLFSSL_SUCCESS)
        throw std::runtime_error("tls: wolfSSL_Init failed: " + error_text(result));
}

std::string error_text(int code)
{
    // The file-loading calls return codes wolfSSL has no text for.
    switch (code) {
    case WOLFSSL_BAD_FILE: return "malformed or unsupported contents (" + std::to_string(code) + ")";
    case WOLFSSL_BAD_FILETYPE: return "wrong file type (" + std::to_string(code) + ")";
    case WOLFSSL_BAD_CERTTYPE: return "unsupported certificate type (" + std::to_string(code) + ")";
    default: break;
    }
    char text[WOLFSSL_MAX_ERROR_SZ] = {};
    wolfSSL_ERR_error_string_n(static_cast<unsigned long>(code), text, sizeof text);
    return std::string(text) + " (" + std::to_string(code) + ")";
}

}  // namespace tern::tls::detail
