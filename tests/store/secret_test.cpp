// data_dir/sasl_secret: created once with mode 0600, the same bytes at every later start.
#include "store/secret.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.hpp"

using namespace tern;
using namespace tern::store;

namespace {

mode_t mode_of(const std::string& path)
{
    struct stat st{};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

}  // namespace

TEST_SUITE("store")
{
    TEST_CASE("secret: created once with 32 random bytes and mode 0600, then read back unchanged")
    {
        test::TempDir dir{std::string(sasl_secret_file_name)};
        const auto first = load_or_create_secret(dir.file());
        REQUIRE_MESSAGE(first, (first ? "" : first.error()));
        CHECK(first->size() == secret_bytes);
        CHECK(mode_of(dir.file()) == 0600);
        CHECK(std::filesystem::file_size(dir.file()) == secret_bytes);
        const auto again = load_or_create_secret(dir.file());
        REQUIRE(again);
        CHECK(*again == *first);
        // No temporary file is left behind.
        CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()) == 1);

        test::TempDir other{std::string(sasl_secret_file_name)};
        const auto elsewhere = load_or_create_secret(other.file());
        REQUIRE(elsewhere);
        CHECK(*elsewhere != *first);
    }

    TEST_CASE("secret: a file others can read, or of the wrong size, is refused rather than used or replaced")
    {
        test::TempDir dir{std::string(sasl_secret_file_name)};
        REQUIRE(load_or_create_secret(dir.file()));
        REQUIRE(::chmod(dir.file().c_str(), 0644) == 0);
        const auto readable = load_or_create_secret(dir.file());
        REQUIRE_FALSE(readable);
        CHECK(readable.error().find("chmod 600") != std::string::npos);

        std::ofstream(dir.file("short")) << "too short";
        REQUIRE(::chmod(dir.file("short").c_str(), 0600) == 0);
        const auto short_one = load_or_create_secret(dir.file("short"));
        REQUIRE_FALSE(short_one);
        CHECK(short_one.error().find("exactly 32 bytes") != std::string::npos);
        CHECK(std::filesystem::file_size(dir.file("short")) == 9);
    }

    TEST_CASE("secret: a directory that cannot be written is an error, not an empty secret")
    {
        const auto missing = load_or_create_secret("/nonexistent-tern-dir/sasl_secret");
        REQUIRE_FALSE(missing);
        CHECK(missing.error().find("/nonexistent-tern-dir") != std::string::npos);
    }
}
