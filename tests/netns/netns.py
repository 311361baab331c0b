"""A small lab of network namespaces for the link-layer tests.

Lab(hosts) builds one "switch" namespace holding a Linux bridge, and one namespace per host,
each with an interface `eth0` (a veth whose peer is a bridge port) and the host's address
from a private test range (10.99.0.0/24). Every name starts with `dxarp<pid>` so that tests
running at the same time never meet, and the namespaces (with their veths and the bridge)
are always removed on exit, even when a test fails or is interrupted.

Nothing here touches the host's own interfaces: every command runs inside a namespace the
lab made, through `ip netns exec`.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from prerequisites import exit_skipped  # noqa: E402

PREFIX = "dxarp"
DUPLEX = os.environ.get("DUPLEX", "duplex")


def skip_unless_able():
    """Exits 77 (skipped; 1 under CI=true) and says why unless we can make network namespaces."""
    if os.geteuid() != 0:
        exit_skipped("network namespace tests need root (CI runs them as root)")
    for tool in ("ip",):
        if shutil.which(tool) is None:
            exit_skipped(f"`{tool}` is missing; run scripts/setup")
    probe = f"{PREFIX}{os.getpid()}probe"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        exit_skipped(f"cannot create a network namespace: {r.stderr.strip()}")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)


def reap_stale():
    """Removes namespaces left by lab processes that died without cleaning up (SIGKILL)."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = re.match(rf"({PREFIX}(\d+)\S*)", line)
        if not m:
            continue
        pid = int(m.group(2))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            subprocess.run(["ip", "netns", "del", m.group(1)], capture_output=True)
        except PermissionError:
            pass


def run(args, check=True, timeout=30, **kw):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
    return r


class Host:
    def __init__(self, lab, name, cidr):
        self.lab = lab
        self.name = name
        self.ns = f"{lab.tag}{name}"
        self.cidr = cidr
        self.ip = cidr.split("/")[0]
        self.dev = "eth0"

    def sh(self, args, check=True, timeout=30, **kw):
        """Runs a command inside this host's namespace."""
        return run(["ip", "netns", "exec", self.ns] + list(args), check=check, timeout=timeout,
                   **kw)

    def popen(self, args, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.ns] + list(args),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)

    def duplex(self, *args, check=False, timeout=60):
        return self.sh([DUPLEX] + list(args), check=check, timeout=timeout)

    def mac(self):
        link = json.loads(self.sh(["ip", "-j", "link", "show", "dev", self.dev]).stdout)
        return link[0]["address"]

    def link_local(self):
        """The link-local address of eth0 once the kernel has made it (None until then)."""
        out = self.sh(["ip", "-j", "-6", "addr", "show", "dev", self.dev, "scope", "link"]).stdout
        for a in (json.loads(out or "[]") or [{}])[0].get("addr_info", []):
            if a.get("scope") == "link" and "local" in a and "tentative" not in a:
                return a["local"]
        return None

    def neigh(self, *extra):
        """`ip -j neigh show dev eth0`, the oracle for the neighbour table."""
        out = self.sh(["ip", "-j", "neigh", "show", "dev", self.dev] + list(extra)).stdout
        return json.loads(out or "[]")


class Lab:
    """with Lab({"a": "10.99.0.1/24", "b": "10.99.0.2/24"}) as lab: lab["a"].sh([...])

    With ipv6=True the hosts keep IPv6 (for the NDP tests): each gets fd99::<n>/64 as
    `host.ip6` besides its link-local address, both without DAD so that they are usable at
    once."""

    def __init__(self, hosts, ipv6=False):
        self.ipv6 = ipv6
        self.tag = f"{PREFIX}{os.getpid()}{chr(ord('a') + Lab._count)}"
        Lab._count += 1
        self.switch = f"{self.tag}sw"
        self.hosts = {name: Host(self, name, cidr) for name, cidr in hosts.items()}
        self.made = []

    _count = 0

    def __getitem__(self, name):
        return self.hosts[name]

    def __enter__(self):
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _netns(self, name):
        run(["ip", "netns", "add", name])
        self.made.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])

    def _build(self):
        self._netns(self.switch)
        # No IPv6 on the switch: the bridge and its ports say nothing on the link (their router
        # solicitations would be stations to `arp watch`, noise to every test).
        run(["ip", "netns", "exec", self.switch, "sysctl", "-qw",
             "net.ipv6.conf.all.disable_ipv6=1"])
        run(["ip", "-n", self.switch, "link", "add", "name", "br0", "type", "bridge"])
        run(["ip", "-n", self.switch, "link", "set", "br0", "up"])
        for i, host in enumerate(self.hosts.values()):
            self._netns(host.ns)
            port = f"p{i}"
            # Made in the switch namespace, then one end moved: no veth ever exists on the host.
            run(["ip", "-n", self.switch, "link", "add", "name", port, "type", "veth", "peer",
                 "name", "eth0", "netns", host.ns])
            run(["ip", "-n", self.switch, "link", "set", port, "master", "br0", "up"])
            if self.ipv6:
                host.ip6 = f"fd99::{i + 1}"
                host.sh(["sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0"])
                # No router solicitations of its own: the tests' frames are the only ones.
                host.sh(["sysctl", "-qw", "net.ipv6.conf.eth0.router_solicitations=0"])
                host.sh(["ip", "addr", "add", host.ip6 + "/64", "dev", "eth0", "nodad"])
            else:
                # IPv6 off: its DAD and router solicitations would only add noise to the tables.
                host.sh(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
            host.sh(["ip", "addr", "add", host.cidr, "dev", "eth0"])
            host.sh(["ip", "link", "set", "eth0", "up"])


    def close(self):
        for name in reversed(self.made):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        self.made = []


def main(tests):
    """Runs each test function; prints PASS/FAIL per test; exit 1 if any failed."""
    skip_unless_able()
    reap_stale()
    # SIGTERM (a ctest timeout) runs the finally blocks that remove the namespaces.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    only = sys.argv[1:]
    failed = 0
    for t in tests:
        if only and t.__name__ not in only:
            continue
        try:
            t()
            print(f"PASS {t.__name__}", flush=True)
        except Exception as e:  # report and go on with the next test
            failed += 1
            print(f"FAIL {t.__name__}: {type(e).__name__}: {e}", flush=True)
    sys.exit(1 if failed else 0)


def wait_for(predicate, seconds=5.0, step=0.1):
    """Polls `predicate` until it is true or `seconds` pass; returns its last value."""
    deadline = time.monotonic() + seconds
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(step)
        value = predicate()
    return value


_FORGE = r"""
import socket, struct, sys
dev, op, dst, src, sha, spa, tha, tpa = sys.argv[1:9]
mac = lambda s: bytes.fromhex(s.replace(":", ""))
ip = lambda s: socket.inet_aton(s)
frame = mac(dst) + mac(src) + struct.pack("!H", 0x0806)
frame += struct.pack("!HHBBH", 1, 0x0800, 6, 4, int(op)) + mac(sha) + ip(spa) + mac(tha) + ip(tpa)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
s.send(frame.ljust(60, b"\0"))
"""


def forge_arp(host, op, dst, src, sha, spa, tha, tpa):
    """Sends one hand-built ARP frame from `host`'s eth0 (op 1 request, 2 reply), written with
    Python's own AF_PACKET socket so that the frames under test do not come from duplex."""
    host.sh(["python3", "-c", _FORGE, host.dev, str(op), dst, src, sha, spa, tha, tpa])
