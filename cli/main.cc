// The `duplex` command: dispatches to one command group per file.
#include <cstring>
#include <iostream>
#include <string_view>

#include "args.h"
#include "commands.h"
#include "duplex/base/error.h"

namespace {

struct Command {
  std::string_view name;
  int (*run)(duplex::cli::Argv);
  std::string_view summary;
};

constexpr Command kCommands[] = {
    {"ip", duplex::cli::ip_main, "IPv4/IPv6 addresses, subnets, split, aggregate, ranges (L3)"},
    {"mac", duplex::cli::mac_main, "MAC addresses: vendor, formats, I/G and U/L bits (L2)"},
    {"arp", duplex::cli::arp_main, "neighbour table, ARP ping/scan/watch on real frames (L2)"},
    {"ndp", duplex::cli::ndp_main,
     "IPv6 neighbours: NDP ping, duplicate address detection, routers (L2)"},
    {"echo", duplex::cli::echo_main, "TCP/UDP echo server: a test peer and benchmark target (L4)"},
    {"http", duplex::cli::http_main,
     "HTTP/1.1 server: static files, ranges, conditional requests (L7)"},
    {"connect", duplex::cli::connect_main, "stdin/stdout to a TCP/UDP peer, a better netcat (L4)"},
    {"listen", duplex::cli::listen_main, "wait for TCP/UDP peers: stdio, --exec, --broker (L4)"},
    {"serve", duplex::cli::serve_main,
     "the dashboard in the browser and a chat for terminals and browsers (L7)"},
    {"chat", duplex::cli::chat_main,
     "join a duplex serve chat room; --discover finds servers (L7)"},
    {"capture", duplex::cli::capture_main,
     "decode packets layer by layer, live or from pcap files (L2-L7)"},
    {"perf", duplex::cli::perf_main,
     "throughput test speaking iperf3's protocol: TCP_INFO, UDP loss and jitter (L4)"},
    {"impair", duplex::cli::impair_main,
     "a bump in the wire: loss, delay, rate, reordering between two interfaces (L2)"},
    {"lab", duplex::cli::lab_main, "three network namespaces, A - hop - B, for experiments (L2)"},
    {"scan", duplex::cli::scan_main, "which ports answer: a TCP connect scan, UDP, as nmap (L4)"},
    {"send", duplex::cli::send_main,
     "send files and directories: resumable, each checked with SHA-256 (L7)"},
    {"receive", duplex::cli::receive_main,
     "receive what duplex send offers, into a directory, verified (L7)"},
};

constexpr std::string_view kVersion = "0.1.0";

void print_usage(std::ostream& out) {
  out << "duplex " << kVersion << " - socket communication at every layer\n\n"
      << "Usage: duplex COMMAND [ARGS...]   (duplex COMMAND --help for details)\n\n"
      << "Commands:\n";
  for (const auto& c : kCommands) {
    out << "  " << c.name << std::string(10 - c.name.size(), ' ') << c.summary << '\n';
  }
  out << "\nExamples:\n"
      << "  duplex ip 192.168.1.10/24\n"
      << "  duplex ip same 172.16.10.1 172.16.10.2 --mask 255.255.255.0\n"
      << "  duplex mac 00:00:0c:12:34:56\n"
      << "\nExit status: 0 ok, 1 failed or \"no\", 2 usage error or bad input.\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  if (argc < 2) {
    print_usage(std::cerr);
    return 2;
  }
  std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(std::cout);
    return 0;
  }
  if (name == "--version" || name == "version") {
    std::cout << "duplex " << kVersion << '\n';
    return 0;
  }
  for (const auto& c : kCommands) {
    if (c.name != name) continue;
    try {
      return c.run(duplex::cli::Argv(argv + 2, static_cast<std::size_t>(argc - 2)));
    } catch (const duplex::cli::UsageError& e) {
      std::cerr << "duplex " << name << ": " << e.what() << '\n';
      return 2;
    } catch (const duplex::ParseError& e) {
      std::cerr << "duplex " << name << ": " << e.what() << '\n';
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "duplex " << name << ": " << e.what() << '\n';
      return 1;
    }
  }
  std::cerr << "duplex: unknown command '" << name << "'; see 'duplex --help'\n";
  return 2;
}
