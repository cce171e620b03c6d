// XEP-0215 credential replies per second from a running ternd (bench/extdisco_bench.sh starts one).
// C connections log in (STARTTLS, PLAIN, bind), then each keeps W requests in flight for the measured
// time: a <credentials/> request for one TURN REST service (one HMAC per reply), or <services/> (all).
// With --server-pid it also reads the server's CPU time, so replies per server CPU-second (per core) are
// known even though client and server share the machine.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "crypto/crypto.hpp"
#include "tls/context.hpp"
#include "tls/engine.hpp"
#include "xml/tokenizer.hpp"

using namespace tern;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    std::string host = "127.0.0.1";
    int port = 5222;
    std::string domain = "localhost";
    std::string user = "bench";
    std::string password = "bench";
    int connections = 1;
    int window = 64;
    double seconds = 5;
    std::string payload = "credentials";  // or "services"
    std::string turn_host = "127.0.0.1";
    std::string turn_type = "turns";
    int server_pid = 0;
};

[[noreturn]] void usage()
{
    std::fputs("usage: extdisco_bench --port P [--host IP] [--domain D] [--user U] [--password P]\n"
               "         [--connections C] [--window W] [--seconds S] [--payload credentials|services]\n"
               "         [--turn-host H] [--turn-type T] [--server-pid PID]\n",
               stderr);
    std::exit(2);
}

Options parse(int argc, char** argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) usage();
        const std::string value = argv[++i];
        if (arg == "--host") o.host = value;
        else if (arg == "--port") o.port = std::stoi(value);
        else if (arg == "--domain") o.domain = value;
        else if (arg == "--user") o.user = value;
        else if (arg == "--password") o.password = value;
        else if (arg == "--connections") o.connections = std::stoi(value);
        else if (arg == "--window") o.window = std::stoi(value);
        else if (arg == "--seconds") o.seconds = std::stod(value);
        else if (arg == "--payload") o.payload = value;
        else if (arg == "--turn-host") o.turn_host = value;
        else if (arg == "--turn-type") o.turn_type = value;
        else if (arg == "--server-pid") o.server_pid = std::stoi(value);
        else usage();
    }
    if (o.connections < 1 || o.window < 1 || o.seconds <= 0) usage();
    if (o.payload != "credentials" && o.payload != "services") usage();
    return o;
}

// user + system CPU seconds of a process, from /proc.
double cpu_seconds(int pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(text.substr(close + 2));
    std::string skip;
    for (int i = 0; i < 11; ++i) fields >> skip;  // state .. cmajflt
    long long utime = 0;
    long long stime = 0;
    fields >> utime >> stime;
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

class Connection {
public:
    Connection(const Options& o, std::shared_ptr<const tls::Context> context) : tokenizer_(xml::Limits{})
    {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(o.port));
        ::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect failed");
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        login(o, std::move(context));
        ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    }
    ~Connection() { ::close(fd_); }

    int fd() const { return fd_; }

    // Measurement phase: encrypt requests into the pending output and send what the socket takes.
    void queue(std::string_view plain)
    {
        tls_->write(plain);
        pending_ += tls_->take_outgoing();
    }
    bool flush()
    {
        while (!pending_.empty()) {
            const ssize_t n = ::send(fd_, pending_.data(), pending_.size(), MSG_NOSIGNAL);
            if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
            pending_.erase(0, static_cast<std::size_t>(n));
        }
        return true;
    }
    bool wants_write() const { return !pending_.empty(); }

    // Reads what is there; counts IQ results and errors. False when the connection ended.
    bool receive(std::uint64_t& results, std::uint64_t& errors)
    {
        char buf[65536];
        for (;;) {
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n == 0) return false;
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                return false;
            }
            tls_->feed({buf, static_cast<std::size_t>(n)});
        }
        plain_.clear();
        if (tls_->read(plain_) == tls::Status::Failed) return false;
        if (tls_->has_outgoing()) pending_ += tls_->take_outgoing();
        tokenizer_.feed(plain_);
        for (xml::Event e = tokenizer_.next(); e.kind != xml::EventKind::NeedMore; e = tokenizer_.next()) {
            if (e.kind != xml::EventKind::Stanza) return false;
            const std::string_view head = e.bytes.substr(0, e.bytes.find('>'));
            if (head.find("type='result'") != std::string_view::npos) ++results;
            else if (head.find("type='error'") != std::string_view::npos) ++errors;
        }
        return true;
    }

private:
    void send_blocking(std::string_view plain)
    {
        std::string wire;
        if (tls_) {
            tls_->write(plain);
            wire = tls_->take_outgoing();
        } else {
            wire = plain;
        }
        std::string_view rest = wire;
        while (!rest.empty()) {
            const ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
            if (n <= 0) throw std::runtime_error("send failed");
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    bool read_blocking()
    {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20000) <= 0) throw std::runtime_error("timed out waiting for the server");
        char buf[16384];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) throw std::runtime_error("the server closed the connection");
        if (!tls_) {
            plain_.append(buf, static_cast<std::size_t>(n));
            return true;
        }
        tls_->feed({buf, static_cast<std::size_t>(n)});
        tls_->read(plain_);
        if (tls_->has_outgoing()) send_raw(tls_->take_outgoing());
        return true;
    }

    void send_raw(std::string_view bytes)
    {
        while (!bytes.empty()) {
            const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) throw std::runtime_error("send failed");
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    // The next top-level element (or the stream header), as bytes.
    std::string next(xml::EventKind expected = xml::EventKind::Stanza)
    {
        for (;;) {
            if (!plain_.empty()) {
                tokenizer_.feed(plain_);
                plain_.clear();
            }
            const xml::Event e = tokenizer_.next();
            if (e.kind == expected) return std::string(e.bytes);
            if (e.kind != xml::EventKind::NeedMore) throw std::runtime_error("unexpected: " + std::string(e.bytes));
            read_blocking();
        }
    }

    void open_stream(const Options& o)
    {
        tokenizer_.restart();
        send_blocking("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                      "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='" + o.domain + "'>");
        next(xml::EventKind::StreamOpen);
        next();  // features
    }

    void login(const Options& o, std::shared_ptr<const tls::Context> context)
    {
        open_stream(o);
        send_blocking("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        if (next().find("<proceed") != 0) throw std::runtime_error("STARTTLS refused");
        tls_.emplace(tls::Engine::client(std::move(context), {.server_name = o.domain}));
        for (;;) {
            const tls::Status status = tls_->handshake();
            if (tls_->has_outgoing()) send_raw(tls_->take_outgoing());
            if (status == tls::Status::Done) break;
            if (status != tls::Status::WantRead) throw std::runtime_error("TLS handshake failed");
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 20000) <= 0) throw std::runtime_error("TLS handshake timed out");
            char buf[16384];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) throw std::runtime_error("closed in the TLS handshake");
            tls_->feed({buf, static_cast<std::size_t>(n)});
        }
        tls_->read(plain_);
        open_stream(o);
        const std::string nul(1, '\0');
        send_blocking("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
                      crypto::base64_encode(nul + o.user + nul + o.password) + "</auth>");
        if (next().find("<success") != 0) throw std::runtime_error("authentication failed");
        open_stream(o);
        send_blocking("<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
        if (next().find("type='result'") == std::string::npos) throw std::runtime_error("bind failed");
    }

    int fd_ = -1;
    std::optional<tls::Engine> tls_;
    xml::Tokenizer tokenizer_;
    std::string plain_;
    std::string pending_;
};

}  // namespace

int main(int argc, char** argv)
{
    const Options o = parse(argc, argv);
    auto context = tls::Context::create_client();
    if (!context) {
        std::fprintf(stderr, "TLS context: %s\n", context.error().c_str());
        return 1;
    }
    const std::string request =
        o.payload == "credentials"
            ? "<iq type='get' id='c' to='" + o.domain + "'><credentials xmlns='urn:xmpp:extdisco:2'><service host='" +
                  o.turn_host + "' type='" + o.turn_type + "'/></credentials></iq>"
            : "<iq type='get' id='s' to='" + o.domain + "'><services xmlns='urn:xmpp:extdisco:2'/></iq>";

    std::vector<std::unique_ptr<Connection>> connections;
    try {
        for (int i = 0; i < o.connections; ++i) connections.push_back(std::make_unique<Connection>(o, *context));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "login %zu failed: %s\n", connections.size() + 1, e.what());
        return 1;
    }

    std::string window_of_requests;
    for (int i = 0; i < o.window; ++i) window_of_requests += request;
    for (auto& c : connections) c->queue(window_of_requests);

    std::uint64_t results = 0;
    std::uint64_t errors = 0;
    const int epoll = ::epoll_create1(0);
    for (std::size_t i = 0; i < connections.size(); ++i) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(epoll, EPOLL_CTL_ADD, connections[i]->fd(), &ev);
    }
    std::vector<bool> watching_out(connections.size(), false);
    const auto watch = [&](std::size_t i) {
        Connection& c = *connections[i];
        c.flush();
        if (c.wants_write() == watching_out[i]) return;
        watching_out[i] = c.wants_write();
        epoll_event ev{};
        ev.events = EPOLLIN | (c.wants_write() ? EPOLLOUT : 0u);
        ev.data.u64 = i;
        ::epoll_ctl(epoll, EPOLL_CTL_MOD, c.fd(), &ev);
    };
    for (std::size_t i = 0; i < connections.size(); ++i) watch(i);

    const auto warmup_end = Clock::now() + std::chrono::seconds(1);
    const auto end = warmup_end + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
    std::uint64_t results_at_start = 0;
    double cpu_at_start = 0;
    bool measuring = false;
    Clock::time_point measure_start;
    std::string batch;
    std::vector<epoll_event> events(1024);
    while (Clock::now() < end) {
        if (!measuring && Clock::now() >= warmup_end) {
            measuring = true;
            measure_start = Clock::now();
            results_at_start = results;
            if (o.server_pid) cpu_at_start = cpu_seconds(o.server_pid);
        }
        const int n = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), 100);
        for (int k = 0; k < n; ++k) {
            const std::size_t i = events[static_cast<std::size_t>(k)].data.u64;
            if (events[static_cast<std::size_t>(k)].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                const std::uint64_t before = results + errors;
                if (!connections[i]->receive(results, errors)) {
                    std::fprintf(stderr, "connection %zu ended\n", i);
                    return 1;
                }
                // Keep the window full: one new request per reply.
                batch.clear();
                for (std::uint64_t r = before; r < results + errors; ++r) batch += request;
                if (!batch.empty()) connections[i]->queue(batch);
            }
            watch(i);
        }
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - measure_start).count();
    const double replies = static_cast<double>(results - results_at_start);
    std::printf("payload=%s connections=%d window=%d seconds=%.2f replies=%.0f errors=%llu replies_per_s=%.0f",
                o.payload.c_str(), o.connections, o.window, elapsed, replies, static_cast<unsigned long long>(errors),
                replies / elapsed);
    if (o.server_pid) {
        const double cpu = cpu_seconds(o.server_pid) - cpu_at_start;
        std::printf(" server_cpu_s=%.2f replies_per_server_cpu_s=%.0f", cpu, cpu > 0 ? replies / cpu : 0.0);
    }
    std::printf("\n");
    return errors == 0 ? 0 : 1;
}
