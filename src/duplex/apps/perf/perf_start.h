// Public. The pieces of a test's "start" that both ends fill the same way: the connected
// streams (iperf3's "[  5] local ... connected to ..." lines) and the rest of StartInfo.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "duplex/apps/perf/perf_report.h"
#include "duplex/apps/perf/perf_stream.h"
#include "duplex/inet/endpoint.h"

namespace duplex::apps::perf {

// "[  5] local 127.0.0.1 port 5201 connected to 127.0.0.1 port 43790\n" (IPv4-mapped
// addresses shown as IPv4, as iperf3 shows them).
std::string connected_line(int fd, const inet::Endpoint& local, const inet::Endpoint& remote);
StartInfo::Connected connected_entry(int fd, const inet::Endpoint& local,
                                     const inet::Endpoint& remote);

// StartInfo with the system's name (uname), the first stream's socket buffer sizes and the
// peer (the server's address for a client, the client's for a server).
StartInfo make_start_info(const std::string& version, const std::string& cookie, bool server,
                          const inet::Endpoint& peer, const TestParameters& params,
                          std::uint32_t block_size,
                          const std::vector<std::unique_ptr<Stream>>& streams);

}  // namespace duplex::apps::perf
