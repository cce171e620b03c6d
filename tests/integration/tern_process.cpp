#include "tern_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tern::test {

namespace {

std::uint16_t free_port()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind(0) failed");
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

std::uint16_t free_port_v6()
{
    const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_loopback;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind([::1]:0) failed");
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin6_port);
}

std::filesystem::path make_temp_dir()
{
    std::string pattern = (std::filesystem::temp_directory_path() / "tern-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    return pattern;
}

std::vector<char*> c_argv(const std::vector<std::string>& argv)
{
    std::vector<char*> out;
    for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
    out.push_back(nullptr);
    return out;
}

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

std::string ternd_path() { return TERND_PATH; }
std::string ternctl_path() { return TERNCTL_PATH; }

RunResult run_program(const std::vector<std::string>& argv, const std::string& input, std::chrono::seconds timeout)
{
    int in_pipe[2];
    int out_pipe[2];
    if (::pipe(in_pipe) != 0 || ::pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        ::dup2(out_pipe[1], 2);
        ::close(in_pipe[1]);
        ::close(out_pipe[0]);
        auto args = c_argv(argv);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    if (!input.empty()) (void)!::write(in_pipe[1], input.data(), input.size());
    ::close(in_pipe[1]);

    RunResult result;
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
        pollfd p{out_pipe[0], POLLIN, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::kill(pid, SIGKILL);
            break;
        }
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        const ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
        if (n <= 0) break;
        result.output.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out_pipe[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

TernProcess::TernProcess() : dir_(make_temp_dir()), starttls_port_(free_port()), direct_tls_port_(free_port())
{
    while (direct_tls_port_ == starttls_port_) direct_tls_port_ = free_port();
    set("server", "domains", R"(["localhost", "example.test"])");
    set("server", "data_dir", "\"" + (dir_ / "data").string() + "\"");
    set("server", "workers", "2");
    set("server", "log_level", "\"debug\"");
    set("c2s", "listen", "[\"127.0.0.1:" + std::to_string(starttls_port_) + "\"]");
    set("c2s", "direct_tls", "[\"127.0.0.1:" + std::to_string(direct_tls_port_) + "\"]");
}

TernProcess::~TernProcess()
{
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    if (!std::getenv("TERN_KEEP_TEST_DIRS")) std::filesystem::remove_all(dir_, ec);
}

void TernProcess::set(const std::string& section, const std::string& key, const std::string& toml_value)
{
    sections_[section][key] = toml_value;
}

void TernProcess::listen_ipv6()
{
    starttls_port_v6_ = free_port_v6();
    set("c2s", "listen",
        "[\"127.0.0.1:" + std::to_string(starttls_port_) + "\", \"[::1]:" + std::to_string(starttls_port_v6_) + "\"]");
}

void TernProcess::write_config() const
{
    std::ofstream out(config_path());
    for (const auto& [section, keys] : sections_) {
        out << "[" << section << "]\n";
        for (const auto& [key, value] : keys) out << key << " = " << value << "\n";
        out << "\n";
    }
    out << extra_toml_;
}

void TernProcess::add_user(const std::string& jid, const std::string& password)
{
    write_config();
    const auto r = run_program({ternctl_path(), "--config", config_path().string(), "adduser", jid}, password + "\n");
    if (r.exit_code != 0) throw std::runtime_error("ternctl adduser failed: " + r.output);
}

void TernProcess::start()
{
    write_config();
    const std::string log_path = (dir_ / "ternd.log").string();
    std::filesystem::remove(log_path);  // a restart must not find the previous run's "ready" line
    pid_ = ::fork();
    if (pid_ == 0) {
        const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        std::vector<std::string> argv{ternd_path(), "--config", config_path().string()};
        auto args = c_argv(argv);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (log().find("event=ternd.ready") == std::string::npos) {
        if (!running()) throw std::runtime_error("ternd exited during start-up; log:\n" + log());
        if (std::chrono::steady_clock::now() > give_up)
            throw std::runtime_error("ternd did not become ready; log:\n" + log());
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

bool TernProcess::running()
{
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
    }
    return true;
}

void TernProcess::reload()
{
    if (pid_ > 0) ::kill(pid_, SIGHUP);
}

void TernProcess::kill_hard()
{
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

int TernProcess::stop(std::chrono::seconds timeout)
{
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < give_up) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return -1;
}

std::string TernProcess::log() const
{
    return read_file(dir_ / "ternd.log");
}

bool TernProcess::wait_for_log(const std::string& needle, std::chrono::milliseconds timeout) const
{
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    do {
        if (log().find(needle) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } while (std::chrono::steady_clock::now() < give_up);
    return false;
}

}  // namespace tern::test
