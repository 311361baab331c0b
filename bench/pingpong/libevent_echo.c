/* libevent peer of the ping-pong benchmark: the bufferevent echo server from libevent's own
 * documentation. An evconnlistener accepts, each connection gets a socket bufferevent, and
 * the read callback moves the input evbuffer's chains to the output without copying.
 * Note: libevent 2.1 reads at most 4096 bytes per read call (EVBUFFER_MAX_READ; settable
 * only from 2.2 on), so a 16 KiB message takes four reads. That is the library as shipped.
 * Usage: libevent_echo PORT [1] */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include "common.h"

static void on_read(struct bufferevent* bev, void* arg) {
  (void)arg;
  bufferevent_write_buffer(bev, bufferevent_get_input(bev));
}

static void on_event(struct bufferevent* bev, short what, void* arg) {
  (void)arg;
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) bufferevent_free(bev);
}

static void on_accept(struct evconnlistener* listener, evutil_socket_t fd, struct sockaddr* sa,
                      int socklen, void* arg) {
  (void)sa;
  (void)socklen;
  (void)arg;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct event_base* base = evconnlistener_get_base(listener);
  struct bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    evutil_closesocket(fd);
    return;
  }
  bufferevent_setcb(bev, on_read, NULL, on_event, NULL);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int main(int argc, char** argv) {
  int port = bench_parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN); /* a peer that vanishes mid-write is an error code, not a kill */
  struct event_base* base = event_base_new();
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct evconnlistener* listener =
      evconnlistener_new_bind(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
                              (struct sockaddr*)&addr, sizeof addr);
  if (!listener) {
    perror("libevent_echo: bind/listen");
    return 1;
  }
  bench_announce("libevent_echo", port);
  event_base_dispatch(base);
  evconnlistener_free(listener);
  event_base_free(base);
  return 0;
}
