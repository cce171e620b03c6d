// Asio's compiled part, built once (ASIO_SEPARATE_COMPILATION keeps it out of every other TU).
#include <asio/impl/src.hpp>
