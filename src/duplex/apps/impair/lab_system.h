// Internal to the lab. The system calls under it; each throws duplex::Error naming the cause.
#pragma once

#include <string>

namespace duplex::impair {

// Checksum offload, TSO, GSO and GRO off on `interface` (of the calling thread's namespace).
void disable_offloads(const std::string& interface);

// Writes `value` to a /proc/sys file (of the calling thread's namespace, for net.*).
void write_sysctl(const std::string& path, const std::string& value);

}  // namespace duplex::impair
