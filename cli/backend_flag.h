// Internal to the CLI. `--backend epoll|uring` on the servers (echo, http serve, serve,
// listen, connect): the event loop's back-end for the loops made after it (issue 15).
#pragma once

#include "args.h"

namespace duplex::cli {

inline constexpr Option kBackendOption{"backend", 0, true};

// Sets the default back-end from --backend, if given; a UsageError names a bad word.
void apply_backend_flag(const Args& args);

}  // namespace duplex::cli
