// Placeholder: replaced by the real command in this session's work.
#include <iostream>

#include "commands.h"

namespace duplex::cli {
int mac_main(Argv) {
  std::cerr << "duplex mac: not built yet\n";
  return 1;
}
}  // namespace duplex::cli
