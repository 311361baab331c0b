/* Shared by the C peers of the ping-pong benchmark: argument parsing and the listening
 * socket. Internal to bench/; not part of duplex. */
#ifndef DUPLEX_BENCH_PINGPONG_COMMON_H
#define DUPLEX_BENCH_PINGPONG_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every peer is called as `NAME PORT [THREADS]` and serves 127.0.0.1 only. THREADS must be 1:
 * the benchmark compares single-threaded loops. Returns the port; exits with status 2 on a
 * bad command line. */
static inline int bench_parse_args(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s PORT [THREADS]  (echo server on 127.0.0.1:PORT, THREADS=1)\n",
            argv[0]);
    exit(2);
  }
  char* end = NULL;
  long port = strtol(argv[1], &end, 10);
  if (*end != '\0' || port < 1 || port > 65535) {
    fprintf(stderr, "%s: bad port '%s'\n", argv[0], argv[1]);
    exit(2);
  }
  if (argc == 3 && strcmp(argv[2], "1") != 0) {
    fprintf(stderr, "%s: only THREADS=1 is supported (got '%s')\n", argv[0], argv[2]);
    exit(2);
  }
  return (int)port;
}

static inline void bench_announce(const char* name, int port) {
  printf("%s: listening on 127.0.0.1:%d\n", name, port);
  fflush(stdout);
}

#endif
