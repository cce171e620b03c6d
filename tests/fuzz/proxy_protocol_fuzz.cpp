// The PROXY protocol header parser sees the first bytes of every connection on a proxied listener.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/proxy_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const tern::net::ProxyParse whole = tern::net::parse_proxy_header(input);
    if (whole.status == tern::net::ProxyParse::Status::Done && whole.consumed > size) std::abort();
    // A prefix never completes differently from the whole: it needs more, or agrees.
    const tern::net::ProxyParse prefix = tern::net::parse_proxy_header(input.substr(0, size / 2));
    if (prefix.status == tern::net::ProxyParse::Status::Done && whole.status != tern::net::ProxyParse::Status::Done)
        std::abort();
    return 0;
}
