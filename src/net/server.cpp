#include "net/server.hpp"

#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <system_error>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/signal_set.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "base/log.hpp"
#include "net/connection.hpp"
#include "modules/modules.hpp"
#include "net/runtime.hpp"
#include "store/accounts.hpp"
#include "store/roster.hpp"
#include "store/secret.hpp"
#include "tls/context.hpp"
#include "tls/self_signed.hpp"

namespace tern::net {

namespace {

namespace fs = std::filesystem;
constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds shutdown_grace{5};
constexpr std::chrono::seconds tick_interval{60};

log::Level to_log_level(config::LogLevel level)
{
    switch (level) {
    case config::LogLevel::Error: return log::Level::Error;
    case config::LogLevel::Warn: return log::Level::Warn;
    case config::LogLevel::Info: return log::Level::Info;
    case config::LogLevel::Debug: return log::Level::Debug;
    }
    return log::Level::Info;
}

std::shared_ptr<const server::SessionConfig> make_session_config(const config::Config& config,
                                                                  const std::string& sasl_secret)
{
    auto session = std::make_shared<server::SessionConfig>();
    session->domains = config.server.domains;
    session->require_tls = config.c2s.require_tls;
    session->xml_limits.max_stanza_bytes = config.limits.max_stanza_bytes;
    session->xml_limits.max_depth = config.limits.max_depth;
    session->xml_limits.max_attributes = config.limits.max_attributes;
    for (const auto mechanism : config.sasl.mechanisms)
        session->sasl_mechanisms.emplace_back(config::to_string(mechanism));
    session->scram_iterations = config.sasl.scram_iterations;
    session->unknown_user_secret = sasl_secret;
    session->strict_channel_binding_flag = config.sasl.strict_channel_binding_flag;
    session->sm_resume_timeout = config.limits.sm_resume_timeout;
    session->max_unacked_bytes = config.limits.max_outbox_bytes;
    return session;
}

// The certificate files for each served domain: configured ones, or a self-signed certificate for all
// domains generated into data_dir/tls on first start.
expected<tls::ServerCertificates, std::string> certificate_files(const config::Config& config)
{
    tls::ServerCertificates certificates;
    certificates.default_domain = config.server.domains.front();
    config::CertificatePaths defaults = config.tls.defaults;
    if (defaults.certificate.empty()) {
        const fs::path dir = config.server.data_dir / "tls";
        defaults.certificate = dir / "self-signed.crt";
        defaults.key = dir / "self-signed.key";
        if (!fs::exists(defaults.certificate) || !fs::exists(defaults.key)) {
            std::error_code ec;
            fs::create_directories(dir, ec);
            if (ec) return make_unexpected("cannot create " + dir.string() + ": " + ec.message());
            const auto now = std::chrono::system_clock::now();
            const auto unix_now = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
            auto made = tls::generate_self_signed(defaults.certificate.string(), defaults.key.string(),
                                                  config.server.domains, unix_now);
            if (!made) return make_unexpected(made.error());
            log::warn("tls.self_signed", "certificate={} domains={} note={}", log::quote(defaults.certificate.string()),
                      config.server.domains.size(),
                      log::quote("clients will not trust it; configure [tls] certificate and key for production"));
        }
    }
    for (const auto& domain : config.server.domains) {
        const auto it = config.tls.domains.find(domain);
        const config::CertificatePaths& paths = it != config.tls.domains.end() ? it->second : defaults;
        certificates.domains[domain] = {paths.certificate.string(), paths.key.string()};
    }
    return certificates;
}

// Each connection is a descriptor: raise the soft limit to the hard one (the usual soft limit of 1024
// would cap ternd at about a thousand clients). Returns the soft limit in effect.
rlim_t raise_open_file_limit()
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
    // An unlimited hard limit still stops at the kernel's fs.nr_open (2^20 by default).
    const rlim_t target = limit.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : limit.rlim_max;
    if (limit.rlim_cur < target) {
        rlimit raised = limit;
        raised.rlim_cur = target;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    return limit.rlim_cur;
}

expected<Snapshot, std::string> make_snapshot(const config::Config& config, const config::Config* previous,
                                              const std::string& sasl_secret)
{
    auto certificates = certificate_files(config);
    if (!certificates) return make_unexpected(certificates.error());
    auto context = tls::Context::create_server(*certificates);
    if (!context) return make_unexpected(context.error());
    auto iq = std::make_shared<server::IqDispatcher>();
    auto hooks = std::make_shared<server::Hooks>();
    modules::register_all(*iq, *hooks, config, previous);
    return Snapshot{std::make_shared<const config::Config>(config), make_session_config(config, sasl_secret),
                    std::move(*context), std::move(iq), std::move(hooks)};
}

}  // namespace

struct Server::Impl {
    config::Config config;
    std::string config_path;

    std::string sasl_secret;  // data_dir/sasl_secret, read once: data_dir cannot change on reload
    // Blocking work: every SQLite call (account lookups of logins, rosters, presence) and PBKDF2 of PLAIN
    // logins. A few threads more than cores: a job may wait out the store's busy timeout.
    BlockingPool blocking{4};
    std::unique_ptr<Runtime> runtime;
    // Declared before `main`, so they outlive it: an accept still pending on `main` at shutdown holds a socket
    // of a worker's context, which destroying `main` destroys.
    std::vector<std::unique_ptr<Worker>> workers;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    asio::io_context main{1};
    std::vector<std::thread> threads;
    std::vector<asio::ip::tcp::acceptor> acceptors;
    std::vector<config::Listener> listeners;  // fixed at start: connections refer to their listener
    asio::signal_set signals{main, SIGINT, SIGTERM, SIGHUP};
    std::size_t next_worker = 0;
    bool stopping = false;

    expected<void, std::string> prepare();
    expected<void, std::string> listen(const config::Listener& listener);
    asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor, const config::Listener& listener);
    void wait_for_signal();
    void reload();
    void begin_stop();
    asio::awaitable<void> finish_stop();
    void for_each_connection(std::function<void(Connection&)> action);
    asio::awaitable<void> tick_loop();
};

expected<void, std::string> Server::Impl::prepare()
{
    std::error_code ec;
    const fs::path& data_dir = config.server.data_dir;
    fs::create_directories(data_dir, ec);
    if (ec) return make_unexpected("cannot create data_dir " + data_dir.string() + ": " + ec.message());
    ::chmod(data_dir.c_str(), 0700);

    auto secret = store::load_or_create_secret(data_dir / store::sasl_secret_file_name);
    if (!secret) return make_unexpected(secret.error());
    sasl_secret = std::move(*secret);

    const fs::path accounts = data_dir / store::accounts_file_name;
    if (auto store = store::AccountStore::open(accounts.string()); !store)
        return make_unexpected("cannot open the account store " + accounts.string() + ": " + store.error().message);
    const fs::path roster = data_dir / store::roster_file_name;
    if (auto store = store::RosterStore::open(roster.string()); !store)
        return make_unexpected("cannot open the roster store " + roster.string() + ": " + store.error().message);

    auto snapshot = make_snapshot(config, nullptr, sasl_secret);
    if (!snapshot) return make_unexpected(snapshot.error());
    runtime = std::make_unique<Runtime>(std::move(*snapshot), accounts, blocking);
    return {};
}

expected<void, std::string> Server::Impl::listen(const config::Listener& listener)
{
    const config::ListenAddress& address = listener.address;
    asio::error_code ec;
    const auto ip = asio::ip::make_address(address.host, ec);
    if (ec) return make_unexpected("cannot listen on " + address.to_string() + ": " + ec.message());
    asio::ip::tcp::acceptor acceptor(main);
    const asio::ip::tcp::endpoint endpoint(ip, address.port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec && ip.is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return make_unexpected("cannot listen on " + address.to_string() + ": " + ec.message());
    acceptors.push_back(std::move(acceptor));
    asio::co_spawn(main, accept_loop(acceptors.back(), listener), asio::detached);
    std::string proxies;
    for (const auto& prefix : listener.proxy_from) proxies += (proxies.empty() ? "" : ",") + prefix.to_string();
    log::info("c2s.listen", "address={} mode={} proxy_from={}", address.to_string(),
              listener.mode == config::ListenerMode::DirectTls ? "direct-tls" : "starttls",
              listener.proxy_protocol ? log::quote(proxies) : std::string("-"));
    return {};
}

asio::awaitable<void> Server::Impl::accept_loop(asio::ip::tcp::acceptor& acceptor, const config::Listener& listener)
{
    asio::steady_timer backoff(main);
    while (!stopping) {
        Worker& worker = *workers[next_worker++ % workers.size()];
        auto [ec, socket] = co_await acceptor.async_accept(worker.context, nothrow);
        if (stopping) break;
        if (ec) {
            // Out of descriptors or a transient error: log and retry shortly instead of spinning.
            log::warn("c2s.accept_failed", "error={}", log::quote(ec.message()));
            backoff.expires_after(std::chrono::milliseconds(100));
            co_await backoff.async_wait(nothrow);
            continue;
        }
        auto connection = std::make_shared<Connection>(std::move(socket), listener, *runtime, worker, blocking);
        asio::post(worker.context, [connection] { connection->start(); });
    }
}

void Server::Impl::wait_for_signal()
{
    signals.async_wait([this](const asio::error_code& ec, int signal) {
        if (ec) return;
        if (signal == SIGHUP) {
            reload();
            wait_for_signal();
            return;
        }
        log::info("ternd.stopping", "signal={}", signal == SIGINT ? "SIGINT" : "SIGTERM");
        begin_stop();
    });
}

void Server::Impl::reload()
{
    if (config_path.empty()) {
        log::info("ternd.reload_skipped", "reason={}", log::quote("running on the embedded default configuration"));
        return;
    }
    auto loaded = config::load_file(config_path);
    if (!loaded) {
        log::error("ternd.reload_failed", "error={}", log::quote(loaded.error().to_string()));
        return;
    }
    config::Config next = std::move(*loaded);
    // Listeners, threads and the data directory are fixed for the life of the process.
    const auto keep = [&](bool changed, std::string_view key, auto& field, const auto& current) {
        if (!changed) return;
        log::warn("ternd.reload_needs_restart", "key={}", key);
        field = current;
    };
    keep(next.c2s.listen != config.c2s.listen, "c2s.listen", next.c2s.listen, config.c2s.listen);
    keep(next.c2s.direct_tls != config.c2s.direct_tls, "c2s.direct_tls", next.c2s.direct_tls, config.c2s.direct_tls);
    keep(next.c2s.proxy_protocol != config.c2s.proxy_protocol, "c2s.proxy_protocol", next.c2s.proxy_protocol,
         config.c2s.proxy_protocol);
    keep(next.c2s.proxy_from != config.c2s.proxy_from, "c2s.proxy_from", next.c2s.proxy_from, config.c2s.proxy_from);
    keep(next.c2s.listeners != config.c2s.listeners, "c2s.listener", next.c2s.listeners, config.c2s.listeners);
    keep(next.server.workers != config.server.workers, "server.workers", next.server.workers, config.server.workers);
    keep(next.server.data_dir != config.server.data_dir, "server.data_dir", next.server.data_dir, config.server.data_dir);

    auto snapshot = make_snapshot(next, &config, sasl_secret);
    if (!snapshot) {
        log::error("ternd.reload_failed", "error={}", log::quote(snapshot.error()));
        return;
    }
    runtime->replace(std::move(*snapshot));
    for_each_connection([](Connection& c) { c.reloaded(); });
    log::set_level(to_log_level(next.server.log_level));
    config = std::move(next);
    log::info("ternd.reloaded", "config={} domains={}", log::quote(config_path), config.server.domains.size());
}

void Server::Impl::for_each_connection(std::function<void(Connection&)> action)
{
    for (auto& worker : workers) {
        asio::post(worker->context, [w = worker.get(), action] {
            // A copy: an action may end a connection, which removes it from the map.
            std::vector<std::shared_ptr<Connection>> open;
            open.reserve(w->connections.size());
            for (auto& [ptr, connection] : w->connections) open.push_back(connection);
            for (auto& connection : open) action(*connection);
        });
    }
}

asio::awaitable<void> Server::Impl::tick_loop()
{
    asio::steady_timer timer(main);
    while (!stopping) {
        timer.expires_after(tick_interval);
        co_await timer.async_wait(nothrow);
        if (stopping) break;
        const auto now = std::chrono::system_clock::now();
        for_each_connection([now](Connection& c) { c.tick(now); });
    }
}

void Server::Impl::begin_stop()
{
    if (stopping) return;
    stopping = true;
    signals.cancel();
    for (auto& acceptor : acceptors) {
        asio::error_code ec;
        acceptor.close(ec);
    }
    for_each_connection([](Connection& c) { c.shutdown(); });
    asio::co_spawn(main, finish_stop(), asio::detached);
}

asio::awaitable<void> Server::Impl::finish_stop()
{
    // Streams get </stream:stream> and close_notify; wait for them to finish, within a bound.
    asio::steady_timer poll(main);
    const auto give_up = std::chrono::steady_clock::now() + shutdown_grace;
    while (runtime->connections().load() > 0 && std::chrono::steady_clock::now() < give_up) {
        poll.expires_after(std::chrono::milliseconds(20));
        co_await poll.async_wait(nothrow);
    }
    const std::size_t left = runtime->connections().load();
    if (left > 0) log::warn("ternd.stop_forced", "connections={}", left);
    for (auto& guard : guards) guard.reset();
    for (auto& worker : workers) worker->context.stop();
    main.stop();
}

Server::Server(config::Config config, std::string config_path) : impl_(std::make_unique<Impl>())
{
    impl_->config = std::move(config);
    impl_->config_path = std::move(config_path);
}

Server::~Server() = default;

int Server::run()
{
    Impl& s = *impl_;
    log::set_level(to_log_level(s.config.server.log_level));
    const rlim_t open_files = raise_open_file_limit();
    log::info("ternd.open_files", "limit={}", open_files);
    if (auto ready = s.prepare(); !ready) {
        log::error("ternd.start_failed", "error={}", log::quote(ready.error()));
        return 1;
    }

    unsigned count = s.config.server.workers;
    if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < count; ++i) {
        s.workers.push_back(std::make_unique<Worker>());
        s.guards.push_back(asio::make_work_guard(s.workers.back()->context));
    }
    s.listeners = s.config.c2s.all_listeners();
    s.acceptors.reserve(s.listeners.size());
    for (const auto& listener : s.listeners) {
        if (auto ok = s.listen(listener); !ok) {
            log::error("ternd.start_failed", "error={}", log::quote(ok.error()));
            return 1;
        }
    }
    s.wait_for_signal();
    asio::co_spawn(s.main, s.tick_loop(), asio::detached);

    for (auto& worker : s.workers)
        s.threads.emplace_back([w = worker.get()] {
            w->context.run();
            tls::release_thread_caches();
        });
    log::info("ternd.ready", "domains={} workers={} data_dir={}", log::quote(fmt::format("{}", fmt::join(s.config.server.domains, ","))),
              count, log::quote(s.config.server.data_dir.string()));
    s.main.run();
    for (auto& thread : s.threads) thread.join();
    s.blocking.join();
    for (auto& worker : s.workers) worker->connections.clear();
    tls::release_thread_caches();  // the key checks of Context ran on this thread
    log::info("ternd.stopped", "");
    return 0;
}

}  // namespace tern::net
