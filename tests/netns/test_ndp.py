"""`duplex ndp` between network namespaces with IPv6: ping against the kernel's own
advertisements (the MAC as `ip link` shows it, the same as ndisc6's), DAD of a free and of a
taken address and against another node's DAD, routers against radvd (the same fields as
rdisc6 prints), and the bad input that exits 2."""

import contextlib
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time

from netns import DUPLEX, Lab, main, wait_for
from prerequisites import exit_skipped

HOSTS = {"a": "10.99.0.1/24", "b": "10.99.0.2/24"}


@contextlib.contextmanager
def ipv6_lab():
    with Lab(HOSTS, ipv6=True) as lab:
        for h in lab.hosts.values():
            assert wait_for(h.link_local, 10), f"{h.name} has no link-local address"
        yield lab


def macs(text):
    """Every 'Target link-layer address: X' (or Source), lower case."""
    return [m.lower() for m in re.findall(r"link-layer address: ?([0-9A-Fa-f:]{17})", text)]


def need(tool):
    if shutil.which(tool) is None:
        exit_skipped(f"`{tool}` is missing; run scripts/setup (Debian package ndisc6/radvd)")


def test_ping_link_local_gives_the_peer_mac_and_flags():
    with ipv6_lab() as lab:
        a, b = lab["a"], lab["b"]
        r = a.duplex("ndp", "ping", b.link_local(), "-I", "eth0", "-c", "2", "-i", "0.2")
        assert r.returncode == 0, r
        assert macs(r.stdout) == [b.mac(), b.mac()], (r.stdout, b.mac())
        assert "router=No solicited=Yes override=Yes" in r.stdout, r.stdout
        assert re.search(r"seq=2 time=[0-9.]+ ms", r.stdout), r.stdout


def test_ping_agrees_with_ndisc6():
    need("ndisc6")
    with ipv6_lab() as lab:
        a, b = lab["a"], lab["b"]
        for target in (b.link_local(), b.ip6):
            ours = a.duplex("ndp", "ping", target, "-I", "eth0", "-1")
            theirs = a.sh(["ndisc6", "-n", "-1", target, "eth0"], check=False)
            assert ours.returncode == 0 and theirs.returncode == 0, (ours, theirs)
            assert macs(ours.stdout) == macs(theirs.stdout) == [b.mac()], (ours, theirs)
            assert f" from {target}" in ours.stdout and f" from {target}" in theirs.stdout


def test_ping_global_address_finds_the_interface_by_route():
    with ipv6_lab() as lab:
        a, b = lab["a"], lab["b"]
        r = a.duplex("ndp", "ping", b.ip6, "-c", "1")
        assert r.returncode == 0 and "on eth0" in r.stdout and macs(r.stdout) == [b.mac()], r


def test_ping_nobody_answers_exits_1():
    with ipv6_lab() as lab:
        start = time.monotonic()
        r = lab["a"].duplex("ndp", "ping", "fd99::77", "-I", "eth0", "-c", "2", "-i", "0.3")
        assert r.returncode == 1 and "No response." in r.stdout, r
        assert "2 solicitations sent, 0 answers" in r.stdout, r.stdout
        assert time.monotonic() - start < 5


def test_dad_free_address_is_unique():
    with ipv6_lab() as lab:
        r = lab["a"].duplex("ndp", "dad", "fd99::77", "-I", "eth0")
        assert r.returncode == 0 and "is unique" in r.stdout, r


def test_dad_of_the_peer_address_is_duplicate():
    with ipv6_lab() as lab:
        a, b = lab["a"], lab["b"]
        r = a.duplex("ndp", "dad", b.ip6, "-I", "eth0")
        assert r.returncode == 1 and f"in use by {b.mac()}" in r.stdout, r
        # From ::, the peer answers to all nodes, unsolicited (RFC 4861 7.2.4).
        assert "solicited=No" in r.stdout, r.stdout


# A neighbour message sent by Python's own packet socket (not by duplex, not by the kernel):
# argv: dev, ethernet source, ethernet destination, IPv6 source, destination, ICMPv6 type,
# flags byte, target, then optionally an option type and its MAC; times, interval.
_NDP_FORGE = r"""
import socket, struct, sys, time
dev, esrc, edst, src, dst, kind, flags, target, opt, omac, times, gap = sys.argv[1:13]
mac = lambda s: bytes.fromhex(s.replace(":", ""))
a = lambda s: socket.inet_pton(socket.AF_INET6, s)
msg = bytes([int(kind), 0, 0, 0, int(flags), 0, 0, 0]) + a(target)
if opt != "0":
    msg += bytes([int(opt), 1]) + mac(omac)
d = a(src) + a(dst) + struct.pack("!I3xB", len(msg), 58) + msg
s = sum(struct.unpack("!%dH" % (len(d) // 2), d))
while s >> 16:
    s = (s & 0xffff) + (s >> 16)
msg = msg[:2] + struct.pack("!H", ~s & 0xffff) + msg[4:]
ip = struct.pack("!IHBB", 0x60000000, len(msg), 58, 255) + a(src) + a(dst) + msg
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((dev, 0))
for _ in range(int(times)):
    sock.send(mac(edst) + mac(esrc) + b"\x86\xdd" + ip)
    time.sleep(float(gap))
"""


def forge_ndp(host, esrc, edst, src, dst, kind, flags, target, opt=0, omac="", times=1,
              gap=0.0, wait=True):
    args = ["python3", "-c", _NDP_FORGE, host.dev, esrc, edst, src, dst, str(kind), str(flags),
            target, str(opt), omac or "00:00:00:00:00:00", str(times), str(gap)]
    return host.sh(args) if wait else host.popen(args)


def test_dad_sees_another_node_probing_for_the_same_address():
    with ipv6_lab() as lab:
        a, b = lab["a"], lab["b"]
        # Another node's DAD: solicitations from :: for fd99::99, ten a second for 4 s. The
        # gap paces a peer (as a node's own DAD retransmits), it waits on nothing: the probes
        # must keep coming through duplex's whole DAD window (3 solicitations, about 3 s).
        prober = forge_ndp(b, b.mac(), "33:33:ff:00:00:99", "::", "ff02::1:ff00:99", 135, 0,
                           "fd99::99", times=40, gap=0.1, wait=False)
        try:
            r = a.duplex("ndp", "dad", "fd99::99", "-I", "eth0", "-c", "3")
        finally:
            prober.kill()
            prober.wait()
        assert r.returncode == 1, r
        assert "another node wants the address too" in r.stdout and b.mac() in r.stdout, r.stdout


RADVD = """interface eth0 {
  AdvSendAdvert on; MinRtrAdvInterval 30; MaxRtrAdvInterval 100;
  AdvManagedFlag on; AdvOtherConfigFlag off; AdvCurHopLimit 61; AdvDefaultLifetime 1234;
  AdvReachableTime 5000; AdvRetransTimer 700; AdvLinkMTU 1400;
  prefix fd99::/64 { AdvOnLink on; AdvAutonomous off; AdvValidLifetime 7200;
                     AdvPreferredLifetime 3600; };
  prefix fd98:1::/64 { AdvValidLifetime infinity; AdvPreferredLifetime infinity; };
};
"""


def fields(text):
    """rdisc6's 'Name : value' lines as (name, value) pairs, the value's spaces squeezed and
    the trailing '(valid)' of its MTU line dropped."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^(\s*[A-Z][^:]*?)\s*:\s*(.*)$", line)
        if m and not line.startswith("Soliciting"):
            value = re.sub(r"\s+", " ", m.group(2)).replace(" (valid)", "").strip().lower()
            out.append((m.group(1).rstrip(), value))
    return out


def test_routers_agree_with_rdisc6_against_radvd():
    need("rdisc6")
    need("radvd")
    with ipv6_lab() as lab:
        a, b = lab["a"], lab["b"]
        b.sh(["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"])
        with tempfile.TemporaryDirectory() as tmp:
            conf = f"{tmp}/radvd.conf"
            with open(conf, "w") as f:
                f.write(RADVD)
            radvd = b.popen(["radvd", "-n", "-m", "stderr", "-C", conf, "-p", f"{tmp}/pid"])
            try:
                # radvd answers solicitations once it is up; retry until it has.
                runs = []
                wait_for(lambda: runs.append(a.duplex("ndp", "routers", "-I", "eth0", "-c", "2"))
                         or runs[-1].returncode == 0, 10, 0.5)
                r = runs[-1]
                assert r.returncode == 0, r
                theirs = a.sh(["rdisc6", "-n", "eth0"], check=False)
                assert theirs.returncode == 0, theirs
            finally:
                radvd.terminate()
                radvd.wait(timeout=10)
        ours = fields(r.stdout)
        names = {n for n, _ in ours}
        expected = [(n, v) for n, v in fields(theirs.stdout) if n in names]
        assert [x for x in ours if x[0] in {n for n, _ in expected}] == expected, (ours, expected)
        assert ("Hop limit", "61 ( 0x3d)") in ours and (" Prefix", "fd98:1::/64") in ours, ours
        assert (" MTU", "1400 bytes") in ours and (" Source link-layer address", b.mac()) in ours
        assert r.stdout.count(f" from {b.link_local()}") == 1, r.stdout  # one per router


def test_routers_none_answers_exits_1():
    with ipv6_lab() as lab:
        r = lab["a"].duplex("ndp", "routers", "-I", "eth0", "-c", "1", "-i", "0.3")
        assert r.returncode == 1 and "No response." in r.stdout, r


def test_bad_input_is_one_line_and_exit_2():
    with ipv6_lab() as lab:
        a, b = lab["a"], lab["b"]
        cases = [
            (["ping", "10.99.0.2", "-I", "eth0"], "is IPv4"),
            (["ping", b.ip6, "-I", "nosuch0"], "no interface named 'nosuch0'"),
            (["dad", b.ip6], "-I IF"),
            (["ping", b.link_local()], "-I IF"),
        ]
        for args, text in cases:
            r = a.duplex("ndp", *args)
            assert r.returncode == 2 and text in r.stderr, (args, r)
            assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        r = a.sh(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  "--inh-caps=-all", "--bounding-set=-all", "--", DUPLEX, "ndp", "ping", b.ip6,
                  "-I", "eth0", "-c", "1"], check=False)
        assert r.returncode == 2 and "CAP_NET_RAW" in r.stderr, r
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def read_events(proc, want, pending, seconds=15):
    """JSON events from a running `arp watch --json` until `want(events)` or the time is up
    (read from the fd itself: a buffered readline would hide lines from select); `pending`
    holds the start of a line not yet whole, from one call to the next."""
    events, deadline = [], time.monotonic() + seconds
    fd = proc.stdout.fileno()
    while not want(events) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        chunk = os.read(fd, 65536).decode()
        if not chunk:
            break
        *lines, pending[0] = (pending[0] + chunk).split("\n")
        events += [json.loads(line) for line in lines if line.strip()]
    return events


def test_watch_records_ipv6_stations_and_a_changed_mac():
    with ipv6_lab() as lab, tempfile.TemporaryDirectory() as tmp:
        a, b = lab["a"], lab["b"]
        db = f"{tmp}/stations.db"
        watch = a.popen([DUPLEX, "arp", "watch", "--dev", "eth0", "--json", "--db", db,
                         "-w", "30"])
        try:
            assert "listening on eth0" in watch.stderr.readline()
            # b asks for a: b's solicitation claims b's link-local address for b's MAC; a asks
            # for b: b's advertisement claims b's address. (A packet socket for one ethertype
            # sees only what comes in: a's own frames are no stations, as with ARP.)
            assert b.duplex("ndp", "ping", a.ip6, "-I", "eth0", "-c", "1").returncode == 0
            assert a.duplex("ndp", "ping", b.ip6, "-I", "eth0", "-c", "1").returncode == 0
            key = lambda e: (e["event"], e["ip"], e["mac"], e["op"])
            first = {("new_station", b.link_local(), b.mac(), "neighbor solicitation"),
                     ("new_station", b.ip6, b.mac(), "neighbor advertisement")}
            pending = [""]
            events = read_events(watch, lambda ev: first <= {key(e) for e in ev}, pending)
            assert first <= {key(e) for e in events}, events
            # A forged advertisement claims b's address for another MAC.
            fake = "02:de:ad:be:ef:01"
            forge_ndp(b, fake, "33:33:00:00:00:01", b.link_local(), "ff02::1", 136, 0x20, b.ip6,
                      2, fake)
            changed = lambda ev: [e for e in ev if e["event"] == "changed_ethernet_address"]
            events += read_events(watch, changed, pending)
            c = changed(events)
            assert c and c[0]["ip"] == b.ip6 and c[0]["mac"] == fake, events
            assert c[0]["old_mac"] == b.mac(), c
        finally:
            watch.terminate()
            watch.communicate(timeout=10)
        rows = subprocess.run(["sqlite3", db, "select ip, mac from stations order by ip"],
                              capture_output=True, text=True).stdout.split()
        assert f"{b.ip6}|{fake}" in rows and f"{b.ip6}|{b.mac()}" in rows, rows


if __name__ == "__main__":
    main([test_ping_link_local_gives_the_peer_mac_and_flags, test_ping_agrees_with_ndisc6,
          test_ping_global_address_finds_the_interface_by_route,
          test_ping_nobody_answers_exits_1, test_dad_free_address_is_unique,
          test_dad_of_the_peer_address_is_duplicate,
          test_dad_sees_another_node_probing_for_the_same_address,
          test_routers_agree_with_rdisc6_against_radvd, test_routers_none_answers_exits_1,
          test_bad_input_is_one_line_and_exit_2,
          test_watch_records_ipv6_stations_and_a_changed_mac])
