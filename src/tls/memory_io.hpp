#pragma once

// wolfSSL's I/O callbacks over memory: records come from `in` (fed by the caller) and go to `out` (taken by
// the caller). wolfSSL never sees a socket.
#include <cstddef>
#include <string>

struct WOLFSSL;
struct WOLFSSL_CTX;

namespace tern::tls {

struct MemoryIo {
    std::string in;
    std::size_t in_offset = 0;  // bytes of `in` already handed to wolfSSL
    std::string out;

    std::size_t unread() const { return in.size() - in_offset; }
    // Drops what wolfSSL has consumed; releases the buffer entirely once it is all consumed.
    void compact_input();
};

// Sets the memory callbacks on a context, so every connection made from it uses them.
void install_memory_io(WOLFSSL_CTX* ctx);
// Points a connection's callbacks at `io` (again after the owner moved).
void attach_memory_io(WOLFSSL* ssl, MemoryIo* io);

}  // namespace tern::tls
