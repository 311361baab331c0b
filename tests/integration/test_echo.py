#!/usr/bin/env python3
"""`duplex echo` as users and the benchmark run it: the real binary on loopback, driven by
Python sockets and by real peers (socat, nc). Every wait is bounded by a socket timeout or
a deadline; nothing asserts timings.

The binary comes from $DUPLEX (ctest sets it)."""
import json
import os
import random
import resource
import selectors
import signal
import socket
import subprocess
import threading
import time
import unittest

DUPLEX = os.environ.get("DUPLEX", "duplex")
TIMEOUT = 60


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


class Echo:
    """A running `duplex echo --json`; knows its TCP and UDP endpoints."""

    def __init__(self, *args, bind="127.0.0.1", nofile=None, env=None):
        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen(
            [DUPLEX, "echo", "--tcp", "0", "--udp", "0", "--bind", bind, "--json", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit,
            env=env)
        self.ports = {}
        while len(self.ports) < 2:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError("echo exited early: " + self.proc.stderr.read())
            event = json.loads(line)
            self.ports[event["protocol"]] = event["port"]
        self.host = bind
        self.tcp = (bind, self.ports["tcp"])
        self.udp = (bind, self.ports["udp"])

    def connect(self):
        s = socket.create_connection(self.tcp, timeout=TIMEOUT)
        return s

    def open_fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self, sig=signal.SIGTERM):
        """Signals the server; returns (exit status, stderr events)."""
        self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("echo did not stop on " + signal.Signals(sig).name)
        return self.proc.returncode, [json.loads(l) for l in err.splitlines() if l.startswith("{")]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def roundtrip(server, data):
    """Sends data, half-closes, and returns everything received until the server closes."""
    s = server.connect()
    writer = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)))
    writer.start()
    chunks = []
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        chunks.append(b)
    writer.join()
    s.close()
    return b"".join(chunks)


class TcpEcho(unittest.TestCase):
    def setUp(self):
        self.server = Echo("--threads", "2")

    def tearDown(self):
        self.server.close()

    def test_random_sizes_up_to_64_mib_come_back_byte_for_byte(self):
        rng = random.Random(3)
        sizes = [1, 7, 1000, 65536, 65537, rng.randrange(1, 1 << 20), rng.randrange(1 << 20, 16 << 20),
                 64 << 20]
        for size in sizes:
            data = rng.randbytes(size)
            back = roundtrip(self.server, data)
            self.assertEqual(len(back), size)
            self.assertTrue(back == data, f"{size} bytes came back changed")

    def test_a_thousand_concurrent_clients_each_get_their_own_bytes(self):
        raise_nofile(4096)
        n = 1000
        sel = selectors.DefaultSelector()
        expected, got, socks = {}, {}, []
        try:
            for i in range(n):
                s = socket.create_connection(self.server.tcp, timeout=TIMEOUT)
                s.setblocking(False)
                msg = f"client {i:04d} ".encode() * 8
                expected[s.fileno()] = msg
                got[s.fileno()] = b""
                socks.append(s)
                sel.register(s, selectors.EVENT_READ)
            for s in socks:
                s.sendall(expected[s.fileno()])
            deadline = time.monotonic() + TIMEOUT
            pending = n
            while pending and time.monotonic() < deadline:
                for key, _ in sel.select(timeout=1):
                    fd = key.fileobj.fileno()
                    got[fd] += key.fileobj.recv(65536)
                    if len(got[fd]) >= len(expected[fd]):
                        sel.unregister(key.fileobj)
                        pending -= 1
            self.assertEqual(pending, 0, "some clients never got their echo")
            self.assertEqual(got, expected)
        finally:
            for s in socks:
                s.close()

    def test_socat_half_closes_and_still_receives_everything(self):
        data = random.Random(5).randbytes(3 << 20)
        p = subprocess.run(["socat", "-t", "30", "-", f"TCP:127.0.0.1:{self.server.ports['tcp']}"],
                           input=data, capture_output=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout == data)

    def test_netcat_gets_its_line_back(self):
        p = subprocess.run(["nc", "-N", "127.0.0.1", str(self.server.ports["tcp"])],
                           input=b"hello, echo\n", capture_output=True, timeout=TIMEOUT)
        self.assertEqual(p.stdout, b"hello, echo\n")

    def test_peer_reset_mid_write_leaves_the_server_serving(self):
        s = self.server.connect()
        s.settimeout(2)
        chunk = b"r" * 65536
        try:
            for _ in range(256):  # <= 16 MiB; stops when the server pushes back
                s.sendall(chunk)
        except socket.timeout:
            pass
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()  # RST, with the server's echo half-written
        self.assertEqual(roundtrip(self.server, b"still here"), b"still here")
        code, events = self.server.stop()
        self.assertEqual(code, 0)
        reasons = [e.get("reason", "") for e in events if e.get("event") == "closed"]
        self.assertTrue(any("ECONNRESET" in r or "EPIPE" in r for r in reasons), reasons)

    def test_slow_reader_cannot_grow_server_memory_without_bound(self):
        # The server's own memory, not ASan's quarantine of freed blocks (256 MiB by default,
        # resident until reused): under ASan it is kept at 1 MiB for this server alone.
        env = dict(os.environ)
        if "ASAN_OPTIONS" in env:
            env["ASAN_OPTIONS"] += ":quarantine_size_mb=1"
        server = Echo(env=env)
        self.addCleanup(server.close)
        s = server.connect()
        s.settimeout(2)
        before = server.rss_kib()
        chunk = b"s" * 65536
        sent = 0
        try:
            for _ in range(1024):  # <= 64 MiB, never reading the echo
                s.sendall(chunk)
                sent += len(chunk)
        except socket.timeout:
            pass
        grown = server.rss_kib() - before
        self.assertLess(sent, 64 << 20, "the server never pushed back")
        # The high-water mark (1 MiB) plus read buffers (on io_uring the loop's 2 MiB ring and
        # what it held); without the mark, this would be `sent`.
        self.assertLess(grown, 16 * 1024, f"server RSS grew {grown} KiB for {sent} bytes sent")
        s.close()


class Lifecycle(unittest.TestCase):
    def test_sigterm_stops_cleanly_with_per_connection_statistics(self):
        server = Echo()
        try:
            s = server.connect()
            s.sendall(b"12345")
            self.assertEqual(s.recv(5), b"12345")
            code, events = server.stop(signal.SIGTERM)
            self.assertEqual(code, 0)
            closed = [e for e in events if e["event"] == "closed"]
            self.assertEqual(len(closed), 1)
            self.assertEqual(closed[0]["peer"], f"127.0.0.1:{s.getsockname()[1]}")
            self.assertEqual((closed[0]["bytes_in"], closed[0]["bytes_out"]), (5, 5))
            self.assertEqual(s.recv(1), b"")  # the server closed our connection
            s.close()
        finally:
            server.close()

    def test_sigint_prints_statistics_for_people(self):
        p = subprocess.Popen([DUPLEX, "echo", "--tcp", "0", "--bind", "127.0.0.1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            port = int(p.stdout.readline().rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
                s.sendall(b"abc")
                s.recv(3)
                p.send_signal(signal.SIGINT)
                _, err = p.communicate(timeout=TIMEOUT)
            self.assertEqual(p.returncode, 0)
            self.assertIn("in            3 B", err)
            self.assertIn("echo: stopped; 1 TCP connection", err)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()

    def test_serves_again_after_running_out_of_file_descriptors(self):
        raise_nofile(1024)
        server = Echo(nofile=32)
        socks = []
        try:
            idle_fds = server.open_fds()
            for _ in range(60):  # more than the server has fds for
                socks.append(server.connect())
            answered = dropped = 0
            for s in socks:
                s.settimeout(5)
                try:
                    s.sendall(b"x")
                    if s.recv(1) == b"x":
                        answered += 1
                    else:
                        dropped += 1
                except OSError:
                    dropped += 1
            self.assertGreater(answered, 0)
            self.assertGreater(dropped, 0, "the fd limit was never reached")
            for s in socks:
                s.close()
            socks = []
            # The server has seen the closes once it holds no more fds than when idle.
            deadline = time.monotonic() + TIMEOUT
            while server.open_fds() > idle_fds and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertLessEqual(server.open_fds(), idle_fds)
            self.assertEqual(roundtrip(server, b"after EMFILE"), b"after EMFILE")
            self.assertIsNone(server.proc.poll())
        finally:
            for s in socks:
                s.close()
            server.close()

    def test_ipv6_loopback(self):
        server = Echo(bind="::1")
        try:
            s = socket.create_connection(("::1", server.ports["tcp"]), timeout=TIMEOUT)
            s.sendall(b"six")
            self.assertEqual(s.recv(3), b"six")
            s.close()
        finally:
            server.close()

    def test_port_in_use_fails_with_the_cause(self):
        server = Echo()
        try:
            p = subprocess.run([DUPLEX, "echo", "--tcp", str(server.ports["tcp"]), "--bind",
                                "127.0.0.1"], capture_output=True, text=True, timeout=TIMEOUT)
            self.assertEqual(p.returncode, 1)
            self.assertIn("EADDRINUSE", p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1)
        finally:
            server.close()

    def test_bad_input_is_a_usage_error(self):
        for args in (["--tcp", "70000"], [], ["--tcp", "1", "--bind", "nowhere"],
                     ["--tcp", "1", "--threads", "x"]):
            p = subprocess.run([DUPLEX, "echo", *args], capture_output=True, text=True,
                               timeout=TIMEOUT)
            self.assertEqual(p.returncode, 2, args)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)


class UdpEcho(unittest.TestCase):
    def setUp(self):
        self.server = Echo()

    def tearDown(self):
        self.server.close()

    def test_datagrams_of_every_size_come_back_whole(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        for size in (0, 1, 1472, 9000, 65507):
            data = random.Random(size).randbytes(size)
            s.sendto(data, self.server.udp)
            back, peer = s.recvfrom(70000)
            self.assertEqual(back, data, size)
            self.assertEqual(peer, self.server.udp)
        s.close()

    def test_socat_gets_its_datagram_back(self):
        p = subprocess.run(["socat", "-t", "2", "-", f"UDP:127.0.0.1:{self.server.ports['udp']}"],
                           input=b"over udp\n", capture_output=True, timeout=TIMEOUT)
        self.assertEqual(p.stdout, b"over udp\n")


if __name__ == "__main__":
    unittest.main()
