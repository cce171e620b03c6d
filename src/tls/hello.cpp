#include "tls/hello.hpp"


namespace tern::tls {

namespace {

constexpr std::uint8_t record_handshake = 22;
constexpr std::size_t max_plaintext_record = 16384;  // RFC 8446 §5.1
constexpr std::uint16_t ext_server_name = 0;
constexpr std::uint16_t ext_extended_master_secret = 23;
constexpr std::uint8_t name_type_host_name = 0;
constexpr std::size_t max_host_name = 255;

// Big-endian reader over a byte range; any read past the end marks it failed and returns zeros.
class Reader {
public:
    explicit Reader(std::string_view bytes) : bytes_(bytes) {}

    std::uint32_t number(std::size_t width)
    {
        if (!take(width))
            return 0;
        std::uint32_t value = 0;
        for (std::size_t i = 0; i < width; ++i)
            value = (value << 8) | static_cast<unsigned char>(bytes_[pos_ - width + i]);
        return value;
    }

    std::string_view bytes(std::size_t n) { return take(n) ? bytes_.substr(pos_ - n, n) : std::string_view{}; }
    std::string_view vector(std::size_t length_width) { return bytes(number(length_width)); }

    bool ok() const { return ok_; }
    bool at_end() const { return pos_ == bytes_.size(); }

private:
    bool take(std::size_t n)
    {
        if (!ok_ || bytes_.size() - pos_ < n) {
            ok_ = false;
            return false;
        }
        pos_ += n;
        return true;
    }

    std::string_view bytes_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

std::string host_name_from(std::string_view extension)
{
    Reader list(extension);
    Reader names(list.vector(2));
    if (!list.ok() || !list.at_end())
        return {};
    while (names.ok() && !names.at_end()) {
        const auto type = names.number(1);
        const auto name = names.vector(2);
        if (!names.ok() || type != name_type_host_name)
            continue;
        if (name.empty() || name.size() > max_host_name)
            return {};
        std::string lowered;
        for (char c : name) {
            if (c < 0x21 || c > 0x7e)
                return {};
            lowered += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        }
        return lowered;
    }
    return {};
}

HelloScan parse_body(std::string_view body, HelloType type)
{
    HelloScan scan;
    Reader r(body);
    r.bytes(2 + 32);  // legacy_version, random
    if (r.vector(1).size() > 32)  // legacy_session_id
        return {HelloScanState::Invalid, {}, false};
    if (type == HelloType::ClientHello) {
        const auto suites = r.vector(2);
        const auto compression = r.vector(1);
        if (suites.empty() || suites.size() % 2 != 0 || compression.empty())
            return {HelloScanState::Invalid, {}, false};
    } else {
        r.bytes(2 + 1);  // cipher_suite, legacy_compression_method
    }
    if (!r.ok())
        return {HelloScanState::Invalid, {}, false};
    if (!r.at_end()) {
        Reader extensions(r.vector(2));
        if (!r.ok() || !r.at_end())
            return {HelloScanState::Invalid, {}, false};
        while (!extensions.at_end()) {
            const auto ext_type = extensions.number(2);
            const auto data = extensions.vector(2);
            if (!extensions.ok())
                return {HelloScanState::Invalid, {}, false};
            if (ext_type == ext_extended_master_secret)
                scan.extended_master_secret = true;
            else if (ext_type == ext_server_name && type == HelloType::ClientHello)
                scan.server_name = host_name_from(data);
        }
    }
    scan.state = HelloScanState::Complete;
    return scan;
}

}  // namespace

HelloScan scan_hello(std::string_view records, HelloType expected)
{
    std::string message;  // the handshake message, reassembled across records
    Reader r(records);
    for (;;) {
        if (message.size() >= 4) {
            Reader header(message);
            const auto type = header.number(1);
            const auto length = header.number(3);
            if (type != static_cast<std::uint8_t>(expected) || length > max_hello_bytes)
                return {HelloScanState::Invalid, {}, false};
            if (message.size() >= 4 + length)
                return parse_body(std::string_view(message).substr(4, length), expected);
        }
        const auto content_type = r.number(1);
        const auto major = r.number(1);
        r.number(1);  // minor version: wolfSSL decides which versions it accepts
        const auto length = r.number(2);
        if (!r.ok())
            return {};
        if (content_type != record_handshake || major != 3 || length == 0 || length > max_plaintext_record)
            return {HelloScanState::Invalid, {}, false};
        const auto fragment = r.bytes(length);
        if (!r.ok())
            return {};
        message += fragment;
    }
}

}  // namespace tern::tls
