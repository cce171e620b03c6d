#pragma once

// The scenarios: each runs on one io_context thread, prints every phase as it completes (a table unless
// --json, always one JSON line), and is bounded as a whole by the options' deadline.
#include "loadgen/options.hpp"

namespace tern::loadgen {

// 0: every session did what it should; 1: some failed; 2: the deadline cut the run short; 3: no start.
int run(const Options& options);

}  // namespace tern::loadgen
