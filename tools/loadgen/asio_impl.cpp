// Asio's compiled part for tern-loadgen (ASIO_SEPARATE_COMPILATION keeps it out of the other TUs).
#include <asio/impl/src.hpp>
