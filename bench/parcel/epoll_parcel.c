/* Pass the parcel on a plain level-triggered epoll loop: the floor. See parcel.h. */
#include <sys/epoll.h>

#include "parcel.h"

int main(int argc, char** argv) {
  struct parcel p;
  parcel_init(&p, "epoll", argc, argv);
  double t0 = parcel_now();
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) parcel_die("epoll_create1");
  for (long i = 0; i < p.n; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, parcel_watched(&p, i), &ev) != 0) parcel_die("epoll_ctl");
  }
  p.setup_s = parcel_now() - t0;

  enum { kMaxEvents = 1024 };
  static struct epoll_event evs[kMaxEvents];
  parcel_start_round(&p);
  for (int stop = 0; !stop;) {
    int k = epoll_wait(ep, evs, kMaxEvents, -1);
    if (k < 0) {
      if (errno == EINTR) continue;
      parcel_die("epoll_wait");
    }
    for (int e = 0; e < k && !stop; e++) stop = parcel_on_readable(&p, (long)evs[e].data.u64);
  }
  parcel_report(&p);
  return 0;
}
