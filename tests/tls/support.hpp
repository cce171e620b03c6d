#pragma once

// Shared helpers for the tls tests: certificates generated into a temporary directory (no private keys in
// the tree) and in-memory pumping between a client and a server Engine.
#include "tls/context.hpp"
#include "tls/engine.hpp"
#include "tls/self_signed.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tern::tls::test {

inline constexpr std::int64_t test_now = 1700000000;  // 2023-11-14T22:13:20Z

class TempDir {
public:
    TempDir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "tern-tls-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

inline std::string read_text(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_text(const std::string& path, const std::string& data)
{
    std::ofstream(path, std::ios::binary) << data;
}

// Two hosted domains with their own self-signed certificates; example.org is the default.
struct Certificates {
    TempDir dir;
    CertificateFiles main{dir.file("main.pem"), dir.file("main.key")};
    CertificateFiles other{dir.file("other.pem"), dir.file("other.key")};

    Certificates()
    {
        // Valid now: clients that verify check the dates against the clock.
        const std::int64_t now = std::time(nullptr);
        REQUIRE(generate_self_signed(main.certificate_path, main.key_path, {"example.org", "conference.example.org"},
                                     now));
        REQUIRE(generate_self_signed(other.certificate_path, other.key_path, {"other.test"}, now));
    }

    ServerCertificates server_certificates() const
    {
        return {"example.org", {{"example.org", main}, {"other.test", other}}};
    }
};

inline std::shared_ptr<const Context> server_context(const Certificates& certs)
{
    auto context = Context::create_server(certs.server_certificates());
    REQUIRE_MESSAGE(context, (context ? "" : context.error()));
    return *context;
}

inline std::shared_ptr<const Context> client_context(ClientContextOptions options = {})
{
    auto context = Context::create_client(options);
    REQUIRE_MESSAGE(context, (context ? "" : context.error()));
    return *context;
}

// Shuttles bytes both ways until neither side waits for the other; returns each side's last status.
inline std::pair<Status, Status> run_handshake(Engine& client, Engine& server)
{
    Status c = Status::WantRead;
    Status s = Status::WantRead;
    for (int round = 0; round < 16; ++round) {
        if (c == Status::WantRead)
            c = client.handshake();
        if (client.has_outgoing())
            server.feed(client.take_outgoing());
        if (s == Status::WantRead)
            s = server.handshake();
        if (server.has_outgoing())
            client.feed(server.take_outgoing());
        if (c != Status::WantRead && s != Status::WantRead && !client.has_outgoing() && !server.has_outgoing())
            break;
    }
    return {c, s};
}

// Writes `data` on `from` and returns what `to` decrypts from it.
inline std::string transfer(Engine& from, Engine& to)
{
    std::string received;
    if (from.has_outgoing())
        to.feed(from.take_outgoing());
    CHECK(to.read(received) == Status::WantRead);
    return received;
}

inline std::string send(Engine& from, Engine& to, std::string_view data)
{
    REQUIRE(from.write(data) == Status::Done);
    return transfer(from, to);
}

struct Connection {
    Engine client;
    Engine server;
};

inline Connection connect(const std::shared_ptr<const Context>& server_ctx,
                          const std::shared_ptr<const Context>& client_ctx, ClientOptions client_options = {},
                          ServerOptions server_options = {})
{
    Connection c{Engine::client(client_ctx, client_options), Engine::server(server_ctx, server_options)};
    const auto [client_status, server_status] = run_handshake(c.client, c.server);
    REQUIRE_MESSAGE(client_status == Status::Done, c.client.last_error());
    REQUIRE_MESSAGE(server_status == Status::Done, c.server.last_error());
    // Let the client take in what followed the handshake (TLS 1.3 session tickets).
    std::string none;
    CHECK(c.client.read(none) == Status::WantRead);
    CHECK(none.empty());
    return c;
}

}  // namespace tern::tls::test
