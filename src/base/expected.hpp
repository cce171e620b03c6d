#pragma once

// The one place that names the Result type, so moving to std::expected (C++23) is a one-line change.
#include <tl/expected.hpp>

namespace tern {

template <class T, class E>
using expected = tl::expected<T, E>;

template <class E>
using unexpected = tl::unexpected<E>;

template <class E>
unexpected<std::decay_t<E>> make_unexpected(E&& e)
{
    return unexpected<std::decay_t<E>>(std::forward<E>(e));
}

}  // namespace tern
