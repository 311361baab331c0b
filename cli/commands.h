// Internal to the CLI. Every command group is one function in its own file; main.cc
// holds the table that maps names to them.
//
// A command returns its exit status. Exit statuses, the same for every command:
//   0  success (or "yes", for questions such as `duplex ip same`)
//   1  the operation failed or the answer is "no" (refused, unreachable, timed out,
//      different subnets)
//   2  usage error or bad input (unknown option, '300.1.1.1', a missing argument)
#pragma once

#include <span>

namespace duplex::cli {

using Argv = std::span<char* const>;

int ip_main(Argv args);       // cli/ip.cc
int mac_main(Argv args);      // cli/mac.cc
int arp_main(Argv args);      // cli/arp.cc
int echo_main(Argv args);     // cli/echo.cc
int http_main(Argv args);     // cli/http.cc
int connect_main(Argv args);  // cli/connect.cc
int listen_main(Argv args);   // cli/listen.cc
int serve_main(Argv args);    // cli/serve.cc
int chat_main(Argv args);     // cli/chat.cc
int capture_main(Argv args);  // cli/capture.cc
int perf_main(Argv args);     // cli/perf.cc
int impair_main(Argv args);   // cli/impair.cc
int lab_main(Argv args);      // cli/lab.cc
int scan_main(Argv args);     // cli/scan.cc
int ndp_main(Argv args);      // cli/ndp.cc
int send_main(Argv args);     // cli/transfer.cc
int receive_main(Argv args);  // cli/transfer.cc

}  // namespace duplex::cli
