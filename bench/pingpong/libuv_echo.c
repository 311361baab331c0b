/* libuv peer of the ping-pong benchmark, written the way a performance-minded libuv user
 * writes it (the pattern Node.js uses): reads land in one loop-wide buffer, replies go out
 * with uv_try_write, and only a remainder the socket would not take is copied into a uv_write
 * request; reading pauses until that request completes.
 * Usage: libuv_echo PORT [1] */
#include <signal.h>
#include <string.h>
#include <uv.h>

#include "common.h"

enum { kReadBuf = 64 * 1024 };

static char g_buf[kReadBuf];

struct write_req {
  uv_write_t req;
  uv_buf_t buf;
};

static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf) {
  (void)h;
  (void)suggested;
  /* One loop thread, and every read callback is done with g_buf before it returns. */
  *buf = uv_buf_init(g_buf, sizeof g_buf);
}

static void on_close(uv_handle_t* h) { free(h); }

static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);

static void on_write(uv_write_t* req, int status) {
  struct write_req* w = (struct write_req*)req;
  uv_stream_t* s = req->handle;
  free(w->buf.base);
  free(w);
  if (status < 0) {
    if (!uv_is_closing((uv_handle_t*)s)) uv_close((uv_handle_t*)s, on_close);
    return;
  }
  uv_read_start(s, on_alloc, on_read);
}

static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) return; /* EAGAIN */
  if (nread < 0) {
    uv_close((uv_handle_t*)s, on_close);
    return;
  }
  uv_buf_t out = uv_buf_init(buf->base, (unsigned)nread);
  int n = uv_try_write(s, &out, 1);
  if (n == UV_EAGAIN) n = 0;
  if (n < 0) {
    uv_close((uv_handle_t*)s, on_close);
    return;
  }
  if (n < nread) { /* the socket is full: queue the rest and stop reading until it drains */
    struct write_req* w = malloc(sizeof *w);
    size_t rest = (size_t)(nread - n);
    w->buf = uv_buf_init(malloc(rest), (unsigned)rest);
    memcpy(w->buf.base, buf->base + n, rest);
    uv_read_stop(s);
    if (uv_write(&w->req, s, &w->buf, 1, on_write) < 0) {
      free(w->buf.base);
      free(w);
      uv_close((uv_handle_t*)s, on_close);
    }
  }
}

static void on_connection(uv_stream_t* server, int status) {
  if (status < 0) return;
  uv_tcp_t* client = malloc(sizeof *client);
  uv_tcp_init(server->loop, client);
  if (uv_accept(server, (uv_stream_t*)client) != 0) {
    uv_close((uv_handle_t*)client, on_close);
    return;
  }
  uv_tcp_nodelay(client, 1);
  uv_read_start((uv_stream_t*)client, on_alloc, on_read);
}

int main(int argc, char** argv) {
  int port = bench_parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN); /* a peer that vanishes mid-write is an error code, not a kill */
  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t server;
  uv_tcp_init(loop, &server);
  struct sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", port, &addr);
  int r = uv_tcp_bind(&server, (const struct sockaddr*)&addr, 0);
  if (r == 0) r = uv_listen((uv_stream_t*)&server, SOMAXCONN, on_connection);
  if (r != 0) {
    fprintf(stderr, "libuv_echo: bind/listen: %s\n", uv_strerror(r));
    return 1;
  }
  bench_announce("libuv_echo", port);
  return uv_run(loop, UV_RUN_DEFAULT);
}
