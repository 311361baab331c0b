/* The completion-based ceiling of the ping-pong benchmark (issue 15): a plain io_uring echo
 * server with no library beyond liburing. One multishot accept; per connection one multishot
 * receive into a ring of provided buffers (no per-read submission, no buffer of its own);
 * each received buffer goes straight back out as a send of the same bytes, and returns to
 * the ring once the send completes. Sends of one connection go one at a time, in order
 * (a later one waits in the connection's queue), and a short send is resubmitted for the
 * rest. Every SQE of a loop round leaves in the one io_uring_enter that also waits for the
 * next completions. The ring is SINGLE_ISSUER | DEFER_TASKRUN where the kernel has them
 * (6.1+): completions are run when we ask for them, not by interrupting the loop.
 * Usage: uring_echo PORT [1] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

enum {
  kEntries = 4096,
  kBufShift = 14, /* 16 KiB a buffer: the largest message of the matrix */
  kBufSize = 1 << kBufShift,
  kBufCount = 4096, /* 64 MiB in all; a power of two, as the ring wants */
  kGroup = 0,
};

enum op { kAccept = 0, kRecv = 1, kSend = 2 };

struct pending {
  unsigned short bid;
  unsigned len, off;
};

struct conn {
  int fd;
  int closing;          /* EOF or an error: close once no send or receive is in flight */
  int sending;          /* a send SQE is out */
  int receiving;        /* the multishot receive is armed (no final CQE yet) */
  int shut;             /* shutdown() called to end the receive */
  struct conn* starved; /* next in the list of receives that ran out of buffers */
  struct pending* q;    /* q[head..tail): sends waiting, q[head] the one in flight */
  unsigned head, tail, cap;
};

static struct io_uring g_ring;
static struct io_uring_buf_ring* g_br;
static char* g_bufs;
static struct conn* g_starved; /* receives to arm again once buffers come back */
static unsigned g_returned;    /* buffers given back in this loop round */

static struct io_uring_sqe* sqe_get(void) {
  struct io_uring_sqe* sqe = io_uring_get_sqe(&g_ring);
  if (!sqe) { /* the SQ is full: hand it to the kernel and take a fresh one */
    io_uring_submit(&g_ring);
    sqe = io_uring_get_sqe(&g_ring);
  }
  return sqe;
}

static void* tag(struct conn* c, enum op o) { return (void*)((uintptr_t)c | (uintptr_t)o); }

static void arm_accept(int lfd) {
  struct io_uring_sqe* sqe = sqe_get();
  io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
  io_uring_sqe_set_data(sqe, tag(NULL, kAccept));
}

static void arm_recv(struct conn* c) {
  struct io_uring_sqe* sqe = sqe_get();
  io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kGroup;
  io_uring_sqe_set_data(sqe, tag(c, kRecv));
  c->receiving = 1;
}

static void give_back(unsigned short bid) {
  io_uring_buf_ring_add(g_br, g_bufs + ((size_t)bid << kBufShift), kBufSize, bid,
                        io_uring_buf_ring_mask(kBufCount), 0);
  io_uring_buf_ring_advance(g_br, 1);
  ++g_returned;
}

static void send_head(struct conn* c) {
  struct pending* p = &c->q[c->head % c->cap];
  struct io_uring_sqe* sqe = sqe_get();
  io_uring_prep_send(sqe, c->fd, g_bufs + ((size_t)p->bid << kBufShift) + p->off, p->len - p->off,
                     MSG_NOSIGNAL);
  io_uring_sqe_set_data(sqe, tag(c, kSend));
  c->sending = 1;
}

static void maybe_close(struct conn* c) {
  if (!c->closing || c->sending) return;
  if (c->receiving) { /* its final CQE still names c: end it, and free c then */
    if (!c->shut) shutdown(c->fd, SHUT_RDWR);
    c->shut = 1;
    return;
  }
  for (; c->head != c->tail; ++c->head) give_back(c->q[c->head % c->cap].bid);
  close(c->fd); /* also ends its multishot receive */
  free(c->q);
  free(c);
}

static int enqueue(struct conn* c, unsigned short bid, unsigned len) {
  if (c->tail - c->head == c->cap) {
    unsigned cap = c->cap ? c->cap * 2 : 8;
    struct pending* q = malloc(cap * sizeof *q);
    if (!q) return -1;
    for (unsigned i = 0; i < c->cap; ++i) q[i] = c->q[(c->head + i) % c->cap];
    c->tail -= c->head;
    c->head = 0;
    free(c->q);
    c->q = q;
    c->cap = cap;
  }
  c->q[c->tail++ % c->cap] = (struct pending){bid, len, 0};
  return 0;
}

static void on_recv(struct conn* c, struct io_uring_cqe* cqe) {
  if (cqe->res > 0) {
    unsigned short bid = (unsigned short)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
    if (enqueue(c, bid, (unsigned)cqe->res) < 0) {
      give_back(bid);
      c->closing = 1;
    } else if (!c->sending) {
      send_head(c);
    }
  } else if (cqe->res != -ENOBUFS) {
    c->closing = 1; /* EOF or an error */
  }
  if (!(cqe->flags & IORING_CQE_F_MORE)) {
    /* This receive is over: arm another, unless the connection ends. With ENOBUFS every
     * buffer is out in sends: wait until some come back. */
    c->receiving = 0;
    if (c->closing) {
    } else if (cqe->res == -ENOBUFS) {
      c->starved = g_starved;
      g_starved = c;
    } else {
      arm_recv(c);
    }
  }
  maybe_close(c);
}

static void on_send(struct conn* c, struct io_uring_cqe* cqe) {
  c->sending = 0;
  if (cqe->res < 0) {
    c->closing = 1;
    return maybe_close(c);
  }
  struct pending* p = &c->q[c->head % c->cap];
  p->off += (unsigned)cqe->res;
  if (p->off < p->len && !c->closing) return send_head(c); /* a short send: the rest */
  give_back(p->bid);
  ++c->head;
  if (c->head != c->tail && !c->closing) send_head(c);
  maybe_close(c);
}

int main(int argc, char** argv) {
  int port = bench_parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr*)&addr, sizeof addr) < 0 || listen(lfd, SOMAXCONN) < 0) {
    perror("uring_echo: bind/listen");
    return 1;
  }

  struct io_uring_params params = {.flags =
                                       IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN};
  int err = io_uring_queue_init_params(kEntries, &g_ring, &params);
  if (err == -EINVAL) { /* a kernel before 6.1: the plain ring */
    memset(&params, 0, sizeof params);
    err = io_uring_queue_init_params(kEntries, &g_ring, &params);
  }
  if (err < 0) {
    fprintf(stderr, "uring_echo: io_uring_queue_init: %s\n", strerror(-err));
    return 1;
  }
  size_t ring_bytes = kBufCount * sizeof(struct io_uring_buf);
  g_br = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  g_bufs = malloc((size_t)kBufCount << kBufShift);
  if (g_br == MAP_FAILED || !g_bufs) {
    perror("uring_echo: buffers");
    return 1;
  }
  io_uring_buf_ring_init(g_br);
  struct io_uring_buf_reg reg = {
      .ring_addr = (unsigned long)g_br, .ring_entries = kBufCount, .bgid = kGroup};
  if ((err = io_uring_register_buf_ring(&g_ring, &reg, 0)) < 0) {
    fprintf(stderr, "uring_echo: io_uring_register_buf_ring: %s\n", strerror(-err));
    return 1;
  }
  for (unsigned i = 0; i < kBufCount; ++i) give_back((unsigned short)i);

  arm_accept(lfd);
  bench_announce("uring_echo", port);
  for (;;) {
    err = io_uring_submit_and_wait(&g_ring, 1);
    if (err < 0 && err != -EINTR && err != -EAGAIN && err != -EBUSY) {
      fprintf(stderr, "uring_echo: io_uring_submit_and_wait: %s\n", strerror(-err));
      return 1;
    }
    struct io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&g_ring, head, cqe) {
      ++seen;
      uintptr_t data = (uintptr_t)io_uring_cqe_get_data(cqe);
      struct conn* c = (struct conn*)(data & ~(uintptr_t)3);
      switch ((enum op)(data & 3)) {
        case kAccept:
          if (cqe->res >= 0) {
            setsockopt(cqe->res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c = calloc(1, sizeof *c);
            c->fd = cqe->res;
            arm_recv(c);
          }
          if (!(cqe->flags & IORING_CQE_F_MORE)) arm_accept(lfd); /* e.g. after EMFILE */
          break;
        case kRecv:
          on_recv(c, cqe);
          break;
        case kSend:
          on_send(c, cqe);
          break;
      }
    }
    io_uring_cq_advance(&g_ring, seen);
    if (g_returned && g_starved) {
      for (struct conn* c = g_starved; c; c = c->starved) arm_recv(c);
      g_starved = NULL;
    }
    g_returned = 0;
  }
}
