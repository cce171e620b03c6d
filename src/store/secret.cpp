#include "store/secret.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "crypto/crypto.hpp"

namespace tern::store {
namespace {

std::string failure(std::string_view what, const std::filesystem::path& path)
{
    return std::string(what) + " " + path.string() + ": " + std::strerror(errno);
}

// Reads an existing secret file and checks its size and mode.
expected<std::string, std::string> read_secret(const std::filesystem::path& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return make_unexpected(failure("cannot open", path));
    struct stat st{};
    if (::fstat(fd, &st) != 0) {
        const std::string error = failure("cannot stat", path);
        ::close(fd);
        return make_unexpected(error);
    }
    std::string secret(secret_bytes + 1, '\0');
    std::size_t got = 0;
    while (got < secret.size()) {
        const ssize_t n = ::read(fd, secret.data() + got, secret.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if ((st.st_mode & 077) != 0)
        return make_unexpected(path.string() + " is accessible to group or others: chmod 600 it");
    if (got != secret_bytes)
        return make_unexpected(path.string() + " must hold exactly " + std::to_string(secret_bytes) + " bytes");
    secret.resize(secret_bytes);
    return secret;
}

// Writes a new secret to a temporary file and links it into place (link never replaces: if another process
// created the file first, that one stays and is read).
expected<void, std::string> create_secret(const std::filesystem::path& path)
{
    const std::filesystem::path temporary = path.string() + ".new";
    ::unlink(temporary.c_str());
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return make_unexpected(failure("cannot create", temporary));
    const std::string secret = crypto::random_bytes(secret_bytes);
    const bool written = ::write(fd, secret.data(), secret.size()) == static_cast<ssize_t>(secret.size()) &&
                         ::fsync(fd) == 0;
    const std::string error = written ? std::string() : failure("cannot write", temporary);
    ::close(fd);
    if (!written) {
        ::unlink(temporary.c_str());
        return make_unexpected(error);
    }
    const bool linked = ::link(temporary.c_str(), path.c_str()) == 0 || errno == EEXIST;
    const std::string link_error = linked ? std::string() : failure("cannot create", path);
    ::unlink(temporary.c_str());
    if (!linked) return make_unexpected(link_error);
    return {};
}

}  // namespace

expected<std::string, std::string> load_or_create_secret(const std::filesystem::path& path)
{
    if (::access(path.c_str(), F_OK) != 0) {
        if (errno != ENOENT) return make_unexpected(failure("cannot access", path));
        if (auto created = create_secret(path); !created) return make_unexpected(created.error());
    }
    return read_secret(path);
}

}  // namespace tern::store
