/* Pass the parcel: the part every driver shares (C, and C++ for the duplex driver).
 *
 * N socketpairs; the first socket of pair i is watched for reading by the event loop under
 * test, the second is where parcels for pair i are written. A round drops `active` one-byte
 * parcels on pairs spread evenly over the set. Whoever receives a parcel reads it and passes
 * a new one to pair (i + spacing) mod N, until `writes` parcels have been passed; the round
 * ends when the last parcel in flight has been read. The spacing is about 0.38 N and coprime
 * to N, so each parcel's path visits every pair and consecutive hops land far apart in the
 * set, as they would for unrelated connections.
 *
 * The drivers differ only in the loop: they register a read watcher per pair that calls
 * parcel_on_readable(), and stop their loop when it returns 1. Only the rounds are timed
 * (CLOCK_MONOTONIC); creating the socketpairs and registering watchers is reported apart.
 *
 * N pairs take 2N fds. Where RLIMIT_NOFILE cannot be raised that far (no CAP_SYS_RESOURCE,
 * or fs.nr_open too low), -d runs the same game on N sockets: N/2 socketpairs with both ends
 * watched, a parcel for socket i written to the other end of its pair. */
#ifndef DUPLEX_BENCH_PARCEL_H
#define DUPLEX_BENCH_PARCEL_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct parcel {
  const char* driver;
  long n, active, writes, max_rounds;
  double time_limit_s;
  long spacing, stride; /* stride: distance between the first parcels of a round */
  int dense;            /* 1: N/2 socketpairs with both ends watched (needs N fds, not 2N) */
  int* fds;             /* the sockets; see parcel_watched() and parcel_feed() */
  /* the round in progress */
  long count, fired, passed;
  double round_start;
  /* finished rounds; round 0 is a warm-up and not recorded */
  long round;
  double* times_us;
  long recorded;
  double timed_total_s;
  double setup_s;
  long stray_reads; /* readable but nothing to read: should stay 0 */
};

static inline double parcel_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void parcel_die(const char* what) {
  fprintf(stderr, "parcel: %s: %s\n", what, strerror(errno));
  exit(1);
}

static inline long parcel_gcd(long a, long b) {
  while (b != 0) {
    long t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* The socket that the loop watches for parcel i, and the one a parcel for i is written to.
 * Pairs: pair i is fds[2i] (watched) and fds[2i+1]. Dense: socket i is watched, and its
 * parcels come through the other end of its socketpair, socket i ^ 1. */
static inline int parcel_watched(const struct parcel* p, long i) {
  return p->dense ? p->fds[i] : p->fds[2 * i];
}
static inline int parcel_feed(const struct parcel* p, long i) {
  return p->dense ? p->fds[i ^ 1] : p->fds[2 * i + 1];
}

static inline void parcel_usage(const char* argv0) {
  fprintf(stderr,
          "usage: %s [-n pairs] [-a active] [-w writes per round] [-r max rounds] "
          "[-t time limit s] [-d]\n"
          "  -d: dense, N/2 socketpairs with both ends watched (N fds instead of 2N)\n",
          argv0);
  exit(2);
}

/* Parses the options, raises RLIMIT_NOFILE, creates the socketpairs. */
static inline void parcel_init(struct parcel* p, const char* driver, int argc, char** argv) {
  memset(p, 0, sizeof *p);
  p->driver = driver;
  p->n = 1000;
  p->active = 100;
  p->writes = 0; /* 0: 100 x active */
  p->max_rounds = 25;
  p->time_limit_s = 5.0;
  int opt;
  while ((opt = getopt(argc, argv, "n:a:w:r:t:d")) != -1) {
    switch (opt) {
      case 'n':
        p->n = atol(optarg);
        break;
      case 'a':
        p->active = atol(optarg);
        break;
      case 'w':
        p->writes = atol(optarg);
        break;
      case 'r':
        p->max_rounds = atol(optarg);
        break;
      case 't':
        p->time_limit_s = atof(optarg);
        break;
      case 'd':
        p->dense = 1;
        break;
      default:
        parcel_usage(argv[0]);
    }
  }
  if (p->n < 2 || p->active < 1 || p->active > p->n || p->max_rounds < 1 ||
      (p->dense && p->n % 2 != 0))
    parcel_usage(argv[0]);
  if (p->writes <= 0) p->writes = 100 * p->active;
  p->stride = p->n / p->active;
  p->spacing = (long)((double)p->n * 0.381966 + 0.5);
  if (p->spacing < 1) p->spacing = 1;
  while (parcel_gcd(p->spacing, p->n) != 1) p->spacing++;

  signal(SIGPIPE, SIG_IGN);
  alarm(300); /* a hard bound on any run */

  /* 2 fds per pair (1 per watched socket when dense), plus the loop's own (epoll, eventfd,
   * stdio, ...). */
  long nfds = p->dense ? p->n : 2 * p->n;
  rlim_t need = (rlim_t)(nfds + 64);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) parcel_die("getrlimit");
  if (rl.rlim_cur < need) {
    if (rl.rlim_max < need) rl.rlim_max = need; /* root only; fails above fs.nr_open */
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      fprintf(stderr,
              "parcel: cannot raise RLIMIT_NOFILE to %llu (%s); needs root and "
              "fs.nr_open >= %llu\n",
              (unsigned long long)need, strerror(errno), (unsigned long long)need);
      exit(3);
    }
  }

  p->fds = (int*)malloc(sizeof(int) * (size_t)nfds);
  p->times_us = (double*)malloc(sizeof(double) * (size_t)p->max_rounds);
  if (p->fds == NULL || p->times_us == NULL) parcel_die("malloc");
  for (long i = 0; i < nfds / 2; i++) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, &p->fds[2 * i]) != 0)
      parcel_die("socketpair");
  }
}

static inline void parcel_put(struct parcel* p, long i) {
  if (write(parcel_feed(p, i), "e", 1) != 1) parcel_die("write");
}

/* Starts a round: the clock, then the first parcels. */
static inline void parcel_start_round(struct parcel* p) {
  p->count = 0;
  p->passed = 0;
  p->fired = p->active;
  p->round_start = parcel_now();
  for (long k = 0; k < p->active; k++) parcel_put(p, k * p->stride);
}

/* Called when pair i's watched socket is readable. Returns 1 when the loop should stop. */
static inline int parcel_on_readable(struct parcel* p, long i) {
  char c;
  ssize_t r = read(parcel_watched(p, i), &c, 1);
  if (r != 1) {
    if (r < 0 && errno != EAGAIN) parcel_die("read");
    p->stray_reads++;
    return 0;
  }
  p->count++;
  if (p->passed < p->writes) {
    long j = i + p->spacing;
    if (j >= p->n) j -= p->n;
    parcel_put(p, j);
    p->passed++;
    p->fired++;
  }
  if (p->count < p->fired) return 0;
  /* The last parcel of the round. */
  double dt = parcel_now() - p->round_start;
  if (p->round > 0) {
    p->times_us[p->recorded++] = dt * 1e6;
    p->timed_total_s += dt;
  }
  p->round++;
  if (p->recorded >= p->max_rounds || (p->recorded >= 3 && p->timed_total_s >= p->time_limit_s))
    return 1;
  parcel_start_round(p);
  return 0;
}

static inline int parcel_cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

/* Prints one JSON line with the results. */
static inline void parcel_report(struct parcel* p) {
  qsort(p->times_us, (size_t)p->recorded, sizeof(double), parcel_cmp);
  long m = p->recorded;
  double median = (m % 2) ? p->times_us[m / 2] : (p->times_us[m / 2 - 1] + p->times_us[m / 2]) / 2;
  double events = (double)(p->active + p->writes);
  printf(
      "{\"driver\":\"%s\",\"n\":%ld,\"dense\":%d,\"active\":%ld,\"writes\":%ld,\"spacing\":%ld,"
      "\"rounds\":%ld,\"median_us\":%.1f,\"min_us\":%.1f,\"max_us\":%.1f,"
      "\"us_per_event\":%.4f,\"setup_s\":%.3f,\"stray_reads\":%ld}\n",
      p->driver, p->n, p->dense, p->active, p->writes, p->spacing, m, median, p->times_us[0],
      p->times_us[m - 1], median / events, p->setup_s, p->stray_reads);
  fflush(stdout);
}

#endif
