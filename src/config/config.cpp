#include "config/config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <toml++/toml.h>

#include "xmpp/jid.hpp"

namespace tern::config {

namespace {

// ---- error collection ---------------------------------------------------------------------------

// Remembers where each key was seen (for checks that span keys) and keeps the error that comes first
// in the file, so the operator always fixes the file top to bottom.
class Checker {
public:
    explicit Checker(std::string file) : file_(std::move(file)) {}

    void fail(const toml::source_region& where, std::string key, std::string message)
    {
        const int line = static_cast<int>(where.begin.line);
        if (error_ && error_->line <= line) return;
        error_ = ConfigError{file_, line, 0, std::move(key), std::move(message)};
    }

    void fail(const std::string& key, std::string message) { fail(where(key), key, std::move(message)); }

    void seen(const std::string& key, const toml::source_region& where) { seen_.emplace(key, where); }

    // The place of a key, or of the nearest enclosing key that appeared in the file.
    toml::source_region where(std::string key) const
    {
        for (;;) {
            if (auto it = seen_.find(key); it != seen_.end()) return it->second;
            const auto cut = key.find_last_of(".[");
            if (cut == std::string::npos) return {};
            key.resize(cut);
        }
    }

    bool was_set(const std::string& key) const { return seen_.contains(key); }

    const std::optional<ConfigError>& error() const { return error_; }

private:
    std::string file_;
    std::map<std::string, toml::source_region> seen_;
    std::optional<ConfigError> error_;
};

// ---- describing values ------------------------------------------------------------------------

// A string in TOML basic-string form, so messages show values the way the operator typed them.
std::string quote(std::string_view s)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out = "\"";
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20 || c == 0x7f) {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += ch;
        }
    }
    return out + '"';
}

// The offending value for an error message, shortened; containers by kind only.
std::string describe(const toml::node& node)
{
    if (node.is_table()) return "a table";
    if (node.is_array()) return "an array";
    std::string text;
    if (const auto* s = node.as_string()) {
        text = quote(s->get());
    } else {
        std::ostringstream out;
        out << toml::node_view<const toml::node>{node};
        text = std::move(out).str();
    }
    constexpr std::size_t max_length = 64;
    if (text.size() > max_length) text = text.substr(0, max_length) + "...";
    return text;
}

bool is_bare_key(std::string_view name)
{
    return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_' || c == '-';
    });
}

std::string join_key(std::string_view prefix, std::string_view name)
{
    std::string key{prefix};
    if (!key.empty()) key += '.';
    key += is_bare_key(name) ? std::string{name} : quote(name);
    return key;
}

std::string element_key(const std::string& key, std::size_t index)
{
    return key + '[' + std::to_string(index) + ']';
}

// ---- one helper per value type ----------------------------------------------------------------

// A handler validates one value and stores it; `key` is the dotted name used in errors.
using Handler = std::function<void(Checker&, const toml::node&, const std::string& key)>;

struct Field {
    std::string_view name;
    Handler handle;
};

template <class T>
Handler integer(T& out, std::int64_t min, std::int64_t max)
{
    return [&out, min, max](Checker& c, const toml::node& node, const std::string& key) {
        const auto* value = node.as_integer();
        if (!value || value->get() < min || value->get() > max) {
            const char* what = std::is_same_v<T, std::chrono::seconds> ? "a number of seconds" : "an integer";
            return c.fail(node.source(), key,
                          std::string{"expected "} + what + " from " + std::to_string(min) + " to " +
                              std::to_string(max) + ", got " + describe(node));
        }
        out = T(value->get());
    };
}

Handler boolean(bool& out)
{
    return [&out](Checker& c, const toml::node& node, const std::string& key) {
        if (const auto* value = node.as_boolean()) {
            out = value->get();
            return;
        }
        c.fail(node.source(), key, "expected true or false, got " + describe(node));
    };
}

enum class Empty { Allowed, Refused };

Handler path(std::filesystem::path& out, Empty empty)
{
    return [&out, empty](Checker& c, const toml::node& node, const std::string& key) {
        const auto* value = node.as_string();
        if (value && (empty == Empty::Allowed || !value->get().empty())) {
            out = value->get();
            return;
        }
        const char* what = empty == Empty::Allowed ? "a path (a string)" : "a non-empty path";
        c.fail(node.source(), key, std::string{"expected "} + what + ", got " + describe(node));
    };
}

template <class E>
using Choices = std::vector<std::pair<std::string_view, E>>;

template <class E>
std::optional<E> choose(const toml::node& node, const Choices<E>& choices)
{
    if (const auto* value = node.as_string()) {
        for (const auto& [name, e] : choices)
            if (value->get() == name) return e;
    }
    return std::nullopt;
}

template <class E>
std::string expected_one_of(const Choices<E>& choices)
{
    std::string text = "expected one of ";
    for (std::size_t i = 0; i < choices.size(); ++i) text += (i ? ", " : "") + quote(choices[i].first);
    return text;
}

template <class E>
Handler one_of(E& out, Choices<E> choices)
{
    return [&out, choices = std::move(choices)](Checker& c, const toml::node& node, const std::string& key) {
        if (auto e = choose(node, choices)) {
            out = *e;
            return;
        }
        c.fail(node.source(), key, expected_one_of(choices) + ", got " + describe(node));
    };
}

// An array whose elements each go through `element` (which returns false after reporting an error).
// Elements are recorded as "key[i]" so later checks can point at them.
using ElementHandler = std::function<bool(Checker&, const toml::node&, const std::string& key)>;

Handler array_of(std::string_view what, bool allow_empty, std::function<void()> clear, ElementHandler element)
{
    return [what, allow_empty, clear = std::move(clear), element = std::move(element)](
               Checker& c, const toml::node& node, const std::string& key) {
        const auto* array = node.as_array();
        if (!array || (!allow_empty && array->empty())) {
            const std::string size = allow_empty ? "an array of " : "a non-empty array of ";
            return c.fail(node.source(), key, "expected " + size + std::string{what} + ", got " + describe(node));
        }
        clear();
        for (std::size_t i = 0; i < array->size(); ++i) {
            const toml::node& item = *array->get(i);
            const std::string item_key = element_key(key, i);
            c.seen(item_key, item.source());
            if (!element(c, item, item_key)) return;
        }
    };
}

Handler domains(std::vector<std::string>& out)
{
    return array_of("domain names", false, [&out] { out.clear(); },
                    [&out](Checker& c, const toml::node& node, const std::string& key) {
                        const auto* text = node.as_string();
                        auto prepared = xmpp::Jid::prep_domain(text ? std::string_view{text->get()} : "");
                        if (!text || !prepared) {
                            c.fail(node.source(), key, "expected a domain name, got " + describe(node));
                            return false;
                        }
                        if (std::find(out.begin(), out.end(), *prepared) != out.end()) {
                            c.fail(node.source(), key, "domain " + quote(*prepared) + " is listed twice");
                            return false;
                        }
                        out.push_back(std::move(*prepared));
                        return true;
                    });
}

Handler addresses(std::vector<ListenAddress>& out)
{
    return array_of("addresses", true, [&out] { out.clear(); },
                    [&out](Checker& c, const toml::node& node, const std::string& key) {
                        const auto* text = node.as_string();
                        auto address = parse_listen_address(text ? std::string_view{text->get()} : "");
                        if (!text || !address) {
                            const std::string why = text ? address.error() : "expected \"IP:port\" or \"[IPv6]:port\"";
                            c.fail(node.source(), key, why + ", got " + describe(node));
                            return false;
                        }
                        out.push_back(std::move(*address));
                        return true;
                    });
}

Handler mechanisms(std::vector<SaslMechanism>& out)
{
    Choices<SaslMechanism> choices;
    for (auto m : {SaslMechanism::ScramSha256Plus, SaslMechanism::ScramSha256, SaslMechanism::ScramSha1Plus,
                   SaslMechanism::ScramSha1, SaslMechanism::Plain})
        choices.emplace_back(to_string(m), m);
    return array_of("mechanism names", false, [&out] { out.clear(); },
                    [&out, choices](Checker& c, const toml::node& node, const std::string& key) {
                        const auto mechanism = choose(node, choices);
                        if (!mechanism) {
                            c.fail(node.source(), key, expected_one_of(choices) + ", got " + describe(node));
                            return false;
                        }
                        if (std::find(out.begin(), out.end(), *mechanism) != out.end()) {
                            c.fail(node.source(), key, "mechanism " + describe(node) + " is listed twice");
                            return false;
                        }
                        out.push_back(*mechanism);
                        return true;
                    });
}

// A table with a fixed set of keys.
Handler section(std::vector<Field> fields)
{
    return [fields = std::move(fields)](Checker& c, const toml::node& node, const std::string& prefix) {
        const auto* table = node.as_table();
        if (!table) return c.fail(node.source(), prefix, "expected a table, got " + describe(node));
        for (const auto& [name, value] : *table) {
            const std::string key = join_key(prefix, name.str());
            c.seen(key, name.source());
            // A copy, not the structured binding: clang 14 (the fuzz build) can't capture those in a lambda.
            const std::string_view wanted = name.str();
            const auto field = std::find_if(fields.begin(), fields.end(),
                                            [&](const Field& f) { return f.name == wanted; });
            if (field != fields.end()) {
                field->handle(c, value, key);
                continue;
            }
            std::string known;
            for (const auto& f : fields) known += (known.empty() ? "" : ", ") + std::string{f.name};
            c.fail(name.source(), key,
                   std::string{value.is_table() ? "unknown section" : "unknown key"} + " (expected one of: " +
                       known + ")");
        }
    };
}

Handler certificate_paths(CertificatePaths& out)
{
    return section({{"certificate", path(out.certificate, Empty::Allowed)}, {"key", path(out.key, Empty::Allowed)}});
}

// [tls.domains."example.org"]: one certificate/key table per domain, keyed by the prepared domain.
Handler tls_domains(std::map<std::string, CertificatePaths>& out, std::map<std::string, std::string>& keys)
{
    return [&out, &keys](Checker& c, const toml::node& node, const std::string& prefix) {
        const auto* table = node.as_table();
        if (!table) return c.fail(node.source(), prefix, "expected a table, got " + describe(node));
        for (const auto& [name, value] : *table) {
            const std::string key = join_key(prefix, name.str());
            c.seen(key, name.source());
            auto domain = xmpp::Jid::prep_domain(name.str());
            if (!domain) {
                c.fail(name.source(), key, "expected a domain name, got " + quote(name.str()));
                continue;
            }
            if (out.contains(*domain)) {
                c.fail(name.source(), key, "domain " + quote(*domain) + " is listed twice");
                continue;
            }
            keys.emplace(*domain, key);
            certificate_paths(out[*domain])(c, value, key);
        }
    };
}

// ---- external services (XEP-0215) -------------------------------------------------------------

// Dino refreshes credentials only when their lifetime is at least 10 minutes.
constexpr std::int64_t min_service_ttl = 600;
constexpr std::int64_t max_service_ttl = 30 * 86400;

Handler non_empty_string(std::string& out)
{
    return [&out](Checker& c, const toml::node& node, const std::string& key) {
        const auto* value = node.as_string();
        if (value && !value->get().empty()) {
            out = value->get();
            return;
        }
        c.fail(node.source(), key, "expected a non-empty string, got " + describe(node));
    };
}

// XEP-0215 service types are XML NCNames; ASCII is enough for every registered one.
bool is_ncname(std::string_view s)
{
    const auto start = [](unsigned char c) { return std::isalpha(c) || c == '_'; };
    const auto rest = [&](unsigned char c) { return start(c) || std::isdigit(c) || c == '-' || c == '.'; };
    return !s.empty() && start(static_cast<unsigned char>(s[0])) &&
           std::all_of(s.begin() + 1, s.end(), [&](char c) { return rest(static_cast<unsigned char>(c)); });
}

Handler service_type(std::string& out)
{
    return [&out](Checker& c, const toml::node& node, const std::string& key) {
        const auto* value = node.as_string();
        if (value && is_ncname(value->get())) {
            out = value->get();
            return;
        }
        c.fail(node.source(), key,
               "expected a service type such as \"stun\", \"turn\" or \"turns\", got " + describe(node));
    };
}

// A host name or an IP literal as clients will use it: no spaces or control characters.
Handler service_host(std::string& out)
{
    return [&out](Checker& c, const toml::node& node, const std::string& key) {
        const auto* value = node.as_string();
        const auto printable = [](unsigned char ch) { return ch > 0x20 && ch != 0x7f; };
        if (value && !value->get().empty() && value->get().size() <= 255 &&
            std::all_of(value->get().begin(), value->get().end(), [&](char ch) { return printable(ch); })) {
            out = value->get();
            return;
        }
        c.fail(node.source(), key, "expected a host name or IP address, got " + describe(node));
    };
}

Handler separator(char& out)
{
    return [&out](Checker& c, const toml::node& node, const std::string& key) {
        const auto* value = node.as_string();
        if (value && value->get().size() == 1) {
            const auto ch = static_cast<unsigned char>(value->get()[0]);
            if (std::ispunct(ch) && ch != '\\') {
                out = static_cast<char>(ch);
                return;
            }
        }
        c.fail(node.source(), key, "expected one punctuation character such as \":\", got " + describe(node));
    };
}

Handler algorithm()
{
    return [](Checker& c, const toml::node& node, const std::string& key) {
        const auto* value = node.as_string();
        if (value && value->get() == "hmac-sha1") return;
        c.fail(node.source(), key, "expected \"hmac-sha1\" (the only one coturn checks), got " + describe(node));
    };
}

// secret = "s" or secret = ["new", "old"] (rotation: the first signs, the TURN server accepts all).
Handler secrets(std::vector<std::string>& out)
{
    return [&out](Checker& c, const toml::node& node, const std::string& key) {
        out.clear();
        if (const auto* one = node.as_string(); one && !one->get().empty()) {
            out.push_back(one->get());
            return;
        }
        const auto* array = node.as_array();
        const char* expected = "expected a non-empty string or a non-empty array of them, got ";
        if (!array || array->empty()) return c.fail(node.source(), key, expected + describe(node));
        for (std::size_t i = 0; i < array->size(); ++i) {
            const auto* item = array->get(i)->as_string();
            if (!item || item->get().empty()) {
                out.clear();
                return c.fail(array->get(i)->source(), element_key(key, i), "expected a non-empty string, got " +
                                                                                describe(*array->get(i)));
            }
            out.push_back(item->get());
        }
    };
}

// A file holding the shared secret(s), one per line, newest first; read now so a bad file stops start-up.
Handler secret_file(std::vector<std::string>& out, const std::filesystem::path& base_dir)
{
    return [&out, base_dir](Checker& c, const toml::node& node, const std::string& key) {
        const auto* value = node.as_string();
        if (!value || value->get().empty())
            return c.fail(node.source(), key, "expected a non-empty path, got " + describe(node));
        std::filesystem::path file{value->get()};
        if (file.is_relative() && !base_dir.empty()) file = base_dir / file;
        std::ifstream in(file, std::ios::binary);
        if (!in)
            return c.fail(node.source(), key,
                          "cannot read secret file " + quote(file.string()) + ": " + std::strerror(errno));
        out.clear();
        std::string line;
        while (std::getline(in, line)) {
            while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
            if (!line.empty()) out.push_back(std::move(line));
        }
        if (out.empty()) c.fail(node.source(), key, "secret file " + quote(file.string()) + " holds no secret");
    };
}

// BCP 47 in the shape xml:lang uses: letters, then hyphen-separated letters or digits.
bool is_language_tag(std::string_view tag)
{
    std::size_t part = 0;
    bool first = true;
    for (std::size_t i = 0; i <= tag.size(); ++i) {
        if (i == tag.size() || tag[i] == '-') {
            if (part == 0 || part > 8) return false;
            part = 0;
            first = false;
            continue;
        }
        const auto ch = static_cast<unsigned char>(tag[i]);
        if (!(std::isalpha(ch) || (!first && std::isdigit(ch)))) return false;
        ++part;
    }
    return true;
}

std::string lower(std::string_view s)
{
    std::string out{s};
    for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

// names = { de = "Relais", fr = "Relais" }
Handler names(std::map<std::string, std::string>& out)
{
    return [&out](Checker& c, const toml::node& node, const std::string& prefix) {
        const auto* table = node.as_table();
        if (!table) return c.fail(node.source(), prefix, "expected a table of language = name, got " + describe(node));
        for (const auto& [tag, value] : *table) {
            const std::string key = join_key(prefix, tag.str());
            c.seen(key, tag.source());
            if (!is_language_tag(tag.str())) {
                c.fail(tag.source(), key, "expected a language tag such as de or pt-BR, got " + quote(tag.str()));
                continue;
            }
            const auto* name = value.as_string();
            if (!name || name->get().empty()) {
                c.fail(value.source(), key, "expected a non-empty string, got " + describe(value));
                continue;
            }
            out[lower(tag.str())] = name->get();
        }
    };
}

// allow = ["example.org", "alice@example.net"]: whole domains or single accounts.
Handler allow_list(std::vector<std::string>& out)
{
    return array_of("domains and bare JIDs", false, [&out] { out.clear(); },
                    [&out](Checker& c, const toml::node& node, const std::string& key) {
                        const auto* text = node.as_string();
                        auto jid = xmpp::Jid::parse(text ? std::string_view{text->get()} : "");
                        if (!text || !jid || !jid->is_bare()) {
                            c.fail(node.source(), key,
                                   "expected a domain or a bare JID (user@domain), got " + describe(node));
                            return false;
                        }
                        std::string entry = jid->bare_str();
                        if (std::find(out.begin(), out.end(), entry) != out.end()) {
                            c.fail(node.source(), key, quote(entry) + " is listed twice");
                            return false;
                        }
                        out.push_back(std::move(entry));
                        return true;
                    });
}

// [services.extended]: var = "value" or var = ["value", ...] -> data-form fields.
Handler extended(std::vector<ServiceField>& out)
{
    return [&out](Checker& c, const toml::node& node, const std::string& prefix) {
        const auto* table = node.as_table();
        if (!table) return c.fail(node.source(), prefix, "expected a table of field = value, got " + describe(node));
        out.clear();
        for (const auto& [var, value] : *table) {
            const std::string key = join_key(prefix, var.str());
            c.seen(key, var.source());
            ServiceField field{std::string{var.str()}, {}};
            if (const auto* one = value.as_string()) {
                field.values.push_back(one->get());
            } else if (const auto* array = value.as_array(); array && !array->empty()) {
                for (const auto& item : *array) {
                    const auto* text = item.as_string();
                    if (!text) {
                        field.values.clear();
                        break;
                    }
                    field.values.push_back(text->get());
                }
            }
            if (field.values.empty()) {
                c.fail(value.source(), key,
                       "expected a string or a non-empty array of strings, got " + describe(value));
                continue;
            }
            out.push_back(std::move(field));
        }
    };
}

// The keys shared by [[services]] entries and the [turn] shortcut that are about credentials.
void add_credential_fields(std::vector<Field>& fields, ExternalService& s, const std::filesystem::path& base_dir)
{
    fields.push_back({"secret", secrets(s.secrets)});
    fields.push_back({"secret_file", secret_file(s.secrets, base_dir)});
    fields.push_back({"ttl", integer(s.ttl, min_service_ttl, max_service_ttl)});
    fields.push_back({"algorithm", algorithm()});
    fields.push_back({"separator", separator(s.separator)});
    fields.push_back({"pseudonymous", boolean(s.pseudonymous)});
    fields.push_back({"inline_credentials", boolean(s.inline_credentials)});
    fields.push_back({"allow", allow_list(s.allow)});
    fields.push_back({"name", non_empty_string(s.name)});
    fields.push_back({"names", names(s.names)});
}

// Checks across the keys of one service table (`key` is e.g. "services[2]" or "turn").
void check_credentials(Checker& c, const std::string& key)
{
    const auto set = [&](const char* name) { return c.was_set(key + '.' + name); };
    if (set("secret") && set("secret_file"))
        c.fail(key + ".secret_file", "give " + key + ".secret or " + key + ".secret_file, not both");
    const bool shared_secret = set("secret") || set("secret_file");
    for (const char* only_with_secret : {"ttl", "algorithm", "separator", "pseudonymous"}) {
        if (set(only_with_secret) && !shared_secret)
            c.fail(key + '.' + only_with_secret, "only used with a shared secret (secret or secret_file)");
    }
}

struct TurnShortcut {
    ExternalService base;
    std::uint16_t port = 3478;
    std::uint16_t tls_port = 5349;
    bool stun = true;
    bool turns = true;
};

Handler turn_shortcut(TurnShortcut& t, const std::filesystem::path& base_dir)
{
    std::vector<Field> fields{
        {"host", service_host(t.base.host)},
        {"port", integer(t.port, 1, 65535)},
        {"tls_port", integer(t.tls_port, 1, 65535)},
        {"stun", boolean(t.stun)},
        {"turns", boolean(t.turns)},
    };
    add_credential_fields(fields, t.base, base_dir);
    return [inner = section(std::move(fields))](Checker& c, const toml::node& node, const std::string& key) {
        inner(c, node, key);
        if (!node.is_table()) return;
        if (!c.was_set(key + ".host")) c.fail(key, "expected " + key + ".host (the TURN server's name or address)");
        if (!c.was_set(key + ".secret") && !c.was_set(key + ".secret_file"))
            c.fail(key, "expected " + key + ".secret or " + key + ".secret_file (coturn's static-auth-secret)");
        check_credentials(c, key);
    };
}

// stun (udp), turn (udp and tcp) on `port`, turns (tcp) on `tls_port`, as coturn listens by default.
std::vector<ExternalService> expand(const TurnShortcut& t)
{
    std::vector<ExternalService> out;
    if (t.stun) {
        ExternalService stun;
        stun.type = "stun";
        stun.host = t.base.host;
        stun.port = t.port;
        stun.transport = ServiceTransport::Udp;
        stun.name = t.base.name;
        stun.names = t.base.names;
        stun.allow = t.base.allow;
        out.push_back(std::move(stun));
    }
    ExternalService turn = t.base;
    turn.type = "turn";
    turn.port = t.port;
    turn.restricted = true;
    turn.transport = ServiceTransport::Udp;
    out.push_back(turn);
    turn.transport = ServiceTransport::Tcp;
    out.push_back(turn);
    if (t.turns) {
        turn.type = "turns";
        turn.port = t.tls_port;
        out.push_back(std::move(turn));
    }
    return out;
}

// [[services]]: one table per service.
Handler services(std::vector<ExternalService>& out, const std::filesystem::path& base_dir)
{
    return array_of("tables ([[services]])", true, [&out] { out.clear(); },
                    [&out, base_dir](Checker& c, const toml::node& node, const std::string& key) {
                        if (!node.is_table()) {
                            c.fail(node.source(), key, "expected a table, got " + describe(node));
                            return false;
                        }
                        ExternalService& s = out.emplace_back();
                        std::vector<Field> fields{
                            {"type", service_type(s.type)},
                            {"host", service_host(s.host)},
                            {"port", integer(s.port, 1, 65535)},
                            {"transport", one_of(s.transport, Choices<ServiceTransport>{
                                                                  {"udp", ServiceTransport::Udp},
                                                                  {"tcp", ServiceTransport::Tcp}})},
                            {"restricted", boolean(s.restricted)},
                            {"username", non_empty_string(s.username)},
                            {"password", non_empty_string(s.password)},
                            {"extended", extended(s.extended)},
                        };
                        add_credential_fields(fields, s, base_dir);
                        section(std::move(fields))(c, node, key);

                        const auto set = [&](const char* name) { return c.was_set(key + '.' + name); };
                        for (const char* required : {"type", "host", "port", "transport"}) {
                            if (!set(required))
                                c.fail(key, "expected " + key + '.' + required +
                                                " (every service needs type, host, port and transport; clients "
                                                "ignore entries without port and transport)");
                        }
                        check_credentials(c, key);
                        if (set("username") != set("password")) {
                            const std::string given = set("username") ? "username" : "password";
                            const std::string missing = set("username") ? "password" : "username";
                            c.fail(key + '.' + given,
                                   "expected " + key + '.' + missing + " as well (username and password go together)");
                        }
                        if (set("username") && !s.secrets.empty())
                            c.fail(key + ".username",
                                   "static username/password and a shared secret exclude each other");
                        if (!set("restricted")) s.restricted = s.has_credentials();
                        if (s.restricted && !s.has_credentials())
                            c.fail(key + ".restricted",
                                   "a restricted service needs credentials (secret, secret_file, or username and "
                                   "password)");
                        if (set("inline_credentials") && !s.has_credentials())
                            c.fail(key + ".inline_credentials", "only used with credentials");
                        return true;
                    });
}

// The same service twice would make <credentials/> ambiguous; an allow entry must be an account or domain
// this server serves.
void check_services(Checker& c, const Config& config, const std::vector<std::string>& keys)
{
    const auto& served = config.server.domains;
    for (std::size_t i = 0; i < config.services.size(); ++i) {
        const auto& s = config.services[i];
        for (std::size_t j = 0; j < i; ++j) {
            const auto& t = config.services[j];
            if (s.type == t.type && s.host == t.host && s.port == t.port && s.transport == t.transport)
                c.fail(keys[i], "service " + s.type + " " + s.host + ":" + std::to_string(s.port) + "/" +
                                    std::string{to_string(s.transport)} + " is listed twice (in " + keys[j] +
                                    " and " + keys[i] + ")");
        }
        for (std::size_t a = 0; a < s.allow.size(); ++a) {
            const auto& entry = s.allow[a];
            const auto at = entry.find('@');
            const std::string domain = at == std::string::npos ? entry : entry.substr(at + 1);
            if (std::find(served.begin(), served.end(), domain) == served.end())
                c.fail(element_key(keys[i] + ".allow", a), "domain " + quote(domain) + " is not in server.domains");
        }
    }
}

Handler prefixes(std::vector<base::IpPrefix>& out)
{
    return array_of("IP prefixes", true, [&out] { out.clear(); },
                    [&out](Checker& c, const toml::node& node, const std::string& key) {
                        const auto* text = node.as_string();
                        std::string why = "expected an IP address or a prefix such as \"10.0.0.0/8\"";
                        auto prefix = text ? base::parse_ip_prefix(text->get(), &why) : std::nullopt;
                        if (!prefix) {
                            c.fail(node.source(), key, why + ", got " + describe(node));
                            return false;
                        }
                        out.push_back(*prefix);
                        return true;
                    });
}

Handler listen_address(ListenAddress& out)
{
    return [&out](Checker& c, const toml::node& node, const std::string& key) {
        const auto* text = node.as_string();
        auto address = parse_listen_address(text ? std::string_view{text->get()} : "");
        if (!text || !address) {
            const std::string why = text ? address.error() : "expected \"IP:port\" or \"[IPv6]:port\"";
            return c.fail(node.source(), key, why + ", got " + describe(node));
        }
        out = std::move(*address);
    };
}

// proxy_protocol needs the addresses allowed to send the header, and proxy_from means nothing without it.
void check_proxy(Checker& c, const std::string& prefix, bool proxy_protocol, bool has_proxy_from)
{
    if (c.error()) return;  // a bad value above: proxy_from may only look empty
    if (proxy_protocol && !has_proxy_from)
        c.fail(prefix + "proxy_protocol", "expected " + prefix +
                                              "proxy_from as well: the addresses of the proxies allowed to send "
                                              "the PROXY header, e.g. [\"10.0.0.0/8\"]");
    if (!proxy_protocol && has_proxy_from)
        c.fail(prefix + "proxy_from", "has no effect without " + prefix + "proxy_protocol = true");
}

// [[c2s.listener]]: address (required), mode, proxy_protocol, proxy_from.
Handler listeners(std::vector<Listener>& out)
{
    return array_of("tables ([[c2s.listener]])", true, [&out] { out.clear(); },
                    [&out](Checker& c, const toml::node& node, const std::string& key) {
                        if (!node.is_table()) {
                            c.fail(node.source(), key, "expected a table, got " + describe(node));
                            return false;
                        }
                        Listener& l = out.emplace_back();
                        section({
                            {"address", listen_address(l.address)},
                            {"mode", one_of(l.mode, Choices<ListenerMode>{{"starttls", ListenerMode::StartTls},
                                                                          {"direct_tls", ListenerMode::DirectTls}})},
                            {"proxy_protocol", boolean(l.proxy_protocol)},
                            {"proxy_from", prefixes(l.proxy_from)},
                        })(c, node, key);
                        if (!c.was_set(key + ".address"))
                            c.fail(key, "expected " + key + ".address (\"IP:port\" or \"[IPv6]:port\")");
                        check_proxy(c, key + '.', l.proxy_protocol, !l.proxy_from.empty());
                        return true;
                    });
}

// ---- checks across keys -----------------------------------------------------------------------

void check_listeners(Checker& c, const C2sConfig& c2s)
{
    if (c2s.listen.empty() && c2s.direct_tls.empty() && c2s.listeners.empty())
        return c.fail("c2s.listen", "no listener: c2s.listen, c2s.direct_tls and c2s.listener are all empty");

    struct Entry {
        const ListenAddress* address;
        std::string key;
    };
    std::vector<Entry> all;
    for (std::size_t i = 0; i < c2s.listen.size(); ++i) all.push_back({&c2s.listen[i], element_key("c2s.listen", i)});
    for (std::size_t i = 0; i < c2s.direct_tls.size(); ++i)
        all.push_back({&c2s.direct_tls[i], element_key("c2s.direct_tls", i)});
    for (std::size_t i = 0; i < c2s.listeners.size(); ++i)
        all.push_back({&c2s.listeners[i].address, element_key("c2s.listener", i) + ".address"});
    for (std::size_t i = 0; i < all.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (*all[i].address != *all[j].address) continue;
            // Point at the occurrence the operator wrote (a default can't clash with another default).
            const auto& at = c.was_set(all[i].key) ? all[i] : all[j];
            c.fail(at.key, "address " + at.address->to_string() + " is listed twice (in " + all[j].key + " and " +
                               all[i].key + ")");
        }
    }
}

void check_tls(Checker& c, const Config& config, const std::map<std::string, std::string>& domain_keys)
{
    const auto& defaults = config.tls.defaults;
    if (defaults.certificate.empty() != defaults.key.empty()) {
        const std::string given = defaults.certificate.empty() ? "tls.key" : "tls.certificate";
        const std::string missing = defaults.certificate.empty() ? "tls.certificate" : "tls.key";
        c.fail(given, "expected " + missing + " as well (certificate and key go together)");
    }
    for (const auto& [domain, paths] : config.tls.domains) {
        const std::string& key = domain_keys.at(domain);
        const auto& served = config.server.domains;
        if (std::find(served.begin(), served.end(), domain) == served.end())
            c.fail(key, "domain " + quote(domain) + " is not in server.domains");
        else if (paths.certificate.empty() || paths.key.empty())
            c.fail(key, "expected both certificate and key for a domain");
    }
}

void resolve(std::filesystem::path& p, const std::filesystem::path& base_dir)
{
    if (!p.empty() && p.is_relative() && !base_dir.empty()) p = base_dir / p;
}

void resolve_paths(Config& config, const std::filesystem::path& base_dir)
{
    resolve(config.server.data_dir, base_dir);
    resolve(config.tls.defaults.certificate, base_dir);
    resolve(config.tls.defaults.key, base_dir);
    for (auto& [domain, paths] : config.tls.domains) {
        resolve(paths.certificate, base_dir);
        resolve(paths.key, base_dir);
    }
}

}  // namespace

// ---- public API -------------------------------------------------------------------------------

std::string_view to_string(LogLevel level)
{
    switch (level) {
    case LogLevel::Error: return "error";
    case LogLevel::Warn: return "warn";
    case LogLevel::Info: return "info";
    case LogLevel::Debug: return "debug";
    }
    return "?";
}

std::string_view to_string(SaslMechanism mechanism)
{
    switch (mechanism) {
    case SaslMechanism::ScramSha256Plus: return "SCRAM-SHA-256-PLUS";
    case SaslMechanism::ScramSha256: return "SCRAM-SHA-256";
    case SaslMechanism::ScramSha1Plus: return "SCRAM-SHA-1-PLUS";
    case SaslMechanism::ScramSha1: return "SCRAM-SHA-1";
    case SaslMechanism::Plain: return "PLAIN";
    }
    return "?";
}

std::string_view to_string(ServiceTransport transport)
{
    return transport == ServiceTransport::Udp ? "udp" : "tcp";
}

bool Listener::trusted_proxy(std::string_view peer_address) const
{
    if (!proxy_protocol) return false;
    const auto peer = base::parse_ip(peer_address);
    return peer && std::any_of(proxy_from.begin(), proxy_from.end(),
                               [&](const base::IpPrefix& prefix) { return prefix.contains(*peer); });
}

std::vector<Listener> C2sConfig::all_listeners() const
{
    std::vector<Listener> all;
    for (const auto& address : listen) all.push_back({address, ListenerMode::StartTls, proxy_protocol, proxy_from});
    for (const auto& address : direct_tls) all.push_back({address, ListenerMode::DirectTls, proxy_protocol, proxy_from});
    all.insert(all.end(), listeners.begin(), listeners.end());
    return all;
}

std::string ListenAddress::to_string() const
{
    const std::string p = std::to_string(port);
    return host.find(':') == std::string::npos ? host + ':' + p : '[' + host + "]:" + p;
}

expected<ListenAddress, std::string> parse_listen_address(std::string_view text)
{
    std::string host;
    std::string_view port;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos || text.substr(close + 1, 1) != ":")
            return make_unexpected(std::string{"expected \"[IPv6]:port\""});
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        in6_addr v6{};
        if (inet_pton(AF_INET6, host.c_str(), &v6) != 1)
            return make_unexpected(std::string{"expected an IPv6 address in the brackets"});
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return make_unexpected(std::string{"expected \"IP:port\""});
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string::npos)
            return make_unexpected(std::string{"expected an IPv6 address in brackets, as \"[::1]:5222\""});
        in_addr v4{};
        if (inet_pton(AF_INET, host.c_str(), &v4) != 1)
            return make_unexpected(std::string{"expected an IPv4 address (a.b.c.d) before the port"});
    }
    unsigned value = 0;
    const bool digits = !port.empty() && port.size() <= 5 &&
                        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    for (char c : digits ? port : std::string_view{}) value = value * 10 + unsigned(c - '0');
    if (!digits || value < 1 || value > 65535) return make_unexpected(std::string{"expected a port from 1 to 65535"});
    return ListenAddress{std::move(host), static_cast<std::uint16_t>(value)};
}

std::string ConfigError::to_string() const
{
    std::string text = file;
    if (line > 0) text += ':' + std::to_string(line);
    if (column > 0) text += ':' + std::to_string(column);
    text += ": ";
    if (!key.empty()) text += "key '" + key + "': ";
    return text + message;
}

Config default_config()
{
    return Config{};
}

expected<Config, ConfigError> load_string(std::string_view toml_text, std::string_view source_name,
                                          const std::filesystem::path& base_dir)
{
    toml::table root;
    try {
        root = toml::parse(toml_text, source_name);
    } catch (const toml::parse_error& e) {
        return make_unexpected(ConfigError{std::string{source_name}, static_cast<int>(e.source().begin.line),
                                           static_cast<int>(e.source().begin.column), "",
                                           std::string{e.description()}});
    }

    Config config;
    auto& server = config.server;
    auto& c2s = config.c2s;
    auto& limits = config.limits;
    auto& sasl = config.sasl;
    std::map<std::string, std::string> tls_domain_keys;
    TurnShortcut turn;
    std::vector<ExternalService> listed_services;
    // clang-format off
    const Handler document = section({
        {"server", section({
            {"domains", domains(server.domains)},
            {"data_dir", path(server.data_dir, Empty::Refused)},
            {"workers", integer(server.workers, 0, 256)},
            {"log_level", one_of(server.log_level, Choices<LogLevel>{
                {"error", LogLevel::Error}, {"warn", LogLevel::Warn},
                {"info", LogLevel::Info}, {"debug", LogLevel::Debug}})},
            {"hide_version", boolean(server.hide_version)},
        })},
        {"c2s", section({
            {"listen", addresses(c2s.listen)},
            {"direct_tls", addresses(c2s.direct_tls)},
            {"require_tls", boolean(c2s.require_tls)},
            {"proxy_protocol", boolean(c2s.proxy_protocol)},
            {"proxy_from", prefixes(c2s.proxy_from)},
            {"listener", listeners(c2s.listeners)},
        })},
        {"tls", section({
            {"certificate", path(config.tls.defaults.certificate, Empty::Allowed)},
            {"key", path(config.tls.defaults.key, Empty::Allowed)},
            {"domains", tls_domains(config.tls.domains, tls_domain_keys)},
        })},
        {"limits", section({
            {"max_stanza_bytes", integer(limits.max_stanza_bytes, 4096, 16 << 20)},
            {"max_depth", integer(limits.max_depth, 4, 256)},
            {"max_attributes", integer(limits.max_attributes, 1, 1024)},
            {"auth_timeout", integer(limits.auth_timeout, 1, 3600)},
            {"idle_timeout", integer(limits.idle_timeout, 10, 86400)},
            {"max_connections_per_ip", integer(limits.max_connections_per_ip, 1, 1000000)},
            {"max_unauthenticated_per_ip", integer(limits.max_unauthenticated_per_ip, 1, 100000)},
            {"ipv6_prefix_length", integer(limits.ipv6_prefix_length, 32, 128)},
            {"max_auth_failures_per_minute", integer(limits.max_auth_failures_per_minute, 1, 1000)},
            {"auth_failure_max_delay", integer(limits.auth_failure_max_delay, 1, 60)},
            {"max_outbox_bytes", integer(limits.max_outbox_bytes, 65536, 256 << 20)},
            {"max_queued_stanzas", integer(limits.max_queued_stanzas, 16, 1000000)},
            {"outbox_stall_timeout", integer(limits.outbox_stall_timeout, 1, 3600)},
            {"max_pending_delivery_bytes", integer(limits.max_pending_delivery_bytes, 65536, 256 << 20)},
            {"max_pending_deliveries", integer(limits.max_pending_deliveries, 16, 1000000)},
            {"max_inbound_bytes_per_second", integer(limits.max_inbound_bytes_per_second, 0, 1 << 30)},
            {"inbound_burst_bytes", integer(limits.inbound_burst_bytes, 4096, 1 << 30)},
            {"max_resources_per_account", integer(limits.max_resources_per_account, 1, 1000)},
            {"sm_resume_timeout", integer(limits.sm_resume_timeout, 1, 86400)},
        })},
        {"sasl", section({
            {"mechanisms", mechanisms(sasl.mechanisms)},
            {"scram_iterations", integer(sasl.scram_iterations, 4096, 1000000)},
            {"strict_channel_binding_flag", boolean(sasl.strict_channel_binding_flag)},
        })},
        {"services", services(listed_services, base_dir)},
        {"turn", turn_shortcut(turn, base_dir)},
    });
    // clang-format on

    Checker checker{std::string{source_name}};
    document(checker, root, "");
    // [[c2s.listener]] tables replace the default listeners unless those are set as well.
    if (checker.was_set("c2s.listener")) {
        if (!checker.was_set("c2s.listen")) c2s.listen.clear();
        if (!checker.was_set("c2s.direct_tls")) c2s.direct_tls.clear();
    }
    check_proxy(checker, "c2s.", c2s.proxy_protocol, !c2s.proxy_from.empty());
    if (!checker.error()) check_listeners(checker, config.c2s);
    check_tls(checker, config, tls_domain_keys);

    std::vector<std::string> service_keys;
    if (checker.was_set("turn")) {
        config.services = expand(turn);
        service_keys.assign(config.services.size(), "turn");
    }
    for (std::size_t i = 0; i < listed_services.size(); ++i) {
        config.services.push_back(std::move(listed_services[i]));
        service_keys.push_back(element_key("services", i));
    }
    check_services(checker, config, service_keys);
    if (checker.error()) return make_unexpected(*checker.error());

    resolve_paths(config, base_dir);
    return config;
}

expected<Config, ConfigError> load_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_unexpected(ConfigError{path, 0, 0, "", std::string{"cannot read: "} + std::strerror(errno)});
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return make_unexpected(ConfigError{path, 0, 0, "", "cannot read the file"});
    return load_string(text.str(), path, std::filesystem::path{path}.parent_path());
}

}  // namespace tern::config
