#!/usr/bin/env python3
"""`duplex connect` and `duplex listen` over TCP against the real peers users have:
nc.openbsd, ncat and socat. Each peer connects to `duplex listen`, and `duplex connect`
connects to each peer's listener; 100 MiB of random data passes each way with equal
SHA-256; half-close behaves as `--help` documents; bad input gets one line and the
documented status. Loopback only; every process is killed in a finally and every wait has
a timeout. Nothing asserts timings.

The binary comes from $DUPLEX (ctest sets it)."""
import hashlib
import json
import os
import socket
import subprocess
import tempfile
import time
import unittest

DUPLEX = os.environ.get("DUPLEX", "duplex")
TIMEOUT = 120
SIZE = 100 * 1024 * 1024
# Under ASan (scripts/test's second run) the shadow memory and the quarantine of freed
# blocks add to the RSS without being ours.
ASAN_SLACK_KIB = 128 * 1024 if "ASAN_OPTIONS" in os.environ else 0

# How each peer connects (stdin EOF -> FIN, then read until the other side's FIN) ...
CLIENTS = {
    "nc.openbsd": lambda port: ["nc.openbsd", "-N", "127.0.0.1", str(port)],
    "ncat": lambda port: ["ncat", "127.0.0.1", str(port)],
    "socat": lambda port: ["socat", "-t", "60", "-", f"TCP:127.0.0.1:{port}"],
}
# ... and how it listens for one connection.
LISTENERS = {
    "nc.openbsd": lambda port: ["nc.openbsd", "-N", "-l", "127.0.0.1", str(port)],
    "ncat": lambda port: ["ncat", "-l", "127.0.0.1", str(port)],
    "socat": lambda port: ["socat", "-t", "60",
                           f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr", "-"],
}


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, deadline=10.0):
    """Waits until something listens on 127.0.0.1:port, read from /proc/net/tcp, so that
    the check does not use up a one-connection listener."""
    end = time.monotonic() + deadline
    want = f"0100007F:{port:04X}"
    while time.monotonic() < end:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == want and fields[3] == "0A":
                    return
        time.sleep(0.02)
    raise AssertionError(f"nothing listens on port {port}")


class Procs:
    """Processes started by a test; all killed at the end, whatever happened."""

    def __init__(self):
        self.procs = []

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for stream in (p.stdin, p.stdout, p.stderr):
                if stream:
                    stream.close()


def start_listen(procs, *args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL):
    """Starts `duplex listen --json ... 127.0.0.1 0`; returns (process, port)."""
    p = procs.start([DUPLEX, "listen", "--json", *args, "127.0.0.1", "0"], stdin=stdin,
                    stdout=stdout, stderr=subprocess.PIPE)
    line = p.stderr.readline()
    if not line:
        raise AssertionError("duplex listen exited early")
    event = json.loads(line)
    assert event["event"] == "listening", event
    return p, int(event["local"].rsplit(":", 1)[1])


def wait_ok(test, proc, name):
    try:
        rc = proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{name} did not finish within {TIMEOUT} s")
    test.assertEqual(rc, 0, f"{name} exited with {rc}")


class BulkWithRealPeers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.data = os.path.join(cls.dir.name, "random.bin")
        with open(cls.data, "wb") as f:
            for _ in range(SIZE // (1 << 20)):
                f.write(os.urandom(1 << 20))
        cls.digest = sha256_file(cls.data)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def setUp(self):
        self.procs = Procs()
        self.out = os.path.join(self.dir.name, "out.bin")

    def tearDown(self):
        self.procs.kill_all()

    def test_each_peer_sends_100_mib_to_duplex_listen_intact(self):
        for peer, argv in CLIENTS.items():
            with self.subTest(peer=peer), open(self.out, "wb") as out, open(self.data, "rb") as src:
                listen, port = start_listen(self.procs, stdout=out)
                client = self.procs.start(argv(port), stdin=src, stdout=subprocess.DEVNULL)
                wait_ok(self, client, peer)
                wait_ok(self, listen, "duplex listen")
                self.assertEqual(sha256_file(self.out), self.digest)

    def test_duplex_listen_sends_100_mib_to_each_peer_intact(self):
        for peer, argv in CLIENTS.items():
            with self.subTest(peer=peer), open(self.out, "wb") as out, open(self.data, "rb") as src:
                listen, port = start_listen(self.procs, stdin=src)
                client = self.procs.start(argv(port), stdin=subprocess.DEVNULL, stdout=out)
                wait_ok(self, client, peer)
                wait_ok(self, listen, "duplex listen")
                self.assertEqual(sha256_file(self.out), self.digest)

    def test_duplex_connect_sends_100_mib_to_each_peer_listener_intact(self):
        for peer, argv in LISTENERS.items():
            with self.subTest(peer=peer), open(self.out, "wb") as out, open(self.data, "rb") as src:
                port = free_port()
                server = self.procs.start(argv(port), stdin=subprocess.DEVNULL, stdout=out)
                wait_listening(port)
                client = self.procs.start([DUPLEX, "connect", "127.0.0.1", str(port)], stdin=src,
                                          stdout=subprocess.DEVNULL)
                wait_ok(self, client, "duplex connect")
                wait_ok(self, server, peer)
                self.assertEqual(sha256_file(self.out), self.digest)

    def test_duplex_connect_receives_100_mib_from_each_peer_listener_intact(self):
        # --no-shutdown: with stdin at EOF from the start, our FIN would go out at once, and
        # nc.openbsd and ncat stop sending when they read a FIN. Without the FIN the session
        # ends at the peer's FIN, after the last byte.
        for peer, argv in LISTENERS.items():
            with self.subTest(peer=peer), open(self.out, "wb") as out, open(self.data, "rb") as src:
                port = free_port()
                server = self.procs.start(argv(port), stdin=src, stdout=subprocess.DEVNULL)
                wait_listening(port)
                client = self.procs.start(
                    [DUPLEX, "connect", "--no-shutdown", "127.0.0.1", str(port)],
                    stdin=subprocess.DEVNULL, stdout=out)
                wait_ok(self, client, "duplex connect")
                wait_ok(self, server, peer)
                self.assertEqual(sha256_file(self.out), self.digest)

    def test_duplex_to_duplex_carries_100_mib_both_ways_at_once(self):
        back = os.path.join(self.dir.name, "back.bin")
        with open(self.out, "wb") as out, open(back, "wb") as back_out, \
                open(self.data, "rb") as src1, open(self.data, "rb") as src2:
            listen, port = start_listen(self.procs, stdin=src1, stdout=out)
            client = self.procs.start([DUPLEX, "connect", "127.0.0.1", str(port)], stdin=src2,
                                      stdout=back_out)
            wait_ok(self, client, "duplex connect")
            wait_ok(self, listen, "duplex listen")
        self.assertEqual(sha256_file(self.out), self.digest)
        self.assertEqual(sha256_file(back), self.digest)


class HalfClose(unittest.TestCase):
    """EOF on stdin sends FIN; the peer's FIN closes stdout; sending goes on after it."""

    def setUp(self):
        self.procs = Procs()

    def tearDown(self):
        self.procs.kill_all()

    def test_peer_fin_closes_listen_stdout_and_listen_still_sends(self):
        for peer, argv in CLIENTS.items():
            with self.subTest(peer=peer):
                listen, port = start_listen(self.procs, stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE)
                client = self.procs.start(argv(port), stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE)
                client.stdin.write(b"ping\n")
                client.stdin.close()  # the peer half-closes
                # duplex's stdout carries ping, then EOF, while duplex itself still runs.
                self.assertEqual(listen.stdout.read(), b"ping\n")
                self.assertIsNone(listen.poll())
                listen.stdin.write(b"pong\n")
                listen.stdin.close()  # now duplex sends FIN too; the session ends
                self.assertEqual(client.stdout.read(), b"pong\n")
                wait_ok(self, client, peer)
                wait_ok(self, listen, "duplex listen")

    def test_connect_stdin_eof_sends_fin_and_the_reply_still_arrives(self):
        # A Python peer: `nc.openbsd -l` and `ncat -l` end the whole connection when they
        # read the client's FIN, so no reply can follow a half-close with them.
        with socket.socket() as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen()
            srv.settimeout(TIMEOUT)
            client = self.procs.start(
                [DUPLEX, "connect", "127.0.0.1", str(srv.getsockname()[1])],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            conn, _ = srv.accept()
            with conn:
                conn.settimeout(TIMEOUT)
                client.stdin.write(b"question\n")
                client.stdin.close()  # duplex sends FIN after the bytes
                got = b""
                while chunk := conn.recv(100):
                    got += chunk
                self.assertEqual(got, b"question\n")  # then EOF: the FIN arrived
                self.assertIsNone(client.poll())  # duplex waits for our side
                conn.sendall(b"answer\n")
            self.assertEqual(client.stdout.read(), b"answer\n")
            wait_ok(self, client, "duplex connect")

    def test_a_stdout_that_does_not_read_holds_back_the_peer_not_our_memory(self):
        with socket.socket() as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen()
            srv.settimeout(TIMEOUT)
            client = self.procs.start(
                [DUPLEX, "connect", "127.0.0.1", str(srv.getsockname()[1])],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            conn, _ = srv.accept()
            with conn:
                conn.setblocking(False)
                sent, chunk = 0, b"x" * 65536
                end = time.monotonic() + 5
                while sent < 256 * 1024 * 1024 and time.monotonic() < end:
                    try:
                        sent += conn.send(chunk)
                    except BlockingIOError:
                        time.sleep(0.01)
                with open(f"/proc/{client.pid}/status") as f:
                    rss_kib = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
                # The kernel's buffers and our 1 MiB a direction, not the 256 MiB offered.
                self.assertLess(sent, 64 * 1024 * 1024)
                self.assertLess(rss_kib, 64 * 1024 + ASAN_SLACK_KIB)
            client.stdin.close()
            client.stdout.read()  # drain; the session then ends in order
            wait_ok(self, client, "duplex connect")

    def test_no_shutdown_keeps_the_write_side_open_until_the_peer_closes(self):
        with socket.socket() as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen()
            srv.settimeout(TIMEOUT)
            client = self.procs.start(
                [DUPLEX, "connect", "--no-shutdown", "127.0.0.1", str(srv.getsockname()[1])],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            conn, _ = srv.accept()
            with conn:
                conn.settimeout(2)
                client.stdin.write(b"x")
                client.stdin.close()
                self.assertEqual(conn.recv(10), b"x")
                # No FIN: the read times out instead of returning b"".
                with self.assertRaises(socket.timeout):
                    conn.recv(10)
                conn.sendall(b"bye")
            self.assertEqual(client.stdout.read(), b"bye")
            wait_ok(self, client, "duplex connect")

    def test_quit_after_ends_the_session_after_stdin_eof(self):
        with socket.socket() as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen()
            srv.settimeout(TIMEOUT)
            client = self.procs.start(
                [DUPLEX, "connect", "-q", "0.2", "127.0.0.1", str(srv.getsockname()[1])],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
            conn, _ = srv.accept()
            with conn:
                client.stdin.close()
                wait_ok(self, client, "duplex connect -q 0.2")  # we never sent FIN

    def test_idle_timeout_ends_a_silent_session_with_status_1(self):
        with socket.socket() as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen()
            client = self.procs.start(
                [DUPLEX, "connect", "--idle-timeout", "0.3", "127.0.0.1",
                 str(srv.getsockname()[1])],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            conn, _ = srv.accept()
            with conn:
                _, err = client.communicate(timeout=TIMEOUT)
            self.assertEqual(client.returncode, 1)
            self.assertIn(b"idle timeout", err)


class Families(unittest.TestCase):
    def setUp(self):
        self.procs = Procs()

    def tearDown(self):
        self.procs.kill_all()

    def test_ipv6_loopback_carries_data_both_ways(self):
        listen = self.procs.start([DUPLEX, "listen", "--json", "-6", "::1", "0"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        event = json.loads(listen.stderr.readline())
        self.assertEqual(event["event"], "listening")
        port = event["local"].rsplit(":", 1)[1]
        client = self.procs.start([DUPLEX, "connect", "-6", "::1", port],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        listen.stdin.write(b"from listen\n")
        listen.stdin.close()
        client.stdin.write(b"from connect\n")
        client.stdin.close()
        self.assertEqual(client.stdout.read(), b"from listen\n")
        self.assertEqual(listen.stdout.read(), b"from connect\n")
        wait_ok(self, client, "duplex connect -6")
        wait_ok(self, listen, "duplex listen -6")

    def test_a_name_is_resolved_and_the_connection_named_in_json(self):
        listen, port = start_listen(self.procs)
        client = self.procs.start([DUPLEX, "connect", "--json", "localhost", str(port)],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        wait_ok(self, client, "duplex connect localhost")
        events = [json.loads(l) for l in client.stderr.read().decode().splitlines()]
        names = [e["event"] for e in events]
        self.assertEqual(names[0], "resolved")
        self.assertIn("127.0.0.1:" + str(port), events[0]["addresses"])
        self.assertIn({"event": "connected", "peer": f"127.0.0.1:{port}", "protocol": "tcp"},
                      events)
        self.assertEqual(names[-1], "closed")
        wait_ok(self, listen, "duplex listen")

    def test_ipv4_only_refuses_an_ipv6_address_as_usage(self):
        p = subprocess.run([DUPLEX, "connect", "-4", "::1", "80"], capture_output=True,
                           text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)
        self.assertIn("::1", p.stderr)


class BadInput(unittest.TestCase):
    def run_duplex(self, *args):
        p = subprocess.run([DUPLEX, *args], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT, text=True)
        return p.returncode, p.stderr

    def assert_one_line(self, err, *words):
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        for w in words:
            self.assertIn(w, err)

    def test_unknown_host_is_a_usage_error(self):
        rc, err = self.run_duplex("connect", "no-such-host.invalid", "80")
        self.assertEqual(rc, 2)
        self.assert_one_line(err, "no-such-host.invalid")

    def test_port_70000_is_a_usage_error(self):
        rc, err = self.run_duplex("connect", "127.0.0.1", "70000")
        self.assertEqual(rc, 2)
        self.assert_one_line(err, "70000", "65535")
        rc, err = self.run_duplex("listen", "70000")
        self.assertEqual(rc, 2)
        self.assert_one_line(err, "70000")

    def test_missing_port_is_a_usage_error(self):
        rc, err = self.run_duplex("connect", "127.0.0.1")
        self.assertEqual(rc, 2)
        self.assert_one_line(err, "missing")

    def test_refused_connection_exits_1_naming_the_cause(self):
        port = free_port()  # bound and closed again: nothing listens there
        rc, err = self.run_duplex("connect", "127.0.0.1", str(port))
        self.assertEqual(rc, 1)
        self.assert_one_line(err, "ECONNREFUSED")

    def test_port_in_use_exits_1(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            rc, err = self.run_duplex("listen", "127.0.0.1", str(s.getsockname()[1]))
        self.assertEqual(rc, 1)
        self.assert_one_line(err, "EADDRINUSE")

    def test_help_documents_eof_and_exit_status(self):
        for cmd in ("connect", "listen"):
            rc = subprocess.run([DUPLEX, cmd, "--help"], capture_output=True, text=True,
                                timeout=TIMEOUT)
            self.assertEqual(rc.returncode, 0)
            for words in ("EOF on stdin", "FIN", "--no-shutdown", "--quit-after",
                          "Exit status", "Examples"):
                self.assertIn(words, rc.stdout, f"{cmd} --help lacks {words!r}")


if __name__ == "__main__":
    unittest.main()
