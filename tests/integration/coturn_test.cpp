// End to end with a real coturn: ternd hands out TURN REST credentials over XMPP (XEP-0215) and Debian's
// turnserver, sharing the secret, lets turnutils_uclient allocate a relay with them. A tampered password
// and an expired username are refused. Everything on loopback, on free ports, and stopped at the end.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <thread>

#include "crypto/crypto.hpp"
#include "tern_process.hpp"
#include "xmpp/ns.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;
using namespace std::chrono_literals;

namespace {

const std::string secret = "coturn-shared-secret";

bool bind_loopback(int type, std::uint16_t port)
{
    const int fd = ::socket(AF_INET, type, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// A port free for both TCP and UDP on 127.0.0.1 (coturn listens on both).
std::uint16_t free_turn_port()
{
    for (int attempt = 0; attempt < 50; ++attempt) {
        const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t len = sizeof addr;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        ::close(fd);
        const std::uint16_t port = ntohs(addr.sin_port);
        if (bind_loopback(SOCK_STREAM, port) && bind_loopback(SOCK_DGRAM, port)) return port;
    }
    throw std::runtime_error("no free port for turnserver");
}

bool tcp_accepts(std::uint16_t port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// turnserver with use-auth-secret on loopback (FACTS.md §9), without TLS, DTLS or its CLI.
class Coturn {
public:
    Coturn(const std::filesystem::path& dir, std::uint16_t port) : port_(port)
    {
        const std::vector<std::string> argv{
            TURNSERVER_PATH, "-n", "-L", "127.0.0.1", "--relay-ip=127.0.0.1", "--allow-loopback-peers",
            "--use-auth-secret", "--static-auth-secret=" + secret, "--realm=tern.test", "--no-tls", "--no-dtls",
            "--no-cli", "-p", std::to_string(port),
            "--pidfile", (dir / "turnserver.pid").string(), "--simple-log", "--log-file", (dir / "turnserver.log").string()};
        pid_ = ::fork();
        if (pid_ == 0) {
            const int fd = ::open((dir / "turnserver.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        const auto give_up = std::chrono::steady_clock::now() + 10s;
        while (!tcp_accepts(port_)) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("turnserver exited during start-up");
            }
            if (std::chrono::steady_clock::now() > give_up) throw std::runtime_error("turnserver did not start");
            std::this_thread::sleep_for(20ms);
        }
    }

    ~Coturn()
    {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        const auto give_up = std::chrono::steady_clock::now() + 5s;
        while (std::chrono::steady_clock::now() < give_up) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
            std::this_thread::sleep_for(20ms);
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }

    std::uint16_t port() const { return port_; }

private:
    std::uint16_t port_;
    pid_t pid_ = -1;
};

// One allocation with a few relayed packets; true when coturn accepted the credentials.
bool allocates(std::uint16_t port, const std::string& username, const std::string& password, bool tcp = false)
{
    std::vector<std::string> argv{UCLIENT_PATH, "-y", "-n", "3", "-m", "1", "-l", "100", "-L", "127.0.0.1", "-X",
                                  "-u", username, "-w", password, "-p", std::to_string(port)};
    if (tcp) argv.push_back("-t");
    argv.push_back("127.0.0.1");
    const RunResult r = run_program(argv, {}, 60s);
    CAPTURE(r.output);
    const bool refused = r.output.find("Cannot complete Allocation") != std::string::npos;
    const bool relayed = r.exit_code == 0 && r.output.find("Total lost packets 0 ") != std::string::npos;
    CHECK(refused != relayed);
    return relayed;
}

std::string sign(const std::string& username)
{
    return crypto::base64_encode(crypto::hmac(crypto::Hash::Sha1, secret, username));
}

}  // namespace

TEST_SUITE("coturn")
{
    TEST_CASE("coturn accepts ternd's TURN credentials and refuses tampered and expired ones")
    {
        TernProcess server;
        Coturn coturn(server.dir(), free_turn_port());
        server.set_extra_toml("[turn]\nhost = \"127.0.0.1\"\nport = " + std::to_string(coturn.port()) + "\nsecret = [\"" +
                              secret + "\", \"retired\"]\nttl = 600\nstun = false\nturns = false\n");
        server.add_user("alice@localhost", "wonderland");
        server.start();
        XmppClient client(server.starttls_port());
        REQUIRE(client.login("alice", "wonderland", "phone") == "alice@localhost/phone");

        client.send("<iq type='get' id='c' to='localhost'><credentials xmlns='urn:xmpp:extdisco:2'>"
                    "<service host='127.0.0.1' type='turn' port='" + std::to_string(coturn.port()) +
                    "'/></credentials></iq>");
        const xml::Stanza reply = client.next_stanza();
        REQUIRE(reply.type() == "result");
        std::vector<xml::Element> services;
        for (const xml::Element s : reply.root().first_child_element().children()) services.push_back(s);
        REQUIRE(services.size() == 2);
        CHECK(services[0].attr("transport") == "udp");
        CHECK(services[1].attr("transport") == "tcp");
        const std::string username{services[0].attr("username")};
        const std::string password{services[0].attr("password")};
        CHECK(username.ends_with(":alice@localhost"));

        CHECK(allocates(coturn.port(), username, password));
        CHECK(allocates(coturn.port(), std::string(services[1].attr("username")), std::string(services[1].attr("password")),
                        true));

        std::string tampered = password;
        tampered[0] = tampered[0] == 'A' ? 'B' : 'A';
        CHECK_FALSE(allocates(coturn.port(), username, tampered));
        CHECK_FALSE(allocates(coturn.port(), username, sign(username + "x")));

        // The same scheme with a timestamp a minute in the past: coturn allows no skew.
        const std::string expired = std::to_string(std::time(nullptr) - 60) + ":alice@localhost";
        CHECK_FALSE(allocates(coturn.port(), expired, sign(expired)));
        // ... while the same signature over a future timestamp passes, so the expiry alone made the difference.
        const std::string fresh = std::to_string(std::time(nullptr) + 600) + ":alice@localhost";
        CHECK(allocates(coturn.port(), fresh, sign(fresh)));
    }
}
