#!/usr/bin/env python3
"""TCP against UDP over a bad link: `duplex impair --lab` with 2% loss and 20 ms delay in
each direction (a 40 ms RTT), host A sends to host B.

  * TCP delivers every byte intact and in order: a 1 MiB random file through `duplex
    connect` (A) to `duplex listen` (B) has the same SHA-256 at both ends;
  * `duplex perf --compare` prints both columns, and its TCP run saw retransmits > 0 in
    TCP_INFO;
  * a UDP stream's hello that the link loses is said again: with B's firewall dropping the
    first two hellos (and no other impairment), `duplex perf -u` still runs its test;
  * UDP delivers 98% +- 0.5% of its datagrams: 10,000 a second for 5 s (-R, so A counts);
    the receiver's own counts per interval (the sequence numbers it saw spanned, and the
    gaps among them) over about 50,000 datagrams, where one standard deviation of the
    loss is 0.06 percentage points, so the tolerance is about 8 of them.
The lab is removed on exit whatever happens. Needs root (skipped without, failed under
CI=true)."""

import hashlib
import json
import os
import subprocess
import tempfile
import time

import netns
from test_impair import Impaired, lab_exec, NAME, DUPLEX

PORT = 9410
PERF_PORT = 9411
FILE_BYTES = 1 << 20


def listening(role, port):
    r = subprocess.run(["ip", "netns", "exec", f"{NAME}-{role}", "ss", "-Hltn",
                        f"sport = :{port}"], capture_output=True, text=True)
    return str(port) in r.stdout


class PerfServer:
    """`duplex perf -s` in B, stopped on exit."""

    def __enter__(self):
        self.proc = subprocess.Popen(
            [DUPLEX, "lab", "exec", "--name", NAME, "b", "--", DUPLEX, "perf", "-s", "-p",
             str(PERF_PORT)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert netns.wait_for(lambda: listening("b", PERF_PORT), seconds=15, step=0.05)
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return False


def check_tcp_delivers_every_byte_in_order(tmp):
    sent = os.path.join(tmp, "sent")
    received = os.path.join(tmp, "received")
    with open(sent, "wb") as f:
        f.write(os.urandom(FILE_BYTES))
    with open(received, "wb") as out:
        listener = subprocess.Popen(
            [DUPLEX, "lab", "exec", "--name", NAME, "b", "--", DUPLEX, "listen", "10.77.0.2",
             str(PORT)], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE)
        try:
            assert netns.wait_for(lambda: listening("b", PORT), seconds=15, step=0.05)
            with open(sent, "rb") as f:
                r = subprocess.run([DUPLEX, "lab", "exec", "--name", NAME, "a", "--", DUPLEX,
                                    "connect", "10.77.0.2", str(PORT)], stdin=f,
                                   capture_output=True, timeout=60)
            assert r.returncode == 0, r.stderr
            listener.wait(timeout=30)
            assert listener.returncode == 0, listener.stderr.read()
        finally:
            if listener.poll() is None:
                listener.kill()
                listener.wait()
    digest = [hashlib.sha256(open(p, "rb").read()).hexdigest() for p in (sent, received)]
    assert os.path.getsize(received) == FILE_BYTES, os.path.getsize(received)
    assert digest[0] == digest[1], digest
    print(f"  TCP: {FILE_BYTES} bytes, SHA-256 {digest[0][:16]}... at both ends")


def check_compare_prints_both_with_retransmits():
    r = lab_exec("a", DUPLEX, "perf", "-c", "10.77.0.2", "-p", str(PERF_PORT), "-t", "4",
                 "--compare", timeout=60)
    table = r.stdout[r.stdout.index("TCP against UDP:"):]
    assert "UDP at TCP's goodput" in table and "datagrams (" in table, table
    retransmits = int(next(line.split()[1] for line in table.splitlines()
                           if line.startswith("retransmissions")))
    assert retransmits > 0, table
    print("  --compare:\n" + "\n".join("    " + line for line in table.splitlines()))


def perf_when_served(*args):
    """`duplex perf -c` from A; asked again for up to 3 s while the server is still closing
    the previous test (it answers ACCESS_DENIED, or refuses while it reopens its listener,
    as iperf3 -s does; --compare asks again the same way)."""
    deadline = time.monotonic() + 3
    while True:
        r = lab_exec("a", DUPLEX, "perf", "-c", "10.77.0.2", "-p", str(PERF_PORT), *args,
                     timeout=60, check=False)
        busy = "busy with another test" in r.stderr or "refused" in r.stderr
        if r.returncode == 0 or not busy or time.monotonic() > deadline:
            assert r.returncode == 0, r.stderr
            return r
        time.sleep(0.1)


def check_udp_delivers_98_percent():
    # -O 1: the sender starts at TEST_RUNNING, which the receiver learns over the control
    # connection, through the same 2 % loss: when that segment is lost, the receiver starts
    # an RTO (~0.25 s) later and the datagrams sent meanwhile overflow its socket buffer
    # (iperf3 -R does the same). That loss is the test's start-up, not the link's: omit the
    # first second (seen in about 1 run in 8: ~2,900 extra lost, all in the first interval).
    r = perf_when_served("-u", "-R", "-b", "16M", "-l", "200", "-t", "5", "-O", "1", "--json")
    doc = json.loads(r.stdout)
    spanned = lost = 0
    for interval in doc["intervals"]:
        for s in interval["streams"]:
            if s["omitted"]:
                continue
            spanned += s["packets"]
            lost += s["lost_packets"]
    assert spanned >= 40_000, (spanned, doc["end"]["sum"])
    delivered = 1 - lost / spanned
    per_interval = [(s["packets"], s["lost_packets"], s["omitted"])
                    for i in doc["intervals"] for s in i["streams"]]
    assert abs(delivered - 0.98) <= 0.005, \
        f"delivered {delivered:.4f} of {spanned}; (datagrams, lost, omitted) per interval: {per_interval}"
    print(f"  UDP: {delivered * 100:.2f}% of {spanned} datagrams delivered (2% lost asked)")


def test_tcp_and_udp_over_a_lossy_40ms_link():
    with Impaired("--loss", "2%", "--delay", "20ms"), PerfServer():
        with tempfile.TemporaryDirectory() as tmp:
            check_tcp_delivers_every_byte_in_order(tmp)
        check_compare_prints_both_with_retransmits()
        check_udp_delivers_98_percent()


def test_a_lost_udp_hello_is_said_again():
    # iperf3 sends the hello once: lose it (2 % of the time on the link above) and the
    # server waits for a stream that never comes. B's input drops the first two hellos
    # ("9876", the UDP payload's first 4 bytes; each packet is 32 bytes, so a quota of 65
    # bytes lets two through the rule), and the counter says the rule did drop them.
    table = ["nft", "add", "table", "inet", "dxhello"]
    chain = ["nft", "add", "chain", "inet", "dxhello", "in",
             "{ type filter hook input priority 0 ; }"]
    rule = ["nft", "add", "rule", "inet", "dxhello", "in", "udp", "dport", str(PERF_PORT),
            "@th,64,32", "0x39383736", "quota", "until", "65", "bytes", "counter", "drop"]
    with Impaired("--delay", "1ms"), PerfServer():
        for command in (table, chain, rule):
            lab_exec("b", *command)
        r = perf_when_served("-u", "-b", "1M", "-t", "1", "--json")
        listed = lab_exec("b", "nft", "list", "table", "inet", "dxhello").stdout
    assert "counter packets 2 " in listed, listed
    doc = json.loads(r.stdout)
    assert doc["end"]["sum"]["packets"] > 0, doc["end"]
    print("  UDP: two hellos dropped by B's firewall; the test ran")


if __name__ == "__main__":
    netns.main([test_tcp_and_udp_over_a_lossy_40ms_link, test_a_lost_udp_hello_is_said_again])
