#include "backend_flag.h"

#include "duplex/reactor/event_loop.h"

namespace duplex::cli {

void apply_backend_flag(const Args& args) {
  const auto word = args.value("backend");
  if (!word) return;
  const auto backend = parse_backend(*word);
  if (!backend) args.fail("--backend " + *word + ": say epoll or uring");
  EventLoop::set_default_backend(*backend);
}

}  // namespace duplex::cli
