#!/usr/bin/env python3
"""How long the dashboard waits while the chat takes a burst: one `duplex serve` (its
SQLite file on the real disk, so every commit is an fsync), a prober that GETs /api/status
every 10 ms on one keep-alive connection and times each answer, and a burst of chat lines
on the TCP chat port. Prints the probe latencies (p50, p99, max) and how many lines were
stored. Bounded: the burst has a fixed size and the run a deadline. Loopback only.

Three bursts:
  flood  one client sends --lines one-letter lines at once (the issue's `nc` case)
  crowd  --clients clients each send --per-client lines at once
  posts  --clients clients each POST --per-client messages to /api/chat/messages, one
         after another (each waits for its 201, which comes after its commit)

  bench/chat/status_probe.py --duplex build/release/cli/duplex --burst flood
  bench/chat/status_probe.py --duplex /tmp/duplex-main --burst crowd --serve-args=--chat-rate=0
  bench/chat/status_probe.py --duplex build/release/cli/duplex --burst posts --per-client 100

Runs on the old binary too (pass only flags it knows with --serve-args)."""
import argparse
import http.client
import json
import os
import shutil
import socket
import sqlite3
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "integration"))
DEADLINE = 120  # seconds, for the whole run


def pour(port, payload):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    # Read everything the server sends, so that its output never blocks it.
    def drain():
        try:
            while s.recv(1 << 16):
                pass
        except OSError:
            pass
    t = threading.Thread(target=drain, daemon=True)
    t.start()
    try:
        s.sendall(payload)
    except OSError:
        pass  # dropped by flood control
    return s, t


def post_all(port, sender, count):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for j in range(count):
        body = json.dumps({"name": f"poster{sender}", "text": f"m{sender}-{j}"})
        conn.request("POST", "/api/chat/messages", body, {"Content-Type": "application/json"})
        conn.getresponse().read()
    conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duplex", required=True)
    ap.add_argument("--burst", choices=["flood", "crowd", "posts"], default="flood")
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--per-client", type=int, default=2000)
    ap.add_argument("--probe-seconds", type=float, default=8.0)
    ap.add_argument("--serve-args", default="", help="extra flags, comma-separated")
    args = ap.parse_args()
    os.environ["DUPLEX"] = args.duplex
    import serve_harness  # noqa: E402  (reads $DUPLEX at import)
    serve_harness.DUPLEX = args.duplex
    workdir = tempfile.mkdtemp(prefix="duplex-probe-", dir=os.path.expanduser("~"))
    extra = [a for a in args.serve_args.replace("=", ",").split(",") if a]
    serve = serve_harness.Serve(*extra, db=os.path.join(workdir, "chat.db"))
    latencies = []
    try:
        conn = http.client.HTTPConnection("127.0.0.1", serve.http_port, timeout=30)
        stop = time.monotonic() + min(args.probe_seconds, DEADLINE)

        def probe():
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                conn.request("GET", "/api/status")
                conn.getresponse().read()
                latencies.append((time.perf_counter() - t0) * 1000)
                time.sleep(0.01)
        prober = threading.Thread(target=probe)
        prober.start()
        time.sleep(0.5)  # a quiet baseline first
        sockets = []
        if args.burst == "flood":
            sockets.append(pour(serve.chat_port, b"x\n" * args.lines))
        elif args.burst == "posts":
            ts = [threading.Thread(target=post_all, args=(serve.http_port, i, args.per_client))
                  for i in range(args.clients)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(DEADLINE)
        else:
            payload = lambda i: b"".join(b"c%d-%d\n" % (i, j) for j in range(args.per_client))
            ts = [threading.Thread(target=lambda i=i: sockets.append(pour(serve.chat_port,
                                                                          payload(i))))
                  for i in range(args.clients)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(DEADLINE)
        prober.join(DEADLINE)
        for s, _ in sockets:
            s.close()
        with sqlite3.connect(serve.db) as db:
            stored = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    finally:
        serve.close()
        shutil.rmtree(workdir, ignore_errors=True)
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    print(f"burst {args.burst}: {len(latencies)} probes, /api/status p50 {q[49]:.1f} ms, "
          f"p99 {q[98]:.1f} ms, max {max(latencies):.1f} ms; {stored:,} lines stored; "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
