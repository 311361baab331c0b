"""A UDP sender and receiver with sequence numbers and send times, to measure a link.

  udp_blaster.py send HOST PORT COUNT PPS SIZE
      sends COUNT datagrams of SIZE bytes at PPS a second (in bursts of 50, paced by the
      clock), each carrying its number and the wall-clock time it was sent (ns).
  udp_blaster.py receive ADDR PORT COUNT IDLE
      prints "ready", then receives until COUNT datagrams came or none came for IDLE
      seconds (or 120 s passed), and prints one JSON line: how many distinct numbers came,
      duplicates, the median and spread of the one-way delay (the kernel's receive time,
      SO_TIMESTAMPNS, minus the send time: the same clock, as both ends run on one host),
      and the rate of whole frames (Ethernet + IPv4 + UDP headers included) between the
      first and the last arrival.
"""

import json
import select
import socket
import struct
import sys
import time

HEADER = struct.Struct("!QQ")  # number, send time (ns)
FRAME_OVERHEAD = 14 + 20 + 8  # Ethernet, IPv4, UDP
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SO_RCVBUFFORCE = 33


def send(host, port, count, pps, size):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.connect((host, port))
    pad = bytes(max(0, size - HEADER.size))
    start = time.monotonic()
    burst = 50
    for first in range(0, count, burst):
        due = start + first / pps
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        for n in range(first, min(first + burst, count)):
            while True:
                try:
                    s.send(HEADER.pack(n, time.time_ns()) + pad)
                    break
                except BlockingIOError:
                    time.sleep(0.0005)
                except ConnectionRefusedError:
                    pass  # an ICMP error for an earlier datagram; keep sending
    print(json.dumps({"sent": count, "seconds": time.monotonic() - start}), flush=True)


def receive(addr, port, count, idle):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 32 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind((addr, port))
    print("ready", flush=True)
    seen = bytearray(count)
    distinct = duplicates = 0
    delays = []
    first_at = last_at = None
    bits_after_first = 0
    deadline = time.monotonic() + 120
    while distinct < count and time.monotonic() < deadline:
        ready, _, _ = select.select([s], [], [], idle)
        if not ready:
            break
        data, anc, _, _ = s.recvmsg(65536, 64)
        at = None
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", value[:16])
                at = sec * 1_000_000_000 + nsec
        if at is None or len(data) < HEADER.size:
            continue
        n, sent = HEADER.unpack_from(data)
        if n >= count:
            continue
        if seen[n]:
            duplicates += 1
            continue
        seen[n] = 1
        distinct += 1
        delays.append(at - sent)
        if first_at is None:
            first_at = at
        else:
            bits_after_first += (len(data) + FRAME_OVERHEAD) * 8
        last_at = at
    delays.sort()
    span = (last_at - first_at) / 1e9 if first_at is not None and last_at != first_at else 0
    out = {
        "received": distinct,
        "duplicates": duplicates,
        "median_delay_ms": delays[len(delays) // 2] / 1e6 if delays else None,
        "p10_delay_ms": delays[len(delays) // 10] / 1e6 if delays else None,
        "p90_delay_ms": delays[len(delays) * 9 // 10] / 1e6 if delays else None,
        "frame_bits_per_second": bits_after_first / span if span else None,
        "seconds": span,
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]),
             int(sys.argv[6]))
    elif mode == "receive":
        receive(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    else:
        sys.exit(f"unknown mode {mode}; use send or receive")
