// `duplex capture`: decode packets layer by layer, live (libpcap) or from a pcap/pcapng file.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "args.h"
#include "commands.h"
#include "duplex/apps/capture/capture_stats.h"
#include "duplex/apps/capture/chain.h"
#include "duplex/apps/capture/flow_diagram.h"
#include "duplex/apps/capture/json_output.h"
#include "duplex/apps/capture/line_output.h"
#include "duplex/apps/capture/packet_source.h"
#include "duplex/apps/capture/tree_output.h"
#include "duplex/apps/capture/websocket_tracker.h"

namespace duplex::cli {
namespace {

constexpr const char* kHelp =
    R"help(Usage: duplex capture [-i IFACE|any] [-r FILE] [-w FILE] [-c COUNT] [-s SNAPLEN]
                      [-p] [-n] [-l] [-V] [-X] [--json] [--stats] [--flow] [FILTER...]

Captures packets (live with libpcap, or from a pcap/pcapng file) and decodes every header,
each labelled with its layer: link (Ethernet II, 802.1Q/802.1ad VLAN tags, Linux cooked
capture, ARP), network (IPv4 with options and fragments, IPv6 and its extension headers,
ICMP, ICMPv6), transport (TCP, UDP) and application (DNS on 53/5353, HTTP on 80/8080 or
wherever a payload starts like one, TLS on 443 or wherever a record header starts, and
WebSocket frames in a conversation whose "Upgrade: websocket" request got a 101: opcode, FIN,
mask and key, length and the unmasked text, several per segment; a frame that goes on in the
next segment is followed there, and after a gap the data is shown at no known frame rather
than guessed). A header cut short by the snap length, or malformed, is decoded as far as it
goes and marked with where and why it stopped.
Checksums are verified. A TCP or UDP checksum that holds only the pseudo-header's sum is
"unverified (partial, offloaded)", not bad: the sender left it to the NIC, as every packet a
host sends looks on lo, a veth or its own interface (tshark calls those bad, tcpdump -vv
incorrect). "bad" is kept for checksums that are wrong.

Options:
  -i, --interface IFACE  capture live on IFACE, or on every interface with `any` (default:
                         the first interface that is up and not a loopback, as tcpdump)
  -r, --read FILE        read a pcap or pcapng file ('-' for stdin) instead
  -w, --write FILE       write the packets to a pcap file instead of printing them; a
                         large kernel buffer and no immediate mode, so it drops no more
                         than tcpdump -w does
  -c, --count N          stop after N packets
  -s, --snaplen N        keep at most N bytes of each packet (default 262144)
  -p, --no-promiscuous   do not put the interface into promiscuous mode
  -n, --numeric          accepted for tcpdump's habits: addresses and ports are always numbers
  -l, --line-buffered    write each line as soon as it is decoded (always on a terminal)
  -V, --verbose          the layer tree: every header under a heading that names its layer in
                         both models, then each field with its value and meaning
  -X, --hex              the tree and the packet's bytes, each row named after its header
  --json                 one JSON object per packet and line: number, time, length,
                         captured, layers [{layer, osi, protocol, offset, length, fields}]
  --stats                at the end: packets and bytes per layer and per protocol, the top
                         talkers, and each TCP conversation (handshake RTT, packets and
                         bytes each way, retransmissions, FIN or reset)
  --flow                 at the end: the exchange as a ladder diagram, one column per host
                         (ARP request and reply, TCP handshake, data and ACKs with relative
                         numbers, retransmissions marked, the FIN exchange)
                         (--stats and --flow replace the per-packet lines; add -V for both)
  -h, --help             this help

FILTER is tcpdump's filter syntax (man pcap-filter), all remaining words joined.
Live capture needs root or CAP_NET_RAW. It runs until -c, SIGINT (Ctrl-C) or SIGTERM; on a
signal it first takes the packets that the kernel has already accepted (at most 0.4 s; a
second Ctrl-C skips them), then prints "N packets captured, M received by filter, K dropped
by kernel" on stderr. On lo the kernel counts each packet twice (its outgoing copy too).

Examples:
  duplex capture -i eth0 -c 10                    ten packets, one line each (tcpdump -nn)
  duplex capture -i any tcp port 80               HTTP traffic on every interface
  duplex capture -r trace.pcap -V icmp            the layer tree of each ICMP packet
  duplex capture -r trace.pcapng -X -c 1          the first packet's bytes, header by header
  duplex capture -r trace.pcap --json | jq '.layers[].protocol'
  duplex capture -i eth0 -w out.pcap arp          save ARP frames for Wireshark or tcpdump
  duplex capture -r trace.pcap --stats            who talked, which layers, TCP RTTs
  duplex capture -i any -V tcp port 8080          the dashboard's WebSocket frames, unmasked
  duplex capture -i any --flow -c 20 tcp port 7000  a handshake, data and FINs as a ladder
  duplex capture -i eth0 -s 96 -V                 headers only: the snap length cuts the rest
  sudo setcap cap_net_raw,cap_net_admin+ep "$(command -v duplex)"   capture without root

Exit status: 0 ok; 2 usage error, bad filter, missing interface, no permission to capture,
or a corrupt or truncated file (one line on stderr naming the cause and the fix).
)help";

capture::PacketSource* g_source = nullptr;

extern "C" void on_stop_signal(int) {
  if (g_source != nullptr) g_source->stop();
}

void watch_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked poll in libpcap returns
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// Output written in large blocks; flushed per packet only when asked (-l, a terminal).
class Output {
 public:
  explicit Output(bool line_buffered) : line_buffered_(line_buffered) { text_.reserve(kBlock); }
  ~Output() { flush(); }
  std::string& text() { return text_; }
  void packet_done() {
    if (line_buffered_ || text_.size() >= kBlock) flush();
  }
  void flush() {
    if (!text_.empty()) std::fwrite(text_.data(), 1, text_.size(), stdout);
    std::fflush(stdout);
    text_.clear();
  }

 private:
  static constexpr std::size_t kBlock = 1 << 16;
  std::string text_;
  bool line_buffered_;
};

std::string join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

}  // namespace

int capture_main(Argv argv) {
  Args args("duplex capture", argv,
            {{"interface", 'i', true},
             {"read", 'r', true},
             {"write", 'w', true},
             {"count", 'c', true},
             {"snaplen", 's', true},
             {"no-promiscuous", 'p', false},
             {"numeric", 'n', false},
             {"line-buffered", 'l', false},
             {"verbose", 'V', false},
             {"hex", 'X', false},
             {"json", 0, false},
             {"stats", 0, false},
             {"flow", 0, false}});
  if (args.help()) {
    std::cout << kHelp;
    return 0;
  }
  capture::SourceOptions options;
  options.file = args.value("read").value_or("");
  options.interface = args.value("interface").value_or("");
  if (!options.file.empty() && !options.interface.empty())
    args.fail("-r and -i both given: read a file or capture live, not both");
  options.snaplen = static_cast<int>(args.number("snaplen", 1, 262144).value_or(262144));
  options.promiscuous = !args.has("no-promiscuous");
  options.filter = join(args.positionals());
  const auto write_path = args.value("write");
  const std::uint64_t count = args.number("count", 1, UINT64_MAX >> 1).value_or(0);
  const bool json = args.has("json");
  const bool hex = args.has("hex");
  const bool tree = hex || args.has("verbose");
  const bool stats = args.has("stats");
  const bool flow = args.has("flow");
  if (json && tree) args.fail("--json and -V/-X both given: pick one output");
  if (json && (stats || flow))
    args.fail("--json prints JSON lines only: --stats and --flow print text (drop one)");
  if (write_path && (stats || flow))
    args.fail("-w writes the packets to a file: read it back with -r for --stats or --flow");
  const bool lines_wanted = json || tree || !(stats || flow);
  if (write_path && (json || tree))
    args.fail("-w writes the packets to a file: it prints none (drop -V/-X/--json)");
  // Lines for a person at a terminal come as they arrive; -w wants throughput instead.
  options.immediate = !write_path;
  if (write_path) options.buffer_size = 8 << 20;

  try {
    capture::PacketSource source(options);
    const int link_type = source.link_type();
    // From here SIGINT and SIGTERM end the capture cleanly (with the kernel's counts).
    g_source = &source;
    watch_stop_signals();
    if (source.live()) {
      // As tcpdump: where the packets come from, on stderr so that stdout stays the packets.
      // A file gets no such line, so that an error in it is the only line on stderr.
      std::cerr << "listening on " << source.name() << ", link-type " << source.link_type_name()
                << ", snapshot length " << source.snaplen() << " bytes" << std::endl;
    }
    std::optional<capture::PacketWriter> writer;
    if (write_path) writer.emplace(source, *write_path);

    Output out(args.has("line-buffered") || (source.live() && isatty(STDOUT_FILENO)));
    capture::LineFormatter lines;
    capture::CaptureStats statistics;
    capture::FlowDiagram ladder;
    capture::WebSocketTracker websockets;
    std::uint64_t number = 0;
    auto on_packet = [&](const capture::CapturedPacket& p) {
      ++number;
      if (writer) {
        writer->write(p);
        return;
      }
      auto decoded = capture::decode_packet(link_type, p.bytes, p.length);
      websockets.follow(decoded, p.bytes);
      if (stats) statistics.add(decoded, p.time);
      if (flow) ladder.add(decoded, p.bytes, p.time);
      if (!lines_wanted) return;
      std::string& text = out.text();
      if (json) {
        capture::append_packet_json(text, number, p.time, decoded.length, decoded.captured,
                                    capture::describe_packet(decoded, p.bytes));
        text += '\n';
      } else {
        lines.append_time(text, p.time);
        text += ' ';
        lines.append_summary(text, decoded, p.bytes);
        text += '\n';
        if (tree) {
          const auto headers = capture::describe_packet(decoded, p.bytes);
          text += capture::format_tree(headers);
          if (hex) text += capture::format_hex(headers, p.bytes);
          text += '\n';
        }
      }
      out.packet_done();
    };

    try {
      source.run(count, on_packet);
    } catch (...) {
      g_source = nullptr;
      out.flush();
      throw;
    }
    g_source = nullptr;
    if (flow) out.text() += (lines_wanted ? "\n" : "") + ladder.render();
    if (stats) out.text() += (lines_wanted || flow ? "\n" : "") + statistics.report();
    out.flush();
    if (writer) writer->flush();
    if (source.live()) {
      const auto s = source.stats();
      std::cerr << number << " packets captured, " << s.received << " received by filter, "
                << s.dropped << " dropped by kernel\n";
    }
  } catch (const capture::CaptureError& e) {
    std::cerr << "duplex capture: " << e.what() << '\n';
    return 2;
  }
  return 0;
}

}  // namespace duplex::cli
