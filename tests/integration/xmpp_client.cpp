#include "xmpp_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "sasl/scram_client.hpp"
#include "xmpp/ns.hpp"

namespace tern::test {

namespace {

std::string sasl_payload(std::string_view text)
{
    auto decoded = crypto::base64_decode(text);
    if (!decoded) throw std::runtime_error("server sent invalid base64: " + std::string(text));
    return *decoded;
}

}  // namespace

XmppClient::XmppClient(std::uint16_t port, const std::string& host) : tokenizer_(xml::Limits{.max_stanza_bytes = 1 << 20})
{
    sockaddr_storage storage{};
    socklen_t size = 0;
    if (host.find(':') == std::string::npos) {
        auto& addr = reinterpret_cast<sockaddr_in&>(storage);
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) throw std::runtime_error("bad IPv4 address " + host);
        size = sizeof addr;
    } else {
        auto& addr = reinterpret_cast<sockaddr_in6&>(storage);
        addr.sin6_family = AF_INET6;
        addr.sin6_port = htons(port);
        if (::inet_pton(AF_INET6, host.c_str(), &addr.sin6_addr) != 1) throw std::runtime_error("bad IPv6 address " + host);
        size = sizeof addr;
    }
    fd_ = ::socket(storage.ss_family, SOCK_STREAM, 0);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&storage), size) != 0)
        throw std::runtime_error("connect to " + host + " port " + std::to_string(port) + " failed");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

XmppClient::~XmppClient()
{
    if (fd_ >= 0) ::close(fd_);
}

std::uint16_t XmppClient::local_port() const
{
    sockaddr_storage storage{};
    socklen_t size = sizeof storage;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &size);
    return storage.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(storage).sin6_port)
                                         : ntohs(reinterpret_cast<sockaddr_in&>(storage).sin_port);
}

void XmppClient::write_raw(std::string_view bytes)
{
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) throw std::runtime_error("send failed");
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

void XmppClient::flush_tls()
{
    if (tls_ && tls_->has_outgoing()) write_raw(tls_->take_outgoing());
}

void XmppClient::send(std::string_view bytes)
{
    if (!tls_) return write_raw(bytes);
    if (tls_->write(bytes) != tls::Status::Done) throw std::runtime_error("TLS write failed: " + tls_->last_error());
    flush_tls();
}

bool XmppClient::read_raw(std::chrono::milliseconds timeout)
{
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) throw std::runtime_error("timed out waiting for the server");
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    if (!tls_) {
        plain_.append(buf, static_cast<std::size_t>(n));
        return true;
    }
    tls_->feed({buf, static_cast<std::size_t>(n)});
    const auto status = tls_->read(plain_);
    flush_tls();
    return status != tls::Status::Failed && (status != tls::Status::Closed || !plain_.empty());
}

std::optional<Received> XmppClient::take_buffered()
{
    if (buffered_) return std::exchange(buffered_, std::nullopt);
    if (!plain_.empty()) {
        tokenizer_.feed(plain_);
        plain_.clear();
    }
    const xml::Event event = tokenizer_.next();
    if (event.kind == xml::EventKind::NeedMore) return std::nullopt;
    Received r;
    r.kind = event.kind;
    r.bytes = std::string(event.bytes);
    if (event.kind == xml::EventKind::Stanza) {
        auto parsed = xml::Stanza::parse(event, tokenizer_.header().scope());
        if (!parsed) throw std::runtime_error("server sent an unparsable element: " + r.bytes);
        r.stanza = std::move(*parsed);
    }
    if (event.kind == xml::EventKind::Error) throw std::runtime_error("server sent bad XML: " + tokenizer_.error().text);
    return r;
}

Received XmppClient::next(std::chrono::milliseconds timeout)
{
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (auto r = take_buffered()) return std::move(*r);
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - std::chrono::steady_clock::now());
        if (left.count() <= 0) throw std::runtime_error("timed out waiting for the server");
        if (!read_raw(left)) return Received{};
    }
}

xml::Stanza XmppClient::next_stanza(std::chrono::milliseconds timeout)
{
    Received r = next(timeout);
    if (r.kind != xml::EventKind::Stanza)
        throw std::runtime_error("expected a stanza, got event " + std::to_string(static_cast<int>(r.kind)) + ": " + r.bytes);
    return std::move(*r.stanza);
}

xml::Stanza XmppClient::open_stream(std::string_view to)
{
    tokenizer_.restart();
    buffered_.reset();
    send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
         "version='1.0' to='" + std::string(to) + "'>");
    Received header = next();
    if (header.kind != xml::EventKind::StreamOpen) throw std::runtime_error("expected the server's stream header: " + header.bytes);
    xml::Stanza features = next_stanza();
    if (features.name() != "features") throw std::runtime_error("expected features, got " + std::string(features.name()));
    return features;
}

void XmppClient::handshake(const TlsOptions& options)
{
    tls::ClientContextOptions context_options;
    context_options.max_version = options.max_version;
    auto context = tls::Context::create_client(context_options);
    if (!context) throw std::runtime_error(context.error());
    tls::ClientOptions client_options;
    client_options.server_name = options.server_name;
    client_options.alpn = options.alpn;
    tls_.emplace(tls::Engine::client(*context, client_options));
    for (;;) {
        const auto status = tls_->handshake();
        flush_tls();
        if (status == tls::Status::Done) break;
        if (status != tls::Status::WantRead) throw std::runtime_error("TLS handshake failed: " + tls_->last_error());
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) throw std::runtime_error("timed out in the TLS handshake");
        char buf[16384];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) throw std::runtime_error("connection closed in the TLS handshake");
        tls_->feed({buf, static_cast<std::size_t>(n)});
    }
    // Application data may have arrived with the last handshake flight.
    tls_->read(plain_);
    flush_tls();
}

xml::Stanza XmppClient::starttls(const TlsOptions& options)
{
    send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    xml::Stanza proceed = next_stanza();
    if (proceed.name() != "proceed") throw std::runtime_error("expected <proceed/>, got " + std::string(proceed.name()));
    handshake(options);
    return open_stream();
}

std::optional<std::string> XmppClient::channel_binding(std::string_view type) const
{
    return tls_ ? tls_->channel_binding(type) : std::nullopt;
}

std::string XmppClient::scram(std::string_view mechanism, const std::string& user, const std::string& password,
                              const std::string& binding_type, const std::string& binding_data_override)
{
    const bool plus = mechanism.ends_with("-PLUS");
    const crypto::Hash hash = mechanism.starts_with("SCRAM-SHA-256") ? crypto::Hash::Sha256 : crypto::Hash::Sha1;
    sasl::ScramClientOptions options;
    if (plus) {
        options.gs2_flag = "p=" + binding_type;
        options.binding_data =
            binding_data_override.empty() ? channel_binding(binding_type).value_or("") : binding_data_override;
    } else if (binding_type == "y") {
        options.gs2_flag = "y";
    }
    sasl::ScramClient client(hash, user, password, options);
    send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + std::string(mechanism) + "'>" +
         crypto::base64_encode(client.client_first()) + "</auth>");
    xml::Stanza reply = next_stanza();
    if (reply.name() == "failure") return std::string(reply.root().first_child_element().name());
    if (reply.name() != "challenge") throw std::runtime_error("expected a challenge: " + reply.serialize());
    auto final_message = client.client_final(sasl_payload(reply.root().text()));
    if (!final_message) throw std::runtime_error("bad server-first message");
    send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + crypto::base64_encode(*final_message) + "</response>");
    reply = next_stanza();
    if (reply.name() == "failure") return std::string(reply.root().first_child_element().name());
    if (reply.name() != "success") throw std::runtime_error("expected success: " + reply.serialize());
    if (!client.verify_server_final(sasl_payload(reply.root().text())))
        throw std::runtime_error("the server's signature does not verify");
    return "success";
}

std::string XmppClient::scram_server_first(std::string_view mechanism, const std::string& user,
                                           const std::string& binding_type)
{
    const crypto::Hash hash = mechanism.starts_with("SCRAM-SHA-256") ? crypto::Hash::Sha256 : crypto::Hash::Sha1;
    sasl::ScramClientOptions options;
    if (mechanism.ends_with("-PLUS")) {
        options.gs2_flag = "p=" + binding_type;
        options.binding_data = channel_binding(binding_type).value_or("");
    }
    sasl::ScramClient client(hash, user, "unused", options);
    send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + std::string(mechanism) + "'>" +
         crypto::base64_encode(client.client_first()) + "</auth>");
    xml::Stanza reply = next_stanza();
    if (reply.name() == "failure") return "failure:" + std::string(reply.root().first_child_element().name());
    if (reply.name() != "challenge") throw std::runtime_error("expected a challenge: " + reply.serialize());
    std::string server_first = sasl_payload(reply.root().text());
    send("<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    reply = next_stanza();
    if (reply.name() != "failure") throw std::runtime_error("expected a failure after abort: " + reply.serialize());
    return server_first;
}

std::string XmppClient::plain(const std::string& user, const std::string& password)
{
    send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
         crypto::base64_encode(std::string("\0", 1) + user + std::string("\0", 1) + password) + "</auth>");
    xml::Stanza reply = next_stanza(10s);
    if (reply.name() == "failure") return std::string(reply.root().first_child_element().name());
    if (reply.name() != "success") throw std::runtime_error("expected success: " + reply.serialize());
    return "success";
}

std::string XmppClient::bind(const std::string& resource)
{
    std::string request = "<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>";
    if (!resource.empty()) request += "<resource>" + resource + "</resource>";
    request += "</bind></iq>";
    send(request);
    xml::Stanza reply = next_stanza();
    if (reply.attr("type") == "error")
        return std::string(reply.root().child("error", xmpp::ns::client).first_child_element().name());
    return std::string(reply.root().child("bind", xmpp::ns::bind).child("jid", xmpp::ns::bind).text());
}

std::string XmppClient::login(const std::string& user, const std::string& password, const std::string& resource)
{
    open_stream();
    starttls();
    const std::string outcome = scram("SCRAM-SHA-256", user, password);
    if (outcome != "success") throw std::runtime_error("login failed: " + outcome);
    open_stream();
    return bind(resource);
}

std::string XmppClient::expect_stream_error(std::chrono::milliseconds timeout)
{
    std::string condition;
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - std::chrono::steady_clock::now());
        if (left.count() <= 0) throw std::runtime_error("the server did not close the stream");
        Received r = next(left);
        if (r.closed() || r.kind == xml::EventKind::StreamClose) return condition;
        if (r.kind == xml::EventKind::Stanza && r.stanza->name() == "error" && r.stanza->ns() == xml::stream_ns)
            condition = std::string(r.stanza->root().first_child_element().name());
    }
}

bool XmppClient::wait_closed(std::chrono::milliseconds timeout)
{
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    try {
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            if (!read_raw(left)) return true;
        }
    } catch (const std::runtime_error&) {
        return false;
    }
}

void XmppClient::reset_connection()
{
    if (fd_ < 0) return;
    const linger abort_on_close{.l_onoff = 1, .l_linger = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    ::close(fd_);
    fd_ = -1;
}

XmppClient::XmppClient(AdoptSocket, int fd) : fd_(fd), tokenizer_(xml::Limits{.max_stanza_bytes = 1 << 20}) {}

std::unique_ptr<XmppClient> XmppClient::from_address(std::uint16_t port, const std::string& source)
{
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1) throw std::runtime_error("bad IPv4 address " + source);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(port);
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
        ::close(fd);
        throw std::runtime_error("connect from " + source + " to port " + std::to_string(port) + " failed");
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return std::unique_ptr<XmppClient>(new XmppClient(AdoptSocket{}, fd));
}

bool XmppClient::readable(std::chrono::milliseconds wait)
{
    // Whole elements already read count too, not only bytes still on the socket.
    if (buffered_ || !plain_.empty()) return true;
    if ((buffered_ = take_buffered())) return true;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) > 0;
}

void XmppClient::send_client_hello(const TlsOptions& options)
{
    tls::ClientContextOptions context_options;
    context_options.max_version = options.max_version;
    auto context = tls::Context::create_client(context_options);
    if (!context) throw std::runtime_error(context.error());
    tls::ClientOptions client_options;
    client_options.server_name = options.server_name;
    client_options.alpn = options.alpn;
    auto engine = tls::Engine::client(*context, client_options);
    if (engine.handshake() != tls::Status::WantRead) throw std::runtime_error("TLS handshake failed: " + engine.last_error());
    write_raw(engine.take_outgoing());
}

}  // namespace tern::test
