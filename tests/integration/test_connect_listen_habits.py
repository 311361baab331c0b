#!/usr/bin/env python3
"""The netcat habits users type, against real peers (nc.openbsd, socat, Python sockets):
bundled short flags (-lvnp 9000, -vzw 1), -s/-p for the source of a connection (and for
the address and port of `listen`), -n, service names for ports, and Unix-domain stream
sockets (-U) both ways. Loopback and temporary directories only; processes killed in a
finally; every wait bounded; nothing asserts timings. The binary comes from $DUPLEX."""
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_connect_listen import (DUPLEX, TIMEOUT, Procs, free_port, wait_listening,  # noqa: E402
                                 wait_ok)
from test_connect_listen_serve import read_until  # noqa: E402


def run_duplex(*args, stdin=subprocess.DEVNULL):
    return subprocess.run([DUPLEX, *args], stdin=stdin, capture_output=True, text=True,
                          timeout=TIMEOUT)


def nc_sends(procs, port, data):
    """nc.openbsd connects to 127.0.0.1:port, sends data and half-closes (-N)."""
    client = procs.start(["nc.openbsd", "-N", "127.0.0.1", str(port)], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL)
    client.stdin.write(data)
    client.stdin.close()


def wait_unix_listening(path, deadline=10.0):
    """Waits until a socket listens at `path`, read from /proc/net/unix (flag __SO_ACCEPTCON),
    so that the check does not use up a one-connection listener."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with open("/proc/net/unix") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if len(fields) == 8 and fields[7] == path and fields[3] == "00010000":
                    return
        time.sleep(0.02)
    raise AssertionError(f"nothing listens on {path}")


class BundledFlags(unittest.TestCase):
    def setUp(self):
        self.procs = Procs()

    def tearDown(self):
        self.procs.kill_all()

    def test_listen_lvnp_listens_on_the_port_as_nc_does(self):
        listen = self.procs.start([DUPLEX, "listen", "-lvnp", "0"], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = listen.stderr.readline().decode()
        self.assertIn("listening on tcp [::]:", line)
        port = int(line.rsplit(":", 1)[1])
        nc_sends(self.procs, port, b"bundled\n")
        self.assertEqual(listen.stdout.read(), b"bundled\n")
        wait_ok(self, listen, "duplex listen -lvnp")

    def test_connect_vzw_takes_the_value_of_the_last_flag(self):
        with socket.socket() as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen()
            port = srv.getsockname()[1]
            for flags in (["-vzw", "1"], ["-vzw1"]):
                with self.subTest(flags=flags):
                    p = run_duplex("connect", *flags, "127.0.0.1", str(port))
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertEqual(p.stdout.split(), ["127.0.0.1", str(port), "open"])

    def test_an_unknown_flag_in_a_bundle_is_named(self):
        p = run_duplex("listen", "-lvx", "9000")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("-x in -lvx", p.stderr)

    def test_a_value_flag_at_the_end_of_a_bundle_needs_its_value(self):
        p = run_duplex("listen", "-lvp")
        self.assertEqual(p.returncode, 2)
        self.assertIn("-p (in -lvp) needs a value", p.stderr)


class SourceAndPort(unittest.TestCase):
    def setUp(self):
        self.procs = Procs()

    def tearDown(self):
        self.procs.kill_all()

    def test_connect_s_and_p_set_the_source_address_and_port(self):
        source_port = free_port()
        with socket.socket() as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen()
            srv.settimeout(TIMEOUT)
            client = self.procs.start(
                [DUPLEX, "connect", "-s", "127.0.0.2", "-p", str(source_port), "127.0.0.1",
                 str(srv.getsockname()[1])], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL)
            conn, peer = srv.accept()
            conn.close()
        self.assertEqual(peer, ("127.0.0.2", source_port))
        wait_ok(self, client, "duplex connect -s -p")

    def test_connect_udp_s_and_p_set_the_source_of_the_datagrams(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            source_port = s.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as srv:
            srv.bind(("127.0.0.1", 0))
            srv.settimeout(TIMEOUT)
            client = self.procs.start(
                [DUPLEX, "connect", "-u", "-s", "127.0.0.2", "-p", str(source_port), "127.0.0.1",
                 str(srv.getsockname()[1])], stdin=subprocess.PIPE)
            client.stdin.write(b"x")
            client.stdin.flush()
            _, peer = srv.recvfrom(10)
        self.assertEqual(peer, ("127.0.0.2", source_port))

    def test_listen_s_and_p_name_the_address_and_port_as_nc_l_does(self):
        port = free_port()
        listen = self.procs.start([DUPLEX, "listen", "-s", "127.0.0.1", "-p", str(port)],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        wait_listening(port)
        nc_sends(self.procs, port, b"via -p\n")
        self.assertEqual(listen.stdout.read(), b"via -p\n")
        wait_ok(self, listen, "duplex listen -s -p")

    def test_listen_refuses_an_address_given_twice(self):
        p = run_duplex("listen", "-s", "127.0.0.1", "-p", "9000", "::1")
        self.assertEqual(p.returncode, 2)
        self.assertIn("-s and ADDRESS", p.stderr)


class NamesAndNumbers(unittest.TestCase):
    def test_a_service_name_is_the_port_it_names(self):
        p = run_duplex("connect", "-z", "-w", "1", "127.0.0.1", "http")
        self.assertIn(p.returncode, (0, 1), p.stderr)
        self.assertEqual(p.stdout.split()[:2], ["127.0.0.1", "80"])

    def test_an_unknown_service_name_is_a_usage_error_naming_it(self):
        p = run_duplex("connect", "127.0.0.1", "no-such-service")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("'no-such-service'", p.stderr)
        self.assertIn("service name", p.stderr)

    def test_numeric_refuses_a_name_in_one_line(self):
        p = run_duplex("connect", "-n", "localhost", "80")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("-n: 'localhost' is not an IP address", p.stderr)


class UnixSockets(unittest.TestCase):
    """-U: stream sockets in a temporary directory, against nc.openbsd -U and socat."""

    def setUp(self):
        self.procs = Procs()
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "s.sock")

    def tearDown(self):
        self.procs.kill_all()
        self.dir.cleanup()

    def test_listen_u_serves_nc_and_socat_clients_both_ways(self):
        clients = {
            "nc.openbsd": ["nc.openbsd", "-N", "-U", self.path],
            "socat": ["socat", "-t", "60", "-", f"UNIX-CONNECT:{self.path}"],
        }
        for peer, argv in clients.items():
            with self.subTest(peer=peer):
                listen = self.procs.start([DUPLEX, "listen", "-v", "-U", self.path],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE)
                self.assertIn(f"listening on unix {self.path}",
                              listen.stderr.readline().decode())
                client = self.procs.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                client.stdin.write(b"ping\n")
                client.stdin.close()  # the client half-closes
                self.assertEqual(listen.stdout.read(), b"ping\n")
                listen.stdin.write(b"pong\n")
                listen.stdin.close()
                self.assertEqual(client.stdout.read(), b"pong\n")
                wait_ok(self, client, peer)
                wait_ok(self, listen, "duplex listen -U")
                self.assertFalse(os.path.exists(self.path), "the socket file outlived listen")

    def test_connect_u_reaches_nc_and_socat_listeners(self):
        listeners = {
            "nc.openbsd": ["nc.openbsd", "-N", "-lU", self.path],
            "socat": ["socat", "-t", "60", f"UNIX-LISTEN:{self.path}", "-"],
        }
        for peer, argv in listeners.items():
            with self.subTest(peer=peer):
                server = self.procs.start(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
                wait_unix_listening(self.path)
                client = self.procs.start([DUPLEX, "connect", "-U", self.path],
                                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
                client.stdin.write(b"over unix\n")
                client.stdin.close()
                wait_ok(self, client, "duplex connect -U")
                self.assertEqual(server.stdout.read(), b"over unix\n")
                wait_ok(self, server, peer)
                if os.path.exists(self.path):
                    os.unlink(self.path)  # nc.openbsd leaves its socket file

    def test_listen_u_replaces_a_stale_socket_file(self):
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(self.path)
        stale.close()  # the file stays; nothing accepts on it
        listen = self.procs.start([DUPLEX, "listen", "-v", "-U", self.path],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.assertIn("listening on unix", listen.stderr.readline().decode())
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(TIMEOUT)
            s.connect(self.path)
            s.sendall(b"fresh\n")
            s.shutdown(socket.SHUT_WR)
            self.assertEqual(read_until(listen.stdout, b"fresh\n"), b"fresh\n")
        wait_ok(self, listen, "duplex listen -U")

    def test_connect_u_to_a_missing_path_exits_1_naming_it(self):
        p = run_duplex("connect", "-U", self.path)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn(self.path, p.stderr)
        self.assertIn("ENOENT", p.stderr)

    def test_u_with_udp_is_refused_in_one_line(self):
        for cmd in ("connect", "listen"):
            p = run_duplex(cmd, "-Uu", self.path)
            self.assertEqual(p.returncode, 2)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertIn("-u", p.stderr)


if __name__ == "__main__":
    unittest.main()
