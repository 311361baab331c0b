// Sends small UDP datagrams as fast as one core can (sendmmsg, 64 per call), or paced to a
// rate, for bench/capture/run's live-drop test:
//
//   flood ADDRESS PORT COUNT [RATE [PAYLOAD|dns]]
//
// COUNT datagrams of PAYLOAD bytes (default 18: a 60-byte Ethernet frame, the smallest) to
// ADDRESS:PORT over IPv4; RATE datagrams per second, 0 (the default) for no pacing. `dns`
// sends DNS queries (A? flood.duplex.test, the ID counting up) instead, for a pcap of mixed
// traffic. Prints one line, "sent N in S seconds: R per second", and exits 0; 2 on bad
// arguments, 1 when the socket fails. Each datagram starts with its sequence number.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

enum { kBatch = 64, kMaxPayload = 1472 };

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int usage(void) {
  fprintf(stderr, "usage: flood ADDRESS PORT COUNT [RATE [PAYLOAD]] (PAYLOAD 8..%d bytes)\n",
          kMaxPayload);
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 4 || argc > 6) return usage();
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) return usage();
  const unsigned long long count = strtoull(argv[3], NULL, 10);
  const double rate = argc > 4 ? strtod(argv[4], NULL) : 0;
  static const unsigned char kQuery[] = {0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'f', 'l', 'o',
                                         'o', 'd', 6, 'd', 'u', 'p', 'l', 'e', 'x', 4, 't', 'e',
                                         's', 't', 0, 0, 1, 0, 1};
  const int dns = argc > 5 && strcmp(argv[5], "dns") == 0;
  const int payload = dns ? (int)sizeof kQuery : argc > 5 ? atoi(argv[5]) : 18;
  if (count == 0 || rate < 0 || payload < 8 || payload > kMaxPayload) return usage();

  // Not connected: an ICMP port unreachable from the peer then fails no later send.
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    fprintf(stderr, "flood: socket: %s\n", strerror(errno));
    return 1;
  }
  static unsigned char data[kBatch][kMaxPayload];
  struct iovec iov[kBatch];
  struct mmsghdr msgs[kBatch];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < kBatch; ++i) {
    if (dns) memcpy(data[i], kQuery, sizeof kQuery);
    iov[i] = (struct iovec){.iov_base = data[i], .iov_len = (size_t)payload};
    msgs[i].msg_hdr.msg_name = &to;
    msgs[i].msg_hdr.msg_namelen = sizeof to;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }

  unsigned long long sent = 0;
  const double start = now();
  while (sent < count) {
    int n = count - sent < kBatch ? (int)(count - sent) : kBatch;
    for (int i = 0; i < n; ++i) {
      const unsigned long long seq = sent + (unsigned long long)i;
      if (dns) {
        data[i][0] = (unsigned char)(seq >> 8);  // the DNS ID
        data[i][1] = (unsigned char)seq;
      } else {
        memcpy(data[i], &seq, sizeof seq);
      }
    }
    if (rate > 0) {
      // Pacing: wait until this batch is due, so that the rate holds over any stretch.
      const double due = start + (double)sent / rate;
      while (now() < due) {
      }
    }
    const int done = sendmmsg(fd, msgs, (unsigned)n, 0);
    if (done < 0) {
      // A full socket buffer or a queue that pushed back: try again, the count is exact.
      if (errno == ENOBUFS || errno == EAGAIN) continue;
      fprintf(stderr, "flood: sendmmsg: %s\n", strerror(errno));
      return 1;
    }
    sent += (unsigned long long)done;
  }
  const double seconds = now() - start;
  printf("sent %llu in %.3f seconds: %.0f per second\n", sent, seconds, (double)sent / seconds);
  return 0;
}
