#include "duplex/apps/capture/packet_source.h"

#include <pcap/pcap.h>

#include <poll.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>

#include "duplex/base/wire.h"

namespace duplex::capture {
namespace {

// How long the kernel holds a block of the ring that is not full before handing it over
// (TPACKET_V3's retire timer). tcpdump uses 1,000 ms; a shorter one shows a slow capture
// sooner and bounds the wait for the last packets after a stop.
constexpr int kBlockTimeoutMs = 250;

// Above this a pcap header's snap length is not a capture setting but a corrupt (or not a
// pcap) file: libpcap's own maximum is 256 KiB, and no link carries 16 MiB frames.
constexpr std::uint32_t kAbsurdSnaplen = 16u << 20;
constexpr std::uint32_t kPcapFileHeader = 24;
constexpr std::uint32_t kPcapRecordHeader = 16;

pcap_t* as_pcap(void* p) noexcept { return static_cast<pcap_t*>(p); }

std::uint32_t read32(const unsigned char* p, bool swapped) noexcept {
  const std::uint32_t v = wire::be32(p);
  return swapped ? __builtin_bswap32(v) : v;
}

// Reads a classic pcap file's header before libpcap does: libpcap quietly lowers an absurd
// snap length, which would hide a corrupt header. Not a pcap (pcapng, or garbage): left to
// libpcap, which names what it found.
void check_pcap_header(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return;  // pcap_open_offline names the error
  unsigned char h[kPcapFileHeader];
  const std::size_t n = std::fread(h, 1, sizeof h, f);
  std::fclose(f);
  if (n < sizeof h) return;
  const std::uint32_t magic = wire::be32(h);
  bool swapped;
  if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
    swapped = false;
  else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
    swapped = true;
  else
    return;
  const std::uint32_t snaplen = read32(h + 16, swapped);
  if (snaplen > kAbsurdSnaplen)
    throw CaptureError(path + ": the pcap header's snap length " + std::to_string(snaplen) +
                       " is absurd (above " + std::to_string(kAbsurdSnaplen) +
                       " bytes); the file is corrupt or not a pcap file");
}

// A libpcap message without its own "truncated dump file; " style prefix repeated.
std::string live_error(int status, pcap_t* p, const std::string& device) {
  switch (status) {
    case PCAP_ERROR_PERM_DENIED:
      return "capturing on " + device +
             " needs root or CAP_NET_RAW: run as root, or give the binary the capability with "
             "`sudo setcap cap_net_raw,cap_net_admin+ep $(command -v duplex)`";
    case PCAP_ERROR_PROMISC_PERM_DENIED:
      return "promiscuous mode on " + device +
             " needs CAP_NET_ADMIN: run as root, or capture without it (-p)";
    case PCAP_ERROR_NO_SUCH_DEVICE:
      return "no interface named '" + device +
             "': `ip link` lists them; -i any captures on every interface";
    case PCAP_ERROR_IFACE_NOT_UP:
      return "interface " + device + " is down: bring it up with `ip link set " + device + " up`";
    case PCAP_ERROR_RFMON_NOTSUP:
    case PCAP_ERROR_NOT_RFMON:
    case PCAP_ERROR:
    default: {
      std::string why = pcap_geterr(p);
      if (why.empty()) why = pcap_statustostr(status);
      return "cannot capture on " + device + ": " + why;
    }
  }
}

}  // namespace

std::vector<CaptureInterface> capture_interfaces() {
  pcap_if_t* all = nullptr;
  char error[PCAP_ERRBUF_SIZE] = {};
  if (pcap_findalldevs(&all, error) != 0)
    throw CaptureError(std::string("cannot list the interfaces: ") + error);
  std::vector<CaptureInterface> out;
  for (const pcap_if_t* d = all; d != nullptr; d = d->next)
    out.push_back({d->name, d->description != nullptr ? d->description : "",
                   (d->flags & PCAP_IF_UP) != 0, (d->flags & PCAP_IF_RUNNING) != 0,
                   (d->flags & PCAP_IF_LOOPBACK) != 0});
  pcap_freealldevs(all);
  return out;
}

namespace {

// The interface tcpdump would pick: the first that is up and not a loopback.
std::string default_device() {
  for (const auto& i : capture_interfaces())
    if (!i.loopback && i.up && i.name != "any") return i.name;
  throw CaptureError("no interface is up to capture on: name one with -i (or -i any)");
}

struct Loop {
  const std::function<void(const CapturedPacket&)>* fn;
  std::uint64_t* offset;
};

void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
  auto* loop = reinterpret_cast<Loop*>(user);
  CapturedPacket p;
  p.time.seconds = h->ts.tv_sec;
  p.time.microseconds = static_cast<std::uint32_t>(h->ts.tv_usec);
  p.bytes = {bytes, h->caplen};
  p.length = h->len;
  *loop->offset += kPcapRecordHeader + h->caplen;
  (*loop->fn)(p);
}

}  // namespace

PacketSource::PacketSource(const SourceOptions& options) {
  if (!options.file.empty())
    open_file(options);
  else
    open_live(options);
  try {
    if (!options.filter.empty()) set_filter(options.filter);
  } catch (...) {
    pcap_close(as_pcap(pcap_));
    throw;
  }
}

PacketSource::~PacketSource() {
  if (pcap_ != nullptr) pcap_close(as_pcap(pcap_));
}

void PacketSource::open_file(const SourceOptions& options) {
  name_ = options.file;
  if (name_ != "-") check_pcap_header(name_);
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(name_.c_str(), error);
  if (p == nullptr) {
    std::string why = error;
    if (why.find("truncated dump file") != std::string::npos ||
        why.find("unknown file format") != std::string::npos)
      why += " (not a whole pcap or pcapng file)";
    throw CaptureError(name_ + ": " + why);
  }
  pcap_ = p;
  pcapng_ = pcap_major_version(p) == 1;
  file_offset_ = kPcapFileHeader;
}

void PacketSource::open_live(const SourceOptions& options) {
  name_ = options.interface.empty() ? default_device() : options.interface;
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_create(name_.c_str(), error);
  if (p == nullptr) throw CaptureError("cannot capture on " + name_ + ": " + error);
  pcap_set_snaplen(p, options.snaplen);
  pcap_set_promisc(p, options.promiscuous && name_ != "any" ? 1 : 0);
  pcap_set_timeout(p, kBlockTimeoutMs);
  pcap_set_immediate_mode(p, options.immediate ? 1 : 0);
  if (options.buffer_size > 0) pcap_set_buffer_size(p, options.buffer_size);
  const int status = pcap_activate(p);
  if (status < 0) {
    const std::string message = live_error(status, p, name_);
    pcap_close(p);
    throw CaptureError(message);
  }
  pcap_ = p;
  live_ = true;
  // On `any`, the cooked v2 header keeps the interface of each packet, as tcpdump shows it.
  if (name_ == "any") pcap_set_datalink(p, DLT_LINUX_SLL2);
}

void PacketSource::set_filter(const std::string& filter) {
  bpf_program program{};
  pcap_t* p = as_pcap(pcap_);
  if (pcap_compile(p, &program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    throw CaptureError("bad filter '" + filter + "': " + pcap_geterr(p) +
                       " (the syntax is tcpdump's: man pcap-filter)");
  const int status = pcap_setfilter(p, &program);
  pcap_freecode(&program);
  if (status != 0) throw CaptureError("cannot set the filter: " + std::string(pcap_geterr(p)));
}

int PacketSource::link_type() const noexcept { return pcap_datalink(as_pcap(pcap_)); }

std::string PacketSource::link_type_name() const {
  const int dlt = link_type();
  const char* name = pcap_datalink_val_to_name(dlt);
  const char* description = pcap_datalink_val_to_description(dlt);
  if (name == nullptr) return "DLT " + std::to_string(dlt);
  return std::string(name) + (description ? std::string(" (") + description + ")" : "");
}

int PacketSource::snaplen() const noexcept { return pcap_snapshot(as_pcap(pcap_)); }

std::uint64_t PacketSource::run(std::uint64_t count,
                                const std::function<void(const CapturedPacket&)>& fn) {
  std::uint64_t delivered = 0;
  auto counted = [&](const CapturedPacket& p) {
    ++delivered;
    ++handed_over_;
    fn(p);
  };
  const std::function<void(const CapturedPacket&)> call = counted;
  Loop loop{&call, &file_offset_};
  while (count == 0 || delivered < count) {
    const std::uint64_t left = count == 0 ? 0 : count - delivered;
    const int n = left > INT_MAX ? INT_MAX : static_cast<int>(left);
    const int status =
        pcap_loop(as_pcap(pcap_), n == 0 ? -1 : n, on_packet, reinterpret_cast<u_char*>(&loop));
    if (status == PCAP_ERROR_BREAK) {
      if (live_) drain(count, delivered, &loop);
      break;
    }
    if (status == PCAP_ERROR) fail_reading();
    if (!live_ || status == 0) break;  // the file's end, or `count` delivered
  }
  return delivered;
}

void PacketSource::set_nonblocking() {
  char error[PCAP_ERRBUF_SIZE] = {};
  if (pcap_setnonblock(as_pcap(pcap_), 1, error) != 0)
    throw CaptureError("cannot read " + name_ + " without blocking: " + error);
}

int PacketSource::selectable_fd() const noexcept { return pcap_get_selectable_fd(as_pcap(pcap_)); }

std::uint64_t PacketSource::dispatch(int max,
                                     const std::function<void(const CapturedPacket&)>& fn) {
  Loop loop{&fn, &file_offset_};
  const int n = pcap_dispatch(as_pcap(pcap_), max, on_packet, reinterpret_cast<u_char*>(&loop));
  if (n == PCAP_ERROR) fail_reading();
  if (n <= 0) return 0;
  handed_over_ += static_cast<std::uint64_t>(n);
  return static_cast<std::uint64_t>(n);
}

void PacketSource::drain(std::uint64_t count, std::uint64_t& delivered, void* loop) {
  // Every packet that the filter accepted was either dropped (the ring was full) or put in
  // the ring; read until all of those have been handed over, or until the block timer has
  // surely fired once since the stop (then every block holding an earlier packet has been
  // handed over). The counts can stay apart: traffic goes on, and libpcap drops in user
  // space what the kernel counted, such as a loopback packet's outgoing copy.
  pcap_t* p = as_pcap(pcap_);
  char error[PCAP_ERRBUF_SIZE] = {};
  // Blocking reads would wait in poll() without a timeout (TPACKET_V3 leaves it to the
  // kernel's timer), past the deadline if nothing more comes.
  if (pcap_setnonblock(p, 1, error) != 0) return;
  const int fd = pcap_get_selectable_fd(p);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(kBlockTimeoutMs + kBlockTimeoutMs / 2);
  while (stops_.load() < 2 && (count == 0 || delivered < count)) {
    const SourceStats s = stats();
    if (s.received <= handed_over_ + s.dropped) break;
    const std::uint64_t left = count == 0 ? 0 : count - delivered;
    const int n = left == 0 || left > INT_MAX ? -1 : static_cast<int>(left);
    const int got = pcap_dispatch(p, n, on_packet, static_cast<u_char*>(loop));
    if (got == PCAP_ERROR) fail_reading();
    if (got > 0) continue;
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (wait.count() <= 0 || fd < 0) break;
    pollfd readable{fd, POLLIN, 0};
    ::poll(&readable, 1, static_cast<int>(wait.count()));  // EINTR: a second stop(), or not
  }
}

void PacketSource::fail_reading() {
  const std::string why = pcap_geterr(as_pcap(pcap_));
  if (!live_ && why.find("truncated") != std::string::npos) {
    if (pcapng_) {
      throw CaptureError(name_ + ": truncated block (" + why +
                         "); the file was cut short (re-capture, or read what came before "
                         "with -c)");
    }
    throw CaptureError(name_ + ": truncated packet record at byte " + std::to_string(file_offset_) +
                       "; the file was cut short (re-capture, or read what came before with -c)");
  }
  if (!live_)
    throw CaptureError(name_ + ": corrupt record at byte " + std::to_string(file_offset_) + ": " +
                       why + " (read what came before with -c)");
  throw CaptureError("capture on " + name_ + " failed: " + why);
}

void PacketSource::stop() noexcept {
  stops_.fetch_add(1);
  pcap_breakloop(as_pcap(pcap_));
}

SourceStats PacketSource::stats() const {
  pcap_stat s{};
  if (!live_ || pcap_stats(as_pcap(pcap_), &s) != 0) return {};
  return {s.ps_recv, s.ps_drop, s.ps_ifdrop};
}

PacketWriter::PacketWriter(const PacketSource& source, const std::string& path) {
  pcap_t* p = as_pcap(source.handle());
  pcap_dumper_t* d = pcap_dump_open(p, path.c_str());
  if (d == nullptr) throw CaptureError("cannot write " + path + ": " + pcap_geterr(p));
  dumper_ = d;
}

PacketWriter::~PacketWriter() {
  if (dumper_ != nullptr) pcap_dump_close(static_cast<pcap_dumper_t*>(dumper_));
}

void PacketWriter::write(const CapturedPacket& packet) noexcept {
  pcap_pkthdr h{};
  h.ts.tv_sec = static_cast<time_t>(packet.time.seconds);
  h.ts.tv_usec = static_cast<suseconds_t>(packet.time.microseconds);
  h.caplen = static_cast<bpf_u_int32>(packet.bytes.size());
  h.len = packet.length;
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, packet.bytes.data());
}

void PacketWriter::flush() noexcept { pcap_dump_flush(static_cast<pcap_dumper_t*>(dumper_)); }

}  // namespace duplex::capture
