/* Pass the parcel on libuv: one uv_poll_t watching each pair for UV_READABLE. See parcel.h. */
#include <stdint.h>
#include <uv.h>

#include "parcel.h"

static struct parcel p;

static void on_poll(uv_poll_t* h, int status, int events) {
  (void)events;
  if (status < 0) {
    fprintf(stderr, "parcel: uv_poll: %s\n", uv_strerror(status));
    exit(1);
  }
  if (parcel_on_readable(&p, (long)(intptr_t)h->data)) uv_stop(h->loop);
}

int main(int argc, char** argv) {
  parcel_init(&p, "libuv", argc, argv);
  double t0 = parcel_now();
  uv_loop_t* loop = uv_default_loop();
  uv_poll_t* polls = (uv_poll_t*)calloc((size_t)p.n, sizeof(uv_poll_t));
  if (polls == NULL) parcel_die("calloc");
  for (long i = 0; i < p.n; i++) {
    polls[i].data = (void*)(intptr_t)i;
    if (uv_poll_init(loop, &polls[i], parcel_watched(&p, i)) != 0 ||
        uv_poll_start(&polls[i], UV_READABLE, on_poll) != 0) {
      fprintf(stderr, "parcel: uv_poll_init/start failed\n");
      return 1;
    }
  }
  p.setup_s = parcel_now() - t0; /* libuv adds the fds to epoll lazily, in the first round */
  parcel_start_round(&p);
  uv_run(loop, UV_RUN_DEFAULT);
  parcel_report(&p);
  return 0;
}
