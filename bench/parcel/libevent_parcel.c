/* Pass the parcel on libevent: one persistent read event per pair (event_new/event_add, no
 * bufferevents). See parcel.h. */
#include <event2/event.h>
#include <stdint.h>

#include "parcel.h"

static struct parcel p;
static struct event_base* base;

static void on_read(evutil_socket_t fd, short what, void* arg) {
  (void)fd;
  (void)what;
  if (parcel_on_readable(&p, (long)(intptr_t)arg)) event_base_loopbreak(base);
}

int main(int argc, char** argv) {
  parcel_init(&p, "libevent", argc, argv);
  double t0 = parcel_now();
  base = event_base_new();
  if (base == NULL) parcel_die("event_base_new");
  for (long i = 0; i < p.n; i++) {
    struct event* ev =
        event_new(base, parcel_watched(&p, i), EV_READ | EV_PERSIST, on_read, (void*)(intptr_t)i);
    if (ev == NULL || event_add(ev, NULL) != 0) parcel_die("event_new/event_add");
  }
  p.setup_s = parcel_now() - t0;
  parcel_start_round(&p);
  if (event_base_dispatch(base) < 0) parcel_die("event_base_dispatch");
  parcel_report(&p);
  return 0;
}
