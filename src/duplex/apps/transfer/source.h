// Public. What `duplex send` offers: the files and directories named on its command line,
// as offer entries, each with the local file it comes from.
#pragma once

#include <string>
#include <vector>

#include "duplex/apps/transfer/transfer_protocol.h"

namespace duplex::transfer {

struct Source {
  Offer offer;
  std::vector<std::string> local;     // per entry: the path to read it from
  std::vector<std::string> left_out;  // one line each: what a directory walk did not take
};

// A file is offered under its own name; a directory under its name with everything below
// it, in name order, as `scp -r` and `cp -r` name it. A symbolic link named here is
// followed; inside a directory, links and special files (sockets, FIFOs, devices) are left
// out and listed. Throws duplex::Error naming a path that is missing or unreadable, "/",
// or an offered path named twice.
Source collect(const std::vector<std::string>& paths);

}  // namespace duplex::transfer
