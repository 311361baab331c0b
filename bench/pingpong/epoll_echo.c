/* The ceiling of the ping-pong benchmark: a plain edge-triggered epoll echo server with no
 * library and no per-message allocation. Reads into one loop-wide buffer and writes back at
 * once; only bytes the socket would not take are copied into a per-connection buffer, and
 * reading from that connection pauses until they are flushed (back-pressure).
 * Usage: epoll_echo PORT [1] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

enum { kReadBuf = 64 * 1024, kMaxEvents = 256 };

struct conn {
  int fd;
  char* pending; /* bytes read but not yet written, or NULL */
  size_t off, len;
};

static char g_buf[kReadBuf];

static void conn_close(struct conn* c) {
  close(c->fd); /* also removes it from the epoll set */
  free(c->pending);
  free(c);
}

/* Returns 0 when everything pending is written, 1 when the socket is full, -1 on error. */
static int flush_pending(struct conn* c) {
  while (c->off < c->len) {
    ssize_t n = write(c->fd, c->pending + c->off, c->len - c->off);
    if (n < 0) return errno == EAGAIN ? 1 : -1;
    c->off += (size_t)n;
  }
  free(c->pending);
  c->pending = NULL;
  c->off = c->len = 0;
  return 0;
}

/* Edge-triggered: drain the socket, unless the peer stops taking our writes. A read shorter
 * than the buffer emptied the receive queue, so it is the last one: any byte that arrives
 * later raises a new edge. That spares the read that would only return EAGAIN. */
static void on_ready(struct conn* c) {
  if (c->pending) {
    int r = flush_pending(c);
    if (r < 0) return conn_close(c);
    if (r > 0) return; /* wait for EPOLLOUT; unread input stays in the kernel */
  }
  for (;;) {
    ssize_t n = read(c->fd, g_buf, sizeof g_buf);
    if (n == 0) return conn_close(c);
    if (n < 0) {
      if (errno == EAGAIN) return;
      if (errno == EINTR) continue;
      return conn_close(c);
    }
    ssize_t w = write(c->fd, g_buf, (size_t)n);
    if (w < 0) {
      if (errno != EAGAIN) return conn_close(c);
      w = 0;
    }
    if (w < n) {
      c->len = (size_t)(n - w);
      c->off = 0;
      c->pending = malloc(c->len);
      if (!c->pending) return conn_close(c);
      memcpy(c->pending, g_buf + w, c->len);
      return;
    }
    if ((size_t)n < sizeof g_buf) return;
  }
}

int main(int argc, char** argv) {
  int port = bench_parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN); /* a peer that vanishes mid-write is an error code, not a kill */
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr*)&addr, sizeof addr) < 0 || listen(lfd, SOMAXCONN) < 0) {
    perror("epoll_echo: bind/listen");
    return 1;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}; /* NULL marks the listener */
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  bench_announce("epoll_echo", port);

  struct epoll_event events[kMaxEvents];
  for (;;) {
    int n = epoll_wait(ep, events, kMaxEvents, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("epoll_echo: epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      struct conn* c = events[i].data.ptr;
      if (c) {
        on_ready(c);
        continue;
      }
      for (;;) { /* level-triggered listener: accept what is queued */
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break; /* EAGAIN, or EMFILE: the benchmark raises the limit beforehand */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c = calloc(1, sizeof *c);
        c->fd = fd;
        struct epoll_event cev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                  .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
      }
    }
  }
}
