// The io_uring back-end (issue 15). One ring per EventLoop, created in the loop's thread
// (SINGLE_ISSUER | DEFER_TASKRUN where the kernel has them, 6.1+: completions run when the
// loop asks for them, not by interrupting it).
//
// Channels: each is one one-shot POLL_ADD, armed again at the start of the next poll() after
// its callbacks ran, if it still has interest. A one-shot poll checks readiness when it is
// armed, so a callback that leaves bytes unread is woken again: level-triggered, as the epoll
// back-end. An interest that changes while armed removes the poll (POLL_REMOVE); its -ECANCELED
// completion then arms it afresh.
//
// Completions (uring.h): multishot receives into one provided-buffer ring per loop, sends,
// cancels. Everything a round prepared leaves in the one io_uring_enter that also waits.
//
// user_data: a pointer with the kind in its low two bits (both types are 8-byte aligned).
#include <liburing.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>

#include "duplex/reactor/channel.h"
#include "duplex/reactor/poller.h"
#include "duplex/reactor/uring.h"

namespace duplex {
namespace {

static_assert(Uring::kGone == -ESHUTDOWN);

constexpr std::uint64_t kTagOp = 0;      // a UringOp
constexpr std::uint64_t kTagPoll = 1;    // a PollEntry
constexpr std::uint64_t kTagIgnore = 2;  // the answer to a cancel or a POLL_REMOVE
constexpr std::uint64_t kTagMask = 3;

constexpr unsigned kSqEntries = 1024;
constexpr unsigned kCqEntries = 8192;
// Provided buffers, 2 MiB in all, which the kernel fills in rotation (so all of it becomes
// resident once traffic has passed through). Consumed incrementally where the kernel can
// (IOU_PBUF_RING_INC, 6.12+): 32 buffers of 64 KiB, and a receive takes only what it needs
// from the buffer at the head, so many small messages share one buffer; else 128 of 16 KiB,
// one per completion. A receive that finds none left ends with -ENOBUFS and is armed again
// once buffers come back.
constexpr unsigned kBufBytes = 2u << 20;
constexpr unsigned kIncShift = 16;
constexpr unsigned kWholeShift = 14;
constexpr unsigned kMaxBufs = kBufBytes >> kWholeShift;  // a power of two, as the ring wants
constexpr unsigned kBufGroup = 0;
constexpr std::uint16_t kPbufRingInc = 2;       // IOU_PBUF_RING_INC (liburing 2.3 lacks it)
constexpr std::uint32_t kCqeBufMore = 1u << 4;  // IORING_CQE_F_BUF_MORE
constexpr auto kTeardownLimit = std::chrono::seconds(2);

struct PollEntry {
  Channel* channel = nullptr;  // nullptr: the channel left; the entry is free once disarmed
  std::uint32_t armed_mask = 0;
  bool armed = false;     // a POLL_ADD is out
  bool removing = false;  // a POLL_REMOVE for it is out
  bool queued = false;    // in rearm_
  int slot = -1;          // its index in store_, which is the channel's poller_slot()
};

// The ring and everything on it. Not polymorphic, so that Uring's calls reach it with a
// static_cast that UBSan need not check (see UringOp).
class UringCore final : public Uring {
 public:
  ~UringCore() { teardown(); }

  bool init(std::string* why) {
    io_uring_params p{};
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    p.cq_entries = kCqEntries;
    int err = io_uring_queue_init_params(kSqEntries, &ring_, &p);
    if (err == -EINVAL) {  // before 6.1: no DEFER_TASKRUN
      p = io_uring_params{};
      p.flags = IORING_SETUP_CQSIZE;
      p.cq_entries = kCqEntries;
      err = io_uring_queue_init_params(kSqEntries, &ring_, &p);
    }
    if (err < 0) {
      *why = std::string("io_uring_setup: ") + std::strerror(-err);
      return false;
    }
    ring_ok_ = true;
    if (!(p.features & IORING_FEAT_EXT_ARG)) {
      *why = "io_uring without IORING_FEAT_EXT_ARG (a kernel older than 5.11)";
      return false;
    }
    br_bytes_ = kMaxBufs * sizeof(io_uring_buf);
    void* br =
        ::mmap(nullptr, br_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void* bufs = ::mmap(nullptr, kBufBytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (br == MAP_FAILED || bufs == MAP_FAILED) {
      if (br != MAP_FAILED) ::munmap(br, br_bytes_);
      if (bufs != MAP_FAILED) ::munmap(bufs, kBufBytes);
      *why = std::string("mmap of the receive buffers: ") + std::strerror(errno);
      return false;
    }
    br_ = static_cast<io_uring_buf_ring*>(br);
    bufs_ = static_cast<char*>(bufs);
    io_uring_buf_ring_init(br_);
    for (const bool inc : {true, false}) {
      buf_shift_ = inc ? kIncShift : kWholeShift;
      buf_count_ = kBufBytes >> buf_shift_;
      io_uring_buf_reg reg{};
      reg.ring_addr = reinterpret_cast<std::uint64_t>(br_);
      reg.ring_entries = buf_count_;
      reg.bgid = kBufGroup;
      reg.pad = inc ? kPbufRingInc : 0;  // the flags field in newer headers
      err = io_uring_register_buf_ring(&ring_, &reg, 0);
      if (err == 0 || !inc) break;
    }
    if (err < 0) {
      *why = std::string("io_uring_register_buf_ring: ") + std::strerror(-err) +
             " (provided buffer rings need Linux 5.19)";
      return false;
    }
    registered_ = true;
    offsets_.assign(buf_count_, 0);
    for (unsigned bid = 0; bid < buf_count_; ++bid) give_back(bid);
    io_uring_buf_ring_advance(br_, static_cast<int>(returned_));
    returned_ = 0;
    return true;
  }

  // --- what the Poller does ---

  void poll(int timeout_ms, std::vector<Channel*>& ready) {
    for (PollEntry* e : rearm_) {
      e->queued = false;
      if (e->armed) continue;
      if (e->channel == nullptr) {
        release(e);
      } else if (!e->channel->has_no_interest()) {
        arm(e);
      }
    }
    rearm_.clear();
    flush_buffers();
    __kernel_timespec ts{};
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = static_cast<long long>(timeout_ms % 1000) * 1'000'000;
    io_uring_cqe* cqe = nullptr;
    const int r =
        io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, timeout_ms < 0 ? nullptr : &ts, nullptr);
    if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
      std::fprintf(stderr,
                   "duplex: io_uring_enter: %s; the event loop's ring is broken (a bug in the "
                   "program), so it stops here; DUPLEX_BACKEND=epoll avoids io_uring\n",
                   std::strerror(-r));
      std::abort();
    }
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      const std::uint64_t ud = cqe->user_data;
      switch (ud & kTagMask) {
        case kTagOp: {
          done_.push_back({reinterpret_cast<UringOp*>(ud), cqe->res, cqe->flags});
          if (!more(cqe->flags)) --ops_;
          break;
        }
        case kTagPoll: {
          auto* e = reinterpret_cast<PollEntry*>(ud & ~kTagMask);
          e->armed = false;
          e->removing = false;
          --ops_;
          // What epoll would report: the interest (an old mask may have fired before its
          // POLL_REMOVE), errors and hang-ups.
          const std::uint32_t got =
              cqe->res > 0 && e->channel != nullptr
                  ? static_cast<std::uint32_t>(cqe->res) &
                        (e->channel->interest() | POLLERR | POLLHUP | POLLRDHUP)
                  : 0;
          if (got != 0) {
            e->channel->set_ready(got);
            ready.push_back(e->channel);
          }
          queue_rearm(e);  // after the callbacks: armed again, changed or released
          break;
        }
        default:
          break;
      }
    }
    io_uring_cq_advance(&ring_, seen);
  }

  void update(Channel* c) {
    PollEntry* e = entry_of(c);
    if (e->armed) {
      if (e->armed_mask != c->interest() && !e->removing) remove_poll(e);
    } else {
      queue_rearm(e);
    }
  }

  void remove(Channel* c) {
    if (c->poller_slot() < 0) return;
    PollEntry* e = &store_[static_cast<std::size_t>(c->poller_slot())];
    c->set_poller_slot(-1);
    e->channel = nullptr;
    if (e->armed) {
      if (!e->removing) remove_poll(e);
    } else {
      queue_rearm(e);  // released at the next poll()
    }
  }

  void run_completions() {
    // A completion can prepare operations but never poll; while the loop is destroyed, what
    // it starts completes at once (gone()), appended here: hence an index, not iterators.
    for (std::size_t i = 0; i < done_.size(); ++i)
      done_[i].op->complete(done_[i].res, done_[i].flags);
    done_.clear();
  }

  // --- Uring ---

  void do_recv(int fd, UringOp* op) {
    if (gone(op)) return;
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufGroup;
    io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(op) | kTagOp);
    ++ops_;
  }

  void do_send(int fd, const char* data, std::size_t len, int flags, UringOp* op) {
    if (gone(op)) return;
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_send(sqe, fd, data, len, flags | MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(op) | kTagOp);
    ++ops_;
  }

  void do_cancel(UringOp* op) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(op) | kTagOp, 0);
    io_uring_sqe_set_data64(sqe, kTagIgnore);
  }

  void do_submit() {
    if (io_uring_sq_ready(&ring_) == 0) return;
    flush_buffers();
    io_uring_submit(&ring_);
  }

  // Incremental buffers: a completion's bytes start where the last one's of that buffer
  // ended, and the buffer goes back only once the kernel is done with it (no BUF_MORE).
  const char* do_buffer(std::uint32_t flags) const {
    const unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
    return bufs_ + (std::size_t{bid} << buf_shift_) + offsets_[bid];
  }

  void do_recycle(int res, std::uint32_t flags) {
    if (!has_buffer(flags)) return;
    const unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
    if ((flags & kCqeBufMore) && res > 0) {
      offsets_[bid] += static_cast<std::uint32_t>(res);
      return;
    }
    offsets_[bid] = 0;
    give_back(bid);
  }

 private:
  struct Done {
    UringOp* op;
    int res;
    std::uint32_t flags;
  };

  // While the loop is destroyed nothing new starts: the op's completion says kGone.
  bool gone(UringOp* op) {
    if (!tearing_down_) return false;
    done_.push_back({op, kGone, 0});
    return true;
  }

  io_uring_sqe* get_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (sqe == nullptr) {  // the SQ is full: hand it to the kernel and take a fresh one
      flush_buffers();
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void give_back(unsigned bid) {
    io_uring_buf_ring_add(br_, bufs_ + (std::size_t{bid} << buf_shift_), 1u << buf_shift_,
                          static_cast<unsigned short>(bid), io_uring_buf_ring_mask(buf_count_),
                          static_cast<int>(returned_));
    ++returned_;
  }

  void flush_buffers() {
    if (returned_ == 0) return;
    io_uring_buf_ring_advance(br_, static_cast<int>(returned_));
    returned_ = 0;
  }

  // A channel's slot is its entry's index in store_.
  PollEntry* entry_of(Channel* c) {
    if (c->poller_slot() >= 0) return &store_[static_cast<std::size_t>(c->poller_slot())];
    PollEntry* e;
    if (!free_.empty()) {
      e = free_.back();
      free_.pop_back();
      *e = PollEntry{.slot = e->slot};
    } else {
      e = &store_.emplace_back();
      e->slot = static_cast<int>(store_.size() - 1);
    }
    e->channel = c;
    c->set_poller_slot(e->slot);
    return e;
  }

  void queue_rearm(PollEntry* e) {
    if (e->queued) return;
    e->queued = true;
    rearm_.push_back(e);
  }

  // The channel left and no poll is out: the entry (and its slot) can serve another one.
  void release(PollEntry* e) { free_.push_back(e); }

  void arm(PollEntry* e) {
    io_uring_sqe* sqe = get_sqe();
    e->armed_mask = e->channel->interest();
    io_uring_prep_poll_add(sqe, e->channel->fd(), e->armed_mask);
    io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(e) | kTagPoll);
    e->armed = true;
    ++ops_;
  }

  void remove_poll(PollEntry* e) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_poll_remove(sqe, reinterpret_cast<std::uint64_t>(e) | kTagPoll);
    io_uring_sqe_set_data64(sqe, kTagIgnore);
    e->removing = true;
  }

  // Every operation still out is cancelled and its final completion awaited, so that what
  // it holds (a connection keeps itself alive while it has an operation out) is let go;
  // receives that finished meanwhile are not delivered any more.
  void teardown() {
    tearing_down_ = true;
    if (ring_ok_ && ops_ > 0) {
      io_uring_sqe* sqe = get_sqe();
      io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
      io_uring_sqe_set_data64(sqe, kTagIgnore);
      const auto deadline = std::chrono::steady_clock::now() + kTeardownLimit;
      while (ops_ > 0 && std::chrono::steady_clock::now() < deadline) {
        __kernel_timespec ts{0, 100'000'000};
        io_uring_cqe* cqe = nullptr;
        const int r = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
        if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY) break;
        unsigned head = 0;
        unsigned seen = 0;
        io_uring_for_each_cqe(&ring_, head, cqe) {
          ++seen;
          const std::uint64_t ud = cqe->user_data;
          if ((ud & kTagMask) == kTagPoll) {
            --ops_;
          } else if ((ud & kTagMask) == kTagOp) {
            do_recycle(cqe->res, cqe->flags);
            if (!more(cqe->flags)) {
              --ops_;
              done_.push_back({reinterpret_cast<UringOp*>(ud), kGone, 0});
            }
          }
        }
        io_uring_cq_advance(&ring_, seen);
        run_completions();
      }
    }
    if (registered_) io_uring_unregister_buf_ring(&ring_, kBufGroup);
    if (ring_ok_) io_uring_queue_exit(&ring_);
    if (br_ != nullptr) ::munmap(br_, br_bytes_);
    if (bufs_ != nullptr) ::munmap(bufs_, kBufBytes);
  }

  io_uring ring_{};
  bool ring_ok_ = false;
  bool registered_ = false;
  io_uring_buf_ring* br_ = nullptr;
  std::size_t br_bytes_ = 0;
  char* bufs_ = nullptr;
  unsigned buf_shift_ = kWholeShift;
  unsigned buf_count_ = 0;
  std::vector<std::uint32_t> offsets_;  // per buffer: where its next completion's bytes start
  unsigned returned_ = 0;               // buffers given back since the last advance
  std::size_t ops_ = 0;                 // polls and operations whose final completion has not come
  bool tearing_down_ = false;
  std::deque<PollEntry> store_;  // stable addresses: they are the polls' user_data
  std::vector<PollEntry*> free_;
  std::vector<PollEntry*> rearm_;
  std::vector<Done> done_;
};

class UringPoller final : public Poller {
 public:
  bool init(std::string* why) { return core_.init(why); }
  void poll(int timeout_ms, std::vector<Channel*>& ready) override {
    core_.poll(timeout_ms, ready);
  }
  void update(Channel* channel) override { core_.update(channel); }
  void remove(Channel* channel) override { core_.remove(channel); }
  void run_completions() override { core_.run_completions(); }
  Uring* uring() noexcept override { return &core_; }

 private:
  UringCore core_;
};

}  // namespace

void Uring::recv(int fd, UringOp* op) { static_cast<UringCore*>(this)->do_recv(fd, op); }
void Uring::send(int fd, const char* data, std::size_t len, int flags, UringOp* op) {
  static_cast<UringCore*>(this)->do_send(fd, data, len, flags, op);
}
void Uring::cancel(UringOp* op) { static_cast<UringCore*>(this)->do_cancel(op); }
void Uring::submit() { static_cast<UringCore*>(this)->do_submit(); }
const char* Uring::buffer(std::uint32_t flags) const {
  return static_cast<const UringCore*>(this)->do_buffer(flags);
}
void Uring::recycle(int res, std::uint32_t flags) {
  static_cast<UringCore*>(this)->do_recycle(res, flags);
}

std::unique_ptr<Poller> make_uring_poller(std::string* why) {
  auto p = std::make_unique<UringPoller>();
  if (!p->init(why)) return nullptr;
  return p;
}

}  // namespace duplex
