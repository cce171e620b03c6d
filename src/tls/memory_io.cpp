#include "tls/memory_io.hpp"

#include "tls/wolf.hpp"

#include <algorithm>
#include <cstring>

namespace tern::tls {

namespace {

int receive(WOLFSSL*, char* buffer, int size, void* context)
{
    auto* io = static_cast<MemoryIo*>(context);
    const std::size_t available = io->unread();
    if (available == 0 || size <= 0)
        return WOLFSSL_CBIO_ERR_WANT_READ;
    const std::size_t n = std::min(available, static_cast<std::size_t>(size));
    std::memcpy(buffer, io->in.data() + io->in_offset, n);
    io->in_offset += n;
    return static_cast<int>(n);
}

int send(WOLFSSL*, char* buffer, int size, void* context)
{
    auto* io = static_cast<MemoryIo*>(context);
    io->out.append(buffer, static_cast<std::size_t>(size));
    return size;
}

}  // namespace

void MemoryIo::compact_input()
{
    if (in_offset == in.size()) {
        std::string().swap(in);
        in_offset = 0;
    } else if (in_offset > in.size() / 2) {
        in.erase(0, in_offset);
        in_offset = 0;
    }
}

void install_memory_io(WOLFSSL_CTX* ctx)
{
    wolfSSL_CTX_SetIORecv(ctx, receive);
    wolfSSL_CTX_SetIOSend(ctx, send);
}

void attach_memory_io(WOLFSSL* ssl, MemoryIo* io)
{
    wolfSSL_SetIOReadCtx(ssl, io);
    wolfSSL_SetIOWriteCtx(ssl, io);
}

}  // namespace tern::tls
