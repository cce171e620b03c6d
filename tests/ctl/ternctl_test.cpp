// Runs the real ternctl binary and checks its effect through the account store.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "store/accounts.hpp"
#include "store/roster.hpp"

using namespace tern;
namespace fs = std::filesystem;

namespace {

struct Run {
    int status;
    std::string out;
    std::string err;
};

class Sandbox {
public:
    Sandbox()
    {
        std::string pattern = (fs::temp_directory_path() / "tern_ctl_XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        dir_ = pattern;
        write("tern.toml", "[server]\ndomains = [\"example.org\", \"Chat.Example.NET\"]\n");
    }
    ~Sandbox() { fs::remove_all(dir_); }

    const fs::path& dir() const { return dir_; }

    void write(const char* name, std::string_view text) const { std::ofstream{dir_ / name, std::ios::binary} << text; }

    std::string read(const char* name) const
    {
        std::ifstream in{dir_ / name, std::ios::binary};
        return {std::istreambuf_iterator<char>(in), {}};
    }

    // Runs ternctl in the sandbox (as the cwd) with `input` on stdin (not a terminal).
    Run ternctl(const std::string& args, std::string_view input = "") const
    {
        write("stdin", input);
        const std::string command = "cd '" + dir_.string() + "' && '" TERNCTL_PATH "' " + args +
                                    " <stdin >stdout 2>stderr";
        const int status = std::system(command.c_str());
        REQUIRE(WIFEXITED(status));
        return {WEXITSTATUS(status), read("stdout"), read("stderr")};
    }

    store::AccountStore open_store(const char* data_dir = "data") const
    {
        auto s = store::AccountStore::open((dir_ / data_dir / store::accounts_file_name).string());
        REQUIRE(s.has_value());
        return std::move(*s);
    }

    const fs::path& path() const { return dir_; }

private:
    fs::path dir_;
};

bool password_is(store::AccountStore& s, std::string_view domain, std::string_view local, std::string_view password)
{
    for (auto h : {crypto::Hash::Sha1, crypto::Hash::Sha256}) {
        auto keys = s.scram_keys(domain, local, h);
        if (!keys || !*keys) return false;
        const auto k = **keys;
        if (crypto::derive_scram_keys(h, password, k.salt, k.iterations).stored_key != k.stored_key) return false;
    }
    return true;
}

}  // namespace

TEST_SUITE("ctl") {

TEST_CASE("ternctl adds an account with a prepared JID and SASLprep'd password")
{
    Sandbox box;
    // U+00A0 (no-break space) becomes a plain space under SASLprep; the CR LF ending is not part of it.
    const Run r = box.ternctl("--config tern.toml adduser Alice@EXAMPLE.org", "pass\xC2\xA0word\r\nignored\n");
    CHECK(r.err == "");
    CHECK(r.status == 0);
    auto s = box.open_store();
    CHECK(s.list() == std::vector<std::string>{"alice@example.org"});
    CHECK(password_is(s, "example.org", "alice", "pass word"));
    CHECK_FALSE(password_is(s, "example.org", "alice", "pass\xC2\xA0word"));
    CHECK(s.scram_keys("example.org", "alice", crypto::Hash::Sha256)->value().iterations == 4096);

    struct stat st{};
    REQUIRE(::stat((box.dir() / "data").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("ternctl lists, changes passwords and deletes")
{
    Sandbox box;
    REQUIRE(box.ternctl("--config tern.toml adduser bob@example.org", "one\n").status == 0);
    REQUIRE(box.ternctl("--config tern.toml adduser carol@chat.example.net", "two").status == 0);
    REQUIRE(box.ternctl("--config tern.toml adduser alice@example.org", "three\n").status == 0);

    Run r = box.ternctl("--config tern.toml list");
    CHECK(r.status == 0);
    CHECK(r.out == "carol@chat.example.net\nalice@example.org\nbob@example.org\n");
    CHECK(box.ternctl("--config tern.toml list Example.ORG").out == "alice@example.org\nbob@example.org\n");

    r = box.ternctl("--config tern.toml passwd bob@example.org", "new secret\n");
    CHECK(r.status == 0);
    {
        auto s = box.open_store();
        CHECK(password_is(s, "example.org", "bob", "new secret"));
    }

    {
        auto roster = store::RosterStore::open((box.path() / "data" / store::roster_file_name).string());
        REQUIRE(roster);
        REQUIRE(roster->update("bob@example.org", "alice@example.org", [](std::optional<store::RosterItem>& item) {
            item = store::RosterItem{};
            item->jid = "alice@example.org";
        }));
        REQUIRE(roster->roster("bob@example.org")->items.size() == 1);
    }
    r = box.ternctl("--config tern.toml deluser bob@example.org");
    CHECK(r.status == 0);
    CHECK(box.ternctl("--config tern.toml list example.org").out == "alice@example.org\n");
    {
        auto roster = store::RosterStore::open((box.path() / "data" / store::roster_file_name).string());
        REQUIRE(roster);
        CHECK(roster->roster("bob@example.org")->items.empty());  // the roster went with the account
    }
    r = box.ternctl("--config tern.toml deluser bob@example.org");
    CHECK(r.status == 1);
    CHECK(r.err == "ternctl: no account bob@example.org\n");
}

TEST_CASE("ternctl adduser-bulk creates numbered accounts with one password and separate salts")
{
    Sandbox box;
    box.write("fast.toml", "[server]\ndomains = [\"example.org\"]\n[sasl]\nscram_iterations = 4096\n");
    const Run r = box.ternctl("--config fast.toml adduser-bulk Load 12 EXAMPLE.org", "secret\n");
    CHECK(r.err == "");
    CHECK(r.status == 0);
    CHECK(r.out == "added 12 accounts, load1@example.org to load12@example.org\n");

    auto s = box.open_store();
    auto jids = s.list("example.org");
    REQUIRE(jids);
    CHECK(jids->size() == 12);
    std::set<std::string> salts;
    for (int i = 1; i <= 12; ++i) {
        const std::string local = "load" + std::to_string(i);
        CAPTURE(local);
        CHECK(password_is(s, "example.org", local, "secret"));
        for (auto h : {crypto::Hash::Sha1, crypto::Hash::Sha256})
            salts.insert(s.scram_keys("example.org", local, h)->value().salt);
        CHECK(s.created("example.org", local)->has_value());
    }
    CHECK(salts.size() == 24);
    CHECK_FALSE(s.exists("example.org", "load13").value());
    CHECK_FALSE(s.exists("example.org", "load0").value());
}

TEST_CASE("ternctl adduser-bulk creates nothing when one of the accounts exists or a name is invalid")
{
    Sandbox box;
    REQUIRE(box.ternctl("--config tern.toml adduser u3@example.org", "pw\n").status == 0);
    Run r = box.ternctl("--config tern.toml adduser-bulk u 5 example.org", "pw\n");
    CHECK(r.status == 1);
    CHECK(r.err == "ternctl: account u3@example.org already exists\n");
    CHECK(r.out == "");
    r = box.ternctl("--config tern.toml adduser-bulk u 5 other.org", "pw\n");
    CHECK(r.status == 1);
    CHECK(r.err == "ternctl: domain 'other.org' is not served (server.domains: example.org, chat.example.net)\n");
    r = box.ternctl("--config tern.toml adduser-bulk a/b 2 example.org", "pw\n");
    CHECK(r.status == 1);
    CHECK(r.err == "ternctl: 'a/b1@example.org' is not an account JID (expected user@domain)\n");
    r = box.ternctl("--config tern.toml adduser-bulk v 2 example.org", "");
    CHECK(r.err == "ternctl: no password given on standard input\n");
    CHECK(box.ternctl("--config tern.toml list").out == "u3@example.org\n");
}

TEST_CASE("ternctl refuses with one line and exit code 1")
{
    Sandbox box;
    REQUIRE(box.ternctl("--config tern.toml adduser alice@example.org", "pw\n").status == 0);
    const std::pair<std::pair<const char*, const char*>, const char*> cases[] = {
        {{"adduser alice@example.org", "pw\n"}, "ternctl: account alice@example.org already exists\n"},
        {{"adduser alice@other.org", "pw\n"},
         "ternctl: domain 'other.org' is not served (server.domains: example.org, chat.example.net)\n"},
        {{"adduser example.org", "pw\n"}, "ternctl: 'example.org' is not an account JID (expected user@domain)\n"},
        {{"adduser a@example.org/res", "pw\n"},
         "ternctl: 'a@example.org/res' is not an account JID (expected user@domain)\n"},
        {{"adduser bob@example.org", "\n"}, "ternctl: empty passwords are not allowed\n"},
        {{"adduser bob@example.org", ""}, "ternctl: no password given on standard input\n"},
        {{"adduser bob@example.org", "a\x07z\n"},
         "ternctl: the password contains characters SASLprep does not allow\n"},
        {{"passwd bob@example.org", "pw\n"}, "ternctl: no account bob@example.org\n"},
        {{"list bad..domain", ""}, "ternctl: invalid domain 'bad..domain'\n"},
        {{"frobnicate", ""}, "ternctl: unknown command 'frobnicate' (see ternctl --help)\n"},
    };
    for (const auto& [call, expected_err] : cases) {
        CAPTURE(call.first);
        const Run r = box.ternctl(std::string{"--config tern.toml "} + call.first, call.second);
        CHECK(r.status == 1);
        CHECK(r.err == expected_err);
        CHECK(r.out == "");
    }
    CHECK(box.ternctl("--config tern.toml list").out == "alice@example.org\n");
}

TEST_CASE("ternctl reports a configuration error as the loader's line")
{
    Sandbox box;
    box.write("bad.toml", "[limits]\nmax_depth = 1\n");
    const Run r = box.ternctl("--config bad.toml list");
    CHECK(r.status == 1);
    CHECK(r.err == "ternctl: bad.toml:2: key 'limits.max_depth': expected an integer from 4 to 256, got 1\n");
    CHECK_FALSE(fs::exists(box.dir() / "data"));
}

TEST_CASE("ternctl without --config uses the embedded default in the current directory")
{
    Sandbox box;
    const Run r = box.ternctl("adduser admin@localhost", "pw\n");
    CHECK(r.err == "");
    CHECK(r.status == 0);
    auto s = box.open_store("data");
    CHECK(s.exists("localhost", "admin") == true);
    CHECK(box.ternctl("--help").out.starts_with("usage: ternctl"));
}

}  // TEST_SUITE
