#include "canary.hpp"

#include <stdexcept>

#include "xmpp/ns.hpp"

namespace tern::test {

namespace {

constexpr const char* first_user = "canary-a";
constexpr const char* second_user = "canary-b";
constexpr const char* password = "tweet-tweet";

using Clock = std::chrono::steady_clock;

// Reads until a stanza named `name` with id `id` arrives; other stanzas are skipped (an IQ get, such as the
// server's idle ping, is answered). Throws when the bound passes first.
xml::Stanza wait_for(XmppClient& client, std::string_view name, const std::string& id, Clock::time_point sent)
{
    const auto give_up = sent + Canary::reply_bound;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - Clock::now());
        if (left.count() <= 0) throw std::runtime_error("no " + std::string(name) + " '" + id + "' within the bound");
        xml::Stanza stanza = client.next_stanza(left);
        if (stanza.name() == name && stanza.attr("id") == id) return stanza;
        if (stanza.name() == "iq" && stanza.attr("type") == "get")
            client.send("<iq type='result' id='" + std::string(stanza.attr("id")) + "' to='" +
                        std::string(stanza.attr("from")) + "'/>");
    }
}

void expect_type(const xml::Stanza& stanza, std::string_view type)
{
    if (stanza.attr("type") != type)
        throw std::runtime_error("expected type '" + std::string(type) + "': " + stanza.serialize());
}

}  // namespace

void Canary::add_accounts(TernProcess& server)
{
    server.add_user(std::string(first_user) + "@localhost", password);
    server.add_user(std::string(second_user) + "@localhost", password);
}

Canary::Canary(const TernProcess& server) : first_(server.starttls_port()), second_(server.starttls_port())
{
    first_jid_ = first_.login(first_user, password, "canary");
    second_jid_ = second_.login(second_user, password, "canary");
}

Canary::~Canary()
{
    if (thread_.joinable()) stop();
}

void Canary::round()
{
    const std::string n = std::to_string(++counter_);

    auto sent = Clock::now();
    first_.send("<message type='chat' id='m" + n + "' to='" + second_jid_ + "'><body>round " + n + "</body></message>");
    xml::Stanza message = wait_for(second_, "message", "m" + n, sent);
    if (message.root().child("body", xmpp::ns::client).text() != "round " + n)
        throw std::runtime_error("wrong body: " + message.serialize());

    sent = Clock::now();
    second_.send("<iq type='get' id='p" + n + "' to='" + first_jid_ + "'><ping xmlns='urn:xmpp:ping'/></iq>");
    expect_type(wait_for(first_, "iq", "p" + n, sent), "get");
    first_.send("<iq type='result' id='p" + n + "' to='" + second_jid_ + "'/>");
    expect_type(wait_for(second_, "iq", "p" + n, sent), "result");

    sent = Clock::now();
    first_.send("<iq type='get' id='s" + n + "' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    expect_type(wait_for(first_, "iq", "s" + n, sent), "result");
}

std::chrono::milliseconds Canary::timed_round()
{
    const auto begin = Clock::now();
    round();
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begin);
}

void Canary::start()
{
    stopping_ = false;
    report_ = {};
    thread_ = std::thread([this] { run(); });
}

void Canary::run()
{
    while (!stopping_) {
        try {
            const auto took = timed_round();
            std::lock_guard lock(mutex_);
            ++report_.rounds;
            report_.slowest = std::max(report_.slowest, took);
        } catch (const std::exception& e) {
            std::lock_guard lock(mutex_);
            report_.failures.push_back("round " + std::to_string(counter_) + ": " + e.what());
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

int Canary::rounds_so_far()
{
    std::lock_guard lock(mutex_);
    return report_.rounds;
}

Canary::Report Canary::stop()
{
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mutex_);
    return report_;
}

}  // namespace tern::test
