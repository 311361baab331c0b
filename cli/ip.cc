// Placeholder: replaced by the real command in this session's work.
#include <iostream>

#include "commands.h"

namespace duplex::cli {
int ip_main(Argv) {
  std::cerr << "duplex ip: not built yet\n";
  return 1;
}
}  // namespace duplex::cli
