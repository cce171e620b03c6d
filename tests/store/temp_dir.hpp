#pragma once

// A fresh directory under the system's temporary directory for one test, removed with everything in it.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace tern::store::test {

class TempDir {
public:
    // `default_file`: what file() names without an argument.
    explicit TempDir(std::string default_file) : default_file_(std::move(default_file))
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "tern_store_XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string file() const { return (path_ / default_file_).string(); }
    std::string file(const char* name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    std::string default_file_;
};

}  // namespace tern::store::test
