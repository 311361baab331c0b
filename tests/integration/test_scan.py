#!/usr/bin/env python3
"""`duplex scan` on loopback against nmap -sT: listeners on random ports (open) and ports
nothing listens on (closed), IPv4 and IPv6, must get nmap's states; the text table, -G and
--json say the same; --top N is nmap's --top-ports N; --banner reads a greeting and an HTTP
answer. Then bad input: each mistake is one line on stderr and exit status 2, and too few
file descriptors clamp --max-inflight with a one-line warning.

Traffic goes only to loopback. The binary comes from $DUPLEX (ctest sets it). Under
CI=true a missing nmap fails. Filtered ports need nftables rules in a namespace of their own:
tests/netns/test_scan.py."""
import ipaddress
import json
import os
import pty
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from nmap_states import NEED_NMAP, NMAP, duplex_scan, duplex_states, nmap_states  # noqa: E402
from prerequisites import requires  # noqa: E402


class Listeners:
    """`count` TCP listeners on random ports of `address`, and as many ports that nothing
    listens on (bound, then closed)."""

    def __init__(self, address, count):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.sockets = []
        for _ in range(count):
            s = socket.socket(family, socket.SOCK_STREAM)
            s.bind((address, 0))
            s.listen(64)
            self.sockets.append(s)
        self.open = [s.getsockname()[1] for s in self.sockets]
        self.closed = []
        while len(self.closed) < count:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.bind((address, 0))
                port = s.getsockname()[1]
            if port not in self.open:
                self.closed.append(port)

    def ports(self):
        ports = self.open + self.closed
        random.shuffle(ports)
        return ports

    def close(self):
        for s in self.sockets:
            s.close()


@requires(NMAP is not None, NEED_NMAP)
class ScanAgainstNmap(unittest.TestCase):
    def compare(self, address):
        ls = Listeners(address, 12)
        try:
            ours, host = duplex_states(address, ls.ports())
            theirs = nmap_states(address, ls.ports())
        finally:
            ls.close()
        self.assertEqual(ours, theirs)
        self.assertEqual(sorted(p for p, s in ours.items() if s == "open"), sorted(ls.open))
        # The counts are those of the ports listed. (Not len(ls.closed): those ports are
        # ephemeral ones bound and let go, and a test running beside this one may take one
        # before the scan; nmap, scanning the same ports, then agrees with whatever it is.)
        self.assertEqual(host["counts"]["closed"], sum(s == "closed" for s in ours.values()))
        self.assertIn("srtt_ms", host)

    def test_ipv4_states_equal_nmaps(self):
        self.compare("127.0.0.1")

    def test_ipv6_states_equal_nmaps(self):
        self.compare("::1")

    def test_top_ports_are_nmaps_top_ports(self):
        for n in (10, 1000):
            r = subprocess.run([NMAP, "-sT", "-Pn", "-n", "--top-ports", str(n), "-oG", "-", "-v",
                                "127.0.0.1"], capture_output=True, text=True, timeout=120)
            spec = re.search(r"Ports scanned: TCP\(\d+;([^)]*)\)", r.stdout).group(1)
            theirs = set()
            for item in spec.split(","):
                lo, _, hi = item.partition("-")
                theirs.update(range(int(lo), int(hi or lo) + 1))
            g = duplex_scan("127.0.0.1", "--top", str(n), "-G")
            self.assertEqual(g.returncode, 0, g.stderr)
            ours, _ = duplex_states("127.0.0.1", sorted(theirs))
            self.assertEqual(len(ours), n)
            j = duplex_scan("127.0.0.1", "--top", str(n), "--json", "--all")
            ports = {p["port"] for p in json.loads(j.stdout)["ports"]}
            self.assertEqual(ports, theirs)


class ScanOutput(unittest.TestCase):
    def setUp(self):
        self.ls = Listeners("127.0.0.1", 2)
        self.addCleanup(self.ls.close)
        self.ports = ",".join(map(str, self.ls.ports()))

    def test_the_table_shows_open_ports_and_counts_the_closed(self):
        r = duplex_scan("127.0.0.1", "-p", self.ports)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")  # no progress line when stderr is not a terminal
        self.assertIn("scan report for 127.0.0.1\n", r.stdout)
        self.assertIn("Not shown: 2 closed\n", r.stdout)
        self.assertRegex(r.stdout, r"PORT +STATE +SERVICE\n")
        for p in self.ls.open:
            self.assertRegex(r.stdout, rf"\n{p}/tcp +open")
        for p in self.ls.closed:
            self.assertNotIn(f"\n{p}/tcp", r.stdout)
        self.assertRegex(r.stdout, r"scanned 1 host, 4 TCP ports each, in [\d.]+ s\n$")

    def test_progress_goes_to_stderr_only_on_a_terminal(self):
        main, side = pty.openpty()
        # 4000 probes at 2000 a second: two seconds, so the one-second progress line shows.
        p = subprocess.Popen([os.environ.get("DUPLEX", "duplex"), "scan", "127.0.0.1", "-p",
                              "1-4000", "--rate", "2000", "-G"], stdout=subprocess.PIPE,
                             stderr=side, text=True)
        os.close(side)
        out, _ = p.communicate(timeout=60)
        progress = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            progress += chunk
        os.close(main)
        self.assertEqual(p.returncode, 0)
        self.assertRegex(progress.decode(), r"\d+/4000 ports \(\d+%\), \d+ open, 0/1 hosts")
        self.assertTrue(progress.endswith(b"\r\x1b[K"), progress[-40:])  # cleared at the end
        self.assertTrue(out.startswith("Host: 127.0.0.1 ()"), out)

    def test_grepable_is_one_nmap_line_per_host(self):
        r = duplex_scan("127.0.0.1", "localhost", "-p", self.ports, "-G")
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1, r.stdout)  # localhost is 127.0.0.1: scanned once
        for p in self.ls.open:
            self.assertIn(f"{p}/open/tcp//", lines[0])
        self.assertTrue(lines[0].startswith("Host: 127.0.0.1 ()\tPorts: "))
        self.assertTrue(lines[0].endswith("\tIgnored State: closed (2)"))

    def test_banner_is_the_greeting_or_the_http_answer_escaped(self):
        greeting = socket.socket()
        greeting.bind(("127.0.0.1", 0))
        greeting.listen(4)
        self.addCleanup(greeting.close)
        http = subprocess.Popen([sys.executable, "-m", "http.server", "0", "--bind",
                                 "127.0.0.1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True)
        self.addCleanup(http.stdout.close)
        self.addCleanup(http.wait)
        self.addCleanup(http.kill)
        line = http.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N ..."
        http_port = int(re.search(r"port (\d+)", line).group(1))

        def greet():
            c, _ = greeting.accept()
            with c:
                c.sendall(b"220 hello\x1b[31m\r\n")
                try:
                    c.recv(100)  # the scanner's reset (SO_LINGER 0) ends it
                except ConnectionResetError:
                    pass
        threading.Thread(target=greet, daemon=True).start()
        ports = f"{greeting.getsockname()[1]},{http_port}"
        r = duplex_scan("127.0.0.1", "-p", ports, "--banner", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        banners = {p["port"]: p.get("banner") for p in json.loads(r.stdout)["ports"]}
        self.assertEqual(banners[greeting.getsockname()[1]], "220 hello\\x1b[31m")
        self.assertTrue(banners[http_port].startswith("HTTP/1.0 200 OK\\r\\n"), banners)


def foreign_address():
    """A TEST-NET address in none of this machine's subnets (refused before any packet)."""
    out = subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True).stdout
    nets = [ipaddress.ip_network(f"{a['local']}/{a['prefixlen']}", strict=False)
            for i in json.loads(out) for a in i.get("addr_info", [])]
    for candidate in ("203.0.113.77", "198.51.100.77", "192.0.2.77"):
        if not any(ipaddress.ip_address(candidate) in n for n in nets):
            return candidate
    raise AssertionError("every TEST-NET is local here")


FOREIGN = foreign_address()


class BadInput(unittest.TestCase):
    def refused(self, args, pattern):
        r = duplex_scan(*args, timeout=30)
        self.assertEqual(r.returncode, 2, f"{args}: {r.stdout} {r.stderr}")
        self.assertEqual(r.stdout, "")
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertRegex(lines[0], "^duplex scan: .*" + pattern)

    def test_each_mistake_is_one_line_and_exit_2(self):
        cases = [
            (["127.0.0.1", "-p", "0"], "port 0 cannot be scanned.*start at 1"),
            (["127.0.0.1", "-p", "1-65536"], "port 65536 is above 65535"),
            (["127.0.0.1", "-p", "90-80"], "'90-80' is a backwards range: write 80-90"),
            (["127.0.0.1", "-p", "22,,80"], "has an empty item"),
            (["127.0.0.1", "-p", "ssh"], "'ssh' is not a port"),
            (["10.0.0.9-3", "-p", "22"], "backwards range: write 10.0.0.3-10.0.0.9"),
            (["10.0.0.1-256", "-p", "22"], "the last octet is at most 255"),
            (["300.1.1.1", "-p", "22"], "'300.1.1.1'"),
            (["10.0.0.0/8", "-p", "22"], "'10.0.0.0/8' holds 16777216 addresses; .*needs --yes"),
            ([FOREIGN, "-p", "22"], f"{FOREIGN} is outside this machine's subnets; .*--yes"),
            (["127.0.0.1", "--top", "0"], "--top"),
            (["127.0.0.1", "-p", "22", "--top", "5"], "give -p or --top, not both"),
            (["127.0.0.1", "--bogus"], ".*--bogus"),
            ([], "give the hosts to scan"),
            (["127.0.0.1", "-p", "22", "--syn", "-u"], "give --syn or -u, not both"),
        ]
        for args, pattern in cases:
            with self.subTest(args=args):
                self.refused(args, pattern)

    def test_syn_without_raw_sockets_says_how_to_get_them(self):
        args = [os.environ.get("DUPLEX", "duplex"), "scan", "127.0.0.1", "-p", "22", "--syn"]
        if os.geteuid() == 0:  # drop root and every capability for this one run
            if shutil.which("setpriv") is None:
                self.skipTest("setpriv (util-linux) is missing")
            args = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all"] + args
        r = subprocess.run(args, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr, r"^duplex scan: a SYN scan needs raw sockets: EPERM.*"
                                   r"CAP_NET_RAW.*\n$")

    def test_too_few_descriptors_clamp_the_inflight_with_a_warning(self):
        def low_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))
        ls = Listeners("127.0.0.1", 1)
        self.addCleanup(ls.close)
        r = subprocess.run([os.environ.get("DUPLEX", "duplex"), "scan", "127.0.0.1", "-p",
                            "1-2000," + str(ls.open[0]), "--max-inflight", "5000", "-G"],
                           capture_output=True, text=True, timeout=60, preexec_fn=low_limit)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r"^duplex scan: --max-inflight 5000 is more than the 136 "
                                   r"sockets RLIMIT_NOFILE allows; using 136 .*\n$")
        self.assertIn(f"{ls.open[0]}/open/tcp", r.stdout)


if __name__ == "__main__":
    unittest.main()
