// Public. Where `duplex capture` gets its packets, through libpcap: a live capture on an
// interface (or `any`), or a pcap/pcapng file; a tcpdump filter (pcap_compile); a pcap file
// to write them to (-w).
//
// Every failure to open is a CaptureError whose what() is one line naming the cause and the
// fix: no CAP_NET_RAW, a missing interface, a bad filter (with pcap's own message), a file
// that is corrupt, truncated, or whose header claims an absurd snap length.
//
// A live source can also be driven by an event loop instead of run(): set_nonblocking(),
// watch selectable_fd() for reading, and call dispatch() when it is readable (the dashboard's
// Capture page does this, so that no thread blocks in libpcap).
//
// A source is used from one thread, except stop(), which any thread or a signal handler may
// call.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "duplex/apps/capture/line_output.h"
#include "duplex/base/error.h"

namespace duplex::capture {

class CaptureError : public Error {
 public:
  using Error::Error;
};

struct SourceOptions {
  std::string interface;  // live: a name, "any", or "" for the first up non-loopback one
  std::string file;       // offline (-r): a pcap or pcapng file, "-" for stdin
  int snaplen = 262144;   // bytes kept of each packet (tcpdump's default)
  bool promiscuous = true;
  // Deliver each packet as it arrives (the interactive line output). Off for -w: the kernel
  // then fills whole blocks of its ring before waking us, as tcpdump -w does, which costs
  // fewer wake-ups and drops fewer packets at high rates.
  bool immediate = true;
  int buffer_size = 0;  // the kernel ring in bytes; 0 keeps libpcap's default (2 MiB)
  std::string filter;   // tcpdump's syntax; "" keeps every packet
};

// One packet as the source hands it over; `bytes` is valid during the callback only.
struct CapturedPacket {
  Timestamp time;
  std::span<const std::uint8_t> bytes;  // as captured (at most the snap length)
  std::uint32_t length = 0;             // on the wire
};

// pcap_stats at the end of a live capture.
struct SourceStats {
  std::uint64_t received = 0;  // received by the filter
  std::uint64_t dropped = 0;   // dropped by the kernel (the ring was full)
  std::uint64_t interface_dropped = 0;
};

class PacketSource {
 public:
  // Opens the file when options.file is set, else the live interface; throws CaptureError.
  explicit PacketSource(const SourceOptions& options);
  ~PacketSource();
  PacketSource(const PacketSource&) = delete;
  PacketSource& operator=(const PacketSource&) = delete;

  bool live() const noexcept { return live_; }
  // The interface's or the file's name, as the messages use it.
  const std::string& name() const noexcept { return name_; }
  int link_type() const noexcept;
  // "EN10MB (Ethernet)", as tcpdump names it.
  std::string link_type_name() const;
  int snaplen() const noexcept;

  // Calls `fn` for each packet until `count` were delivered (0: no limit), the file ends or
  // stop() is called; returns how many were delivered. A file that turns out to be
  // truncated or corrupt midway throws CaptureError after the packets before the bad record.
  // Stopped live, it first hands over what the kernel has already accepted: the ring is
  // passed over a block at a time, and a block that is not full waits for its timer, so the
  // last packets before a Ctrl-C would otherwise be counted as received and never read
  // (tcpdump loses them). That takes at most 1.5 block timeouts (375 ms); a second stop()
  // ends it.
  std::uint64_t run(std::uint64_t count, const std::function<void(const CapturedPacket&)>& fn);
  // For an event loop (live captures): reads never block, and the fd polls readable when
  // packets wait. Throws CaptureError when libpcap refuses.
  void set_nonblocking();
  int selectable_fd() const noexcept;
  // Hands over the packets that wait, at most `max` (so one busy capture cannot hold the
  // loop); returns how many, 0 when none waited. Throws CaptureError when reading fails.
  std::uint64_t dispatch(int max, const std::function<void(const CapturedPacket&)>& fn);
  // Ends run() after the packet in hand (and the drain above). Safe to call from a signal
  // handler.
  void stop() noexcept;
  // The kernel's counters; live captures only.
  SourceStats stats() const;

  // libpcap's handle, for PacketWriter.
  void* handle() const noexcept { return pcap_; }

 private:
  void open_live(const SourceOptions& options);
  void open_file(const SourceOptions& options);
  void set_filter(const std::string& filter);
  [[noreturn]] void fail_reading();
  // After a stop(): reads what the kernel accepted before it; see run().
  void drain(std::uint64_t count, std::uint64_t& delivered, void* loop);

  void* pcap_ = nullptr;  // pcap_t*
  bool live_ = false;
  bool pcapng_ = false;
  std::string name_;
  // For a classic pcap file: where the next record starts, to name a truncated one.
  std::uint64_t file_offset_ = 0;
  std::uint64_t handed_over_ = 0;  // packets delivered by run() and dispatch() in all
  std::atomic<int> stops_{0};
};

// An interface libpcap can capture on (pcap_findalldevs), "any" included.
struct CaptureInterface {
  std::string name;
  std::string description;  // may be empty
  bool up = false;
  bool running = false;
  bool loopback = false;
};
// Every one, in libpcap's order (up ones first). Throws CaptureError when libpcap cannot
// list them.
std::vector<CaptureInterface> capture_interfaces();

// A pcap file written as packets arrive (-w), with the source's link type and snap length.
class PacketWriter {
 public:
  // Throws CaptureError when the file cannot be created.
  PacketWriter(const PacketSource& source, const std::string& path);
  ~PacketWriter();
  PacketWriter(const PacketWriter&) = delete;
  PacketWriter& operator=(const PacketWriter&) = delete;

  void write(const CapturedPacket& packet) noexcept;
  void flush() noexcept;

 private:
  void* dumper_ = nullptr;  // pcap_dumper_t*
};

}  // namespace duplex::capture
