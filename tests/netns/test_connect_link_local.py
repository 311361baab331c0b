"""Link-local IPv6 with a zone (fe80::1%dx0): `duplex connect`, `listen`, their -u forms and
`duplex echo --bind` carry the zone into sin6_scope_id, against nc.openbsd and Python
sockets. Everything runs in a namespace the test makes: an interface dx0 there holds
fe80::1, and traffic to it stays inside the namespace. Nothing touches the host's
interfaces; the namespace is removed at the end, whatever happened."""

import json
import os
import subprocess
import sys
import tempfile

from netns import DUPLEX, Lab, main, run, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from test_connect_listen_serve import read_until  # noqa: E402

ZONE = "dx0"
ADDRESS = f"fe80::1%{ZONE}"


class LinkLocalHost(Lab):
    """A namespace with lo and an interface dx0 that holds fe80::1/64 (no DAD wait)."""

    def __init__(self):
        super().__init__({})
        self.ns = f"{self.tag}ll"
        self.procs = []

    def _build(self):
        self._netns(self.ns)
        self.sh(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0"])
        # A veth pair made inside the namespace (both ends stay there): any interface will
        # do, since traffic to our own address never leaves the host.
        self.sh(["ip", "link", "add", ZONE, "type", "veth", "peer", "name", "dx1"])
        self.sh(["ip", "link", "set", "dx1", "up"])
        self.sh(["ip", "link", "set", ZONE, "up"])
        self.sh(["ip", "-6", "addr", "add", "fe80::1/64", "dev", ZONE, "nodad"])

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=10)
        self.procs = []
        super().close()

    def sh(self, args, **kw):
        return run(["ip", "netns", "exec", self.ns] + list(args), **kw)

    def start(self, args, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        p = subprocess.Popen(["ip", "netns", "exec", self.ns] + list(args), **kw)
        self.procs.append(p)
        return p


def first_event(proc):
    line = proc.stderr.readline()
    assert line.startswith(b"{"), f"no JSON event but: {line + proc.stderr.read()}"
    return json.loads(line)


def listening(host, port):
    """Whether a TCP socket listens on `port` in the namespace (/proc/net/tcp6, state 0A)."""
    lines = host.sh(["cat", "/proc/net/tcp6"]).stdout.splitlines()[1:]
    return any(f[1].endswith(f":{port:04X}") and f[3] == "0A" for f in map(str.split, lines))


def port_of(endpoint):
    return int(endpoint.rsplit(":", 1)[1])


def test_listen_on_a_link_local_address_with_its_zone():
    with LinkLocalHost() as host:
        listen = host.start([DUPLEX, "listen", "--json", ADDRESS, "0"])
        event = first_event(listen)
        assert event["event"] == "listening", event
        assert event["local"].startswith(f"[{ADDRESS}]:"), event
        r = host.sh(["nc.openbsd", "-N", ADDRESS, str(port_of(event["local"]))],
                    input="to listen\n", timeout=60)
        assert r.returncode == 0, r
        out, _ = listen.communicate(timeout=60)
        assert out == b"to listen\n" and listen.returncode == 0, (out, listen.returncode)


def test_connect_to_a_link_local_address_with_its_zone():
    with LinkLocalHost() as host:
        server = host.start(["nc.openbsd", "-N", "-l", ADDRESS, "9555"])
        assert wait_for(lambda: listening(host, 9555)), "nc.openbsd does not listen"
        r = host.sh([DUPLEX, "connect", ADDRESS, "9555"], input="to nc\n", timeout=60)
        assert r.returncode == 0, r
        out, _ = server.communicate(timeout=60)
        assert out == b"to nc\n", out


def test_udp_datagrams_reach_a_link_local_listener_with_its_zone():
    with LinkLocalHost() as host:
        listen = host.start([DUPLEX, "listen", "-u", "--json", ADDRESS, "0"])
        event = first_event(listen)
        assert event["event"] == "listening", event
        port = port_of(event["local"])
        r = host.sh([DUPLEX, "connect", "-u", "-q", "0", ADDRESS, str(port)],
                    input="datagram\n", timeout=60)
        assert r.returncode == 0, r
        got = read_until(listen.stdout, b"datagram\n")
        assert got == b"datagram\n", got


def test_echo_binds_to_a_link_local_address_with_its_zone():
    with LinkLocalHost() as host:
        echo = host.start([DUPLEX, "echo", "--tcp", "0", "--bind", ADDRESS, "--json"])
        line = echo.stdout.readline()
        assert line, echo.stderr.read()
        event = json.loads(line)
        assert event["endpoint"].startswith(f"[{ADDRESS}]:"), event
        r = host.sh(["nc.openbsd", "-N", ADDRESS, str(event["port"])], input="echo me\n",
                    timeout=60)
        assert r.returncode == 0 and r.stdout == "echo me\n", r


def test_http_serve_binds_to_a_link_local_address_with_its_zone():
    with LinkLocalHost() as host, tempfile.TemporaryDirectory() as root:
        with open(os.path.join(root, "index.html"), "w") as f:
            f.write("<h1>hi</h1>\n")
        site = host.start([DUPLEX, "http", "serve", root, "--port", "0", "--bind", ADDRESS])
        line = site.stdout.readline().decode()
        assert f"[{ADDRESS}]:" in line, line + site.stderr.read().decode()
        port = line.rsplit(":", 1)[1].split()[0].strip("/")
        r = host.sh(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-g",
                     f"http://[fe80::1%25{ZONE}]:{port}/"], timeout=60)
        assert r.returncode == 0 and r.stdout == "200", r


def test_an_unknown_zone_is_one_line_naming_it():
    with LinkLocalHost() as host:
        r = host.sh([DUPLEX, "echo", "--tcp", "0", "--bind", "fe80::1%nosuch0"], check=False)
        assert r.returncode == 2, r
        assert len(r.stderr.strip().splitlines()) == 1 and "nosuch0" in r.stderr, r


if __name__ == "__main__":
    main([test_listen_on_a_link_local_address_with_its_zone,
          test_connect_to_a_link_local_address_with_its_zone,
          test_udp_datagrams_reach_a_link_local_listener_with_its_zone,
          test_echo_binds_to_a_link_local_address_with_its_zone,
          test_http_serve_binds_to_a_link_local_address_with_its_zone,
          test_an_unknown_zone_is_one_line_naming_it])
