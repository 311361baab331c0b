#!/usr/bin/env python3
"""`duplex scan` against nmap between two namespaces: host b listens on TCP and UDP ports
chosen at random by the test, and its nftables rules drop some ports, reject some with a TCP
reset and some with ICMP admin-prohibited (also at random). From host a, `duplex scan` and
Debian's nmap (-sT; -sS against --syn; -sU for UDP) scan the same ports; every port's state must be the
same, and must be what the rules say:

  TCP  listening: open; nothing there or `reject with tcp reset`: closed;
       `drop` or `reject with icmp type admin-prohibited`: filtered
  UDP  an answer: open; nothing there: closed (ICMP port unreachable); `drop`, or a listener
       that never answers: open|filtered; admin-prohibited: filtered

ICMP rate limiting is turned off in b (net.ipv4.icmp_ratelimit=0, in b's namespace only),
so each scan hears every ICMP error. Needs root, nmap and nft; skipped otherwise, and failed
under CI=true."""
import os
import random
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))
from netns import Lab, exit_skipped, main  # noqa: E402
from nmap_states import NEED_NMAP, NMAP, duplex_states, nmap_states  # noqa: E402

A, B = "10.99.0.1", "10.99.0.2"

# Listens on b: TCP ports (accepting nothing), UDP ports that echo each datagram, UDP ports
# that read and never answer. Prints "ready" once every socket is bound.
_SERVER = r"""
import select, socket, sys
tcp, echo, silent = (list(map(int, a.split(","))) if a else [] for a in sys.argv[1:4])
family, any_ = (socket.AF_INET6, "::") if sys.argv[4] == "6" else (socket.AF_INET, "0.0.0.0")
socks = []
for p in tcp:
    s = socket.socket(family); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((any_, p)); s.listen(128); socks.append(s)
udp = {}
for p in echo + silent:
    s = socket.socket(family, socket.SOCK_DGRAM); s.bind((any_, p))
    udp[s] = p in echo
print("ready", flush=True)
while True:
    for s in select.select(list(udp) + [sys.stdin], [], [])[0]:
        if s is sys.stdin:
            sys.exit(0)
        data, peer = s.recvfrom(2048)
        if udp[s]:
            s.sendto(data, peer)
"""


def pick(ports, counts):
    """Deals `ports` (shuffled) into groups of the given sizes."""
    ports = list(ports)
    random.shuffle(ports)
    out, i = [], 0
    for n in counts:
        out.append(sorted(ports[i:i + n]))
        i += n
    return out


def nft_rules(protocol, drop, reset, admin, icmp="icmp"):
    rules = []
    if drop:
        rules.append(f"{protocol} dport {{ {', '.join(map(str, drop))} }} drop")
    if reset:
        rules.append(f"tcp dport {{ {', '.join(map(str, reset))} }} reject with tcp reset")
    if admin:
        rules.append(f"{protocol} dport {{ {', '.join(map(str, admin))} }} "
                     f"reject with {icmp} type admin-prohibited")
    return rules


class Target:
    """Host b's listeners and nftables table for one test."""

    def __init__(self, lab, tcp=(), echo=(), silent=(), rules=(), v6=False):
        self.b = lab["b"]
        self.b.sh(["sysctl", "-qw", "net.ipv4.icmp_ratelimit=0"])
        if v6:
            self.b.sh(["sysctl", "-qw", "net.ipv6.icmp.ratelimit=0"])
        table = "table inet scantest {\n chain input {\n  type filter hook input priority 0;\n"
        table += "".join(f"  {r}\n" for r in rules) + " }\n}\n"
        self.b.sh(["nft", "-f", "-"], input=table)
        self.server = self.b.popen(["python3", "-c", _SERVER, ",".join(map(str, tcp)),
                                    ",".join(map(str, echo)), ",".join(map(str, silent)),
                                    "6" if v6 else "4"],
                                   stdin=subprocess.PIPE)
        line = self.server.stdout.readline()
        assert line.strip() == "ready", f"the listeners did not start: {line!r}"

    def close(self):
        self.server.stdin.close()
        self.server.wait(timeout=10)


def scan_both(lab, ports, udp=False, syn=False, target=B):
    wrap = ["ip", "netns", "exec", lab["a"].ns]
    ours, host = duplex_states(target, ports, udp=udp, wrap=wrap, extra=["--syn"] if syn else [])
    theirs = nmap_states(target, ports, udp=udp, syn=syn, wrap=wrap)
    return ours, theirs, host


def tcp_case(syn, v6=False):
    """With v6, b is scanned at its IPv6 address (fd99::2), and the admin-prohibited rules
    answer with ICMPv6."""
    ports = random.sample(range(1024, 60000), 28)
    open_, closed, drop, reset, admin, reset_listening = pick(ports, (8, 6, 4, 3, 4, 3))
    with Lab({"a": f"{A}/24", "b": f"{B}/24"}, ipv6=v6) as lab:
        target = Target(lab, tcp=open_ + reset_listening + drop[:2], v6=v6,
                        rules=nft_rules("tcp", drop, reset + reset_listening, admin,
                                        icmp="icmpv6" if v6 else "icmp"))
        try:
            ours, theirs, host = scan_both(lab, ports, syn=syn,
                                           target=lab["b"].ip6 if v6 else B)
        finally:
            target.close()
    expected = {p: "open" for p in open_}
    expected.update({p: "closed" for p in closed + reset + reset_listening})
    expected.update({p: "filtered" for p in drop + admin})
    assert theirs == expected, f"nmap disagrees with the rules: {theirs} != {expected}"
    assert ours == theirs, f"duplex {ours} != nmap {theirs}"
    assert host["counts"]["open"] == len(open_), host
    if syn:
        # Filtered for a reason: the rejected ports by the ICMP (ICMPv6) error that the raw
        # socket read, not by a timeout. (A connect() is not told: Linux keeps such an
        # error soft while the SYN is retried.)
        reasons = {p["port"]: p["reason"] for p in host["ports"]}
        assert all(reasons[p] == "admin-prohibited" for p in admin), reasons
    assert host.get("srtt_ms", 0) > 0, host


def test_tcp_states_equal_nmaps():
    tcp_case(syn=False)


def test_syn_states_equal_nmaps():
    """--syn (raw sockets) against nmap -sS, on the same kind of random rules."""
    tcp_case(syn=True)


def test_syn_over_ipv6_states_equal_nmaps():
    """--syn to an IPv6 address (raw IPv6 TCP and ICMPv6 sockets) against nmap -6 -sS."""
    tcp_case(syn=True, v6=True)


def test_udp_states_equal_nmaps():
    ports = random.sample(range(1024, 60000), 14)
    echo, closed, silent, drop, admin = pick(ports, (4, 3, 2, 3, 2))
    with Lab({"a": f"{A}/24", "b": f"{B}/24"}) as lab:
        target = Target(lab, echo=echo, silent=silent, rules=nft_rules("udp", drop, [], admin))
        try:
            ours, theirs, _ = scan_both(lab, ports, udp=True)
        finally:
            target.close()
    expected = {p: "open" for p in echo}
    expected.update({p: "closed" for p in closed})
    expected.update({p: "open|filtered" for p in silent + drop})
    expected.update({p: "filtered" for p in admin})
    assert theirs == expected, f"nmap disagrees with the rules: {theirs} != {expected}"
    assert ours == theirs, f"duplex {ours} != nmap {theirs}"


if __name__ == "__main__":
    for tool, why in (("nmap", NEED_NMAP),
                      ("nft", "nft is missing: run scripts/setup (apt-get install nftables)")):
        if shutil.which(tool) is None:
            exit_skipped(why)
    main([test_tcp_states_equal_nmaps, test_syn_states_equal_nmaps,
          test_syn_over_ipv6_states_equal_nmaps, test_udp_states_equal_nmaps])
