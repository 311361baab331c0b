#!/usr/bin/env python3
"""`duplex connect --tls` and `duplex listen --tls` against the TLS peers users have:
openssl s_client / s_server, ncat --ssl and socat OPENSSL, each way. 4 MiB of random data
passes each way with equal SHA-256 while both sides are open; then duplex's stdin ends and
it sends close_notify and FIN, and both sides exit 0. Bad input: a wrong pin and a
self-signed server without --ca are refused with one line naming the cause; plain text to
a TLS port gets one line and no crash; bad clients leave the listener's fd count as it
was; a stalled handshake is cut off at --handshake-timeout. Loopback only; every process
is killed in a finally and every wait has a timeout; nothing asserts timings.

The binary comes from $DUPLEX (ctest sets it)."""
import hashlib
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from prerequisites import requires  # noqa: E402

DUPLEX = os.environ.get("DUPLEX", "duplex")
SIZE = 4 * 1024 * 1024
TIMEOUT = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, what, deadline=20.0, detail=lambda: ""):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}: {detail()}")


def listening(port):
    want = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as f:
        return any(l.split()[1] == want and l.split()[3] == "0A" for l in f.readlines()[1:])


class Side:
    """One process of an exchange: stdin and stdout are pipes that the test drives; what
    arrives on stdout is hashed by a thread."""

    def __init__(self, argv, stderr_path, env=None):
        self.stderr_path = stderr_path
        self.err = open(stderr_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, env=env)
        self.received = 0
        self.hash = hashlib.sha256()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while chunk := self.proc.stdout.read1(1 << 16):
            self.hash.update(chunk)
            self.received += len(chunk)

    def send(self, data):
        def write():
            try:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass
        t = threading.Thread(target=write, daemon=True)
        t.start()
        return t

    def close_stdin(self):
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.err.close()


@requires(shutil.which("openssl"), "openssl is missing: run scripts/setup")
class TlsInterop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="duplex-tls-")
        cls.env = dict(os.environ, XDG_DATA_HOME=os.path.join(cls.tmp, "data"))
        cls.cert = os.path.join(cls.tmp, "cert.pem")
        cls.key = os.path.join(cls.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", cls.key, "-out",
                        cls.cert, "-days", "2", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=TIMEOUT)
        out = subprocess.run(["openssl", "x509", "-in", cls.cert, "-noout", "-fingerprint",
                              "-sha256"], check=True, capture_output=True, text=True)
        cls.pin = out.stdout.strip().split("=", 1)[1]
        cls.up = os.urandom(SIZE)    # client -> server
        cls.down = os.urandom(SIZE)  # server -> client

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, f"{self.id().split('.')[-1]}-{name}")

    def exchange(self, server_argv, client_argv, duplex_is_server, peer_name):
        """Starts the server, then the client; data both ways; then duplex's stdin ends."""
        port = free_port()
        server_argv = [a.replace("PORT", str(port)) for a in server_argv]
        client_argv = [a.replace("PORT", str(port)) for a in client_argv]
        sides = []
        try:
            server = Side(server_argv, self.path("server.err"), self.env)
            sides.append(server)
            wait_until(lambda: listening(port) or server.proc.poll() is not None, "the listener")
            client = Side(client_argv, self.path("client.err"), self.env)
            sides.append(client)
            writers = [client.send(self.up), server.send(self.down)]
            duplex, peer = (server, client) if duplex_is_server else (client, server)
            # Everything reaches duplex while both sides are open. (ncat reads 8 KiB of
            # a 16 KiB record per select and finds the rest only at the next bytes, so
            # the peer's last bytes are checked after the close.)
            wait_until(lambda: duplex.received >= SIZE or duplex.proc.poll() is not None,
                       "the bytes to duplex", TIMEOUT,
                       lambda: f"duplex got {duplex.received} B; " + duplex.stderr())
            for w in writers:
                w.join(TIMEOUT)
            duplex.close_stdin()  # close_notify, then FIN
            wait_until(lambda: peer.received >= SIZE or peer.proc.poll() is not None,
                       "the bytes to the peer", TIMEOUT,
                       lambda: f"{peer_name} got {peer.received} B; " + duplex.stderr())
            # ncat ends its side only at its own stdin's EOF (s_client -quiet never does).
            peer.close_stdin()
            duplex.proc.wait(TIMEOUT)
            peer.proc.wait(TIMEOUT)
            peer.reader.join(TIMEOUT)
            duplex.reader.join(TIMEOUT)
            self.assertEqual(duplex.proc.returncode, 0, duplex.stderr())
            self.assertEqual(server.received, SIZE, server.stderr() + client.stderr())
            self.assertEqual(client.received, SIZE, server.stderr() + client.stderr())
            self.assertEqual(server.hash.hexdigest(), hashlib.sha256(self.up).hexdigest())
            self.assertEqual(client.hash.hexdigest(), hashlib.sha256(self.down).hexdigest())
            return duplex, peer
        finally:
            for s in sides:
                s.kill()

    # openssl s_client -quiet ignores its stdin's EOF and ends at the server's
    # close_notify; "unexpected eof" in its stderr would mean that none came.
    def test_openssl_s_client_to_listen_tls(self):
        duplex, peer = self.exchange(
            [DUPLEX, "listen", "--tls", "-v", "127.0.0.1", "PORT"],
            ["openssl", "s_client", "-quiet", "-connect", "127.0.0.1:PORT", "-servername",
             "localhost", "-verify_return_error", "-CAfile",
             os.path.join(self.env["XDG_DATA_HOME"], "duplex", "tls", "cert.pem")],
            True, "s_client")
        self.assertEqual(peer.proc.returncode, 0, peer.stderr())
        self.assertNotIn("unexpected eof", peer.stderr().lower())
        err = duplex.stderr()
        self.assertRegex(err, r"TLS certificate SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}")
        self.assertIn("TLS TLSv1.3", err)
        self.assertIn("peer sent close_notify", err)

    def test_connect_tls_to_openssl_s_server(self):
        duplex, peer = self.exchange(
            ["openssl", "s_server", "-quiet", "-naccept", "1", "-accept", "127.0.0.1:PORT",
             "-cert", self.cert, "-key", self.key],
            [DUPLEX, "connect", "--tls", "-v", "--ca", self.cert, "localhost", "PORT"],
            False, "s_server")
        err = duplex.stderr()
        self.assertIn("TLS TLSv1.3", err)
        self.assertIn("CN=localhost SHA-256 " + self.pin, err)
        self.assertIn("sent close_notify and FIN", err)

    def test_connect_tls_with_pin_and_tls12_to_s_server(self):
        duplex, _ = self.exchange(
            ["openssl", "s_server", "-quiet", "-naccept", "1", "-tls1_2", "-accept",
             "127.0.0.1:PORT", "-cert", self.cert, "-key", self.key],
            [DUPLEX, "connect", "--tls", "-v", "--pin", self.pin, "127.0.0.1", "PORT"],
            False, "s_server")
        self.assertIn("TLS TLSv1.2", duplex.stderr())

    @requires(shutil.which("ncat"), "ncat is missing: run scripts/setup")
    def test_ncat_ssl_to_listen_tls(self):
        self.exchange([DUPLEX, "listen", "--tls", "127.0.0.1", "PORT"],
                      ["ncat", "--ssl", "127.0.0.1", "PORT"], True, "ncat")

    @requires(shutil.which("ncat"), "ncat is missing: run scripts/setup")
    def test_connect_tls_to_ncat_ssl(self):
        self.exchange(["ncat", "--ssl", "--ssl-cert", self.cert, "--ssl-key", self.key, "-l",
                       "127.0.0.1", "PORT"],
                      [DUPLEX, "connect", "--tls", "--ca", self.cert, "localhost", "PORT"],
                      False, "ncat")

    @requires(shutil.which("socat"), "socat is missing: run scripts/setup")
    def test_socat_openssl_to_listen_tls(self):
        self.exchange(
            [DUPLEX, "listen", "--tls", "--cert", self.cert, "--key", self.key, "127.0.0.1",
             "PORT"],
            ["socat", "-t", "30", "-", f"OPENSSL:127.0.0.1:PORT,cafile={self.cert},"
             "commonname=localhost"], True, "socat")

    @requires(shutil.which("socat"), "socat is missing: run scripts/setup")
    def test_connect_tls_to_socat_openssl_listen(self):
        self.exchange(
            ["socat", "-t", "30", f"OPENSSL-LISTEN:PORT,bind=127.0.0.1,reuseaddr,"
             f"cert={self.cert},key={self.key},verify=0", "-"],
            [DUPLEX, "connect", "--tls", "--pin", self.pin, "127.0.0.1", "PORT"], False,
            "socat")

    def test_a_slow_reader_of_listen_tls_gets_every_byte_before_the_fin(self):
        # stdout taken 4 KiB at a time: records wait in the session while stdout is full, and
        # the FIN behind them must not end the stream before they are decrypted (it did, 1
        # run in 3, with exit status 0 and "FIN without close_notify").
        data = os.urandom(8 * SIZE)
        source = self.path("source.bin")
        with open(source, "wb") as f:
            f.write(data)
        port = free_port()
        procs = []
        try:
            with open(self.path("listen.err"), "wb") as err:
                listener = subprocess.Popen(
                    [DUPLEX, "listen", "--tls", "-v", "--cert", self.cert, "--key", self.key,
                     "127.0.0.1", str(port)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=err)
            procs.append(listener)
            wait_until(lambda: listening(port) or listener.poll() is not None, "the listener")
            with open(source, "rb") as f:
                procs.append(subprocess.Popen(
                    [DUPLEX, "connect", "--tls", "--pin", self.pin, "127.0.0.1", str(port)],
                    stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            digest, received = hashlib.sha256(), 0
            while chunk := os.read(listener.stdout.fileno(), 4096):
                digest.update(chunk)
                received += len(chunk)
            for p in procs:
                p.wait(TIMEOUT)
            with open(self.path("listen.err")) as f:
                err = f.read()
            self.assertEqual(received, len(data), err)
            self.assertEqual(digest.hexdigest(), hashlib.sha256(data).hexdigest())
            self.assertIn("peer sent close_notify", err)
            self.assertEqual(listener.returncode, 0, err)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                p.wait()
            if procs:
                procs[0].stdout.close()


class TlsRefusals(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="duplex-tls-bad-")
        cls.env = dict(os.environ, XDG_DATA_HOME=os.path.join(cls.tmp, "data"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def start_listener(self, *extra, stdin_open=False):
        port = free_port()
        err_path = os.path.join(self.tmp, f"{self.id().split('.')[-1]}.err")
        err = open(err_path, "wb")
        proc = subprocess.Popen([DUPLEX, "listen", "--tls", *extra, "127.0.0.1", str(port)],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err,
                                env=self.env)
        self.addCleanup(err.close)
        self.addCleanup(lambda: (proc.kill(), proc.wait()))

        def stderr():
            with open(err_path) as f:
                return f.read()
        wait_until(lambda: listening(port) or proc.poll() is not None, "the listener")
        wait_until(lambda: "SHA-256" in stderr() or proc.poll() is not None, "the fingerprint")
        if not stdin_open:
            proc.stdin.close()  # so that a session ends when the client's does

        return proc, port, stderr

    def fingerprint(self, stderr):
        m = re.search(r"SHA-256 (\S+)", stderr())
        self.assertTrue(m, stderr())
        return m.group(1)

    def connect(self, port, *flags):
        return subprocess.run([DUPLEX, "connect", "--tls", *flags, "127.0.0.1", str(port)],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=TIMEOUT, env=self.env)

    def test_wrong_pin_is_refused_naming_the_pin(self):
        _, port, stderr = self.start_listener("-k")
        wrong = ":".join(["00"] * 32)
        r = self.connect(port, "--pin", wrong)
        self.assertEqual(r.returncode, 1)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("does not match --pin", lines[0])
        self.assertIn(self.fingerprint(stderr), lines[0])

    def test_self_signed_without_ca_is_refused_naming_the_fix(self):
        _, port, _ = self.start_listener("-k")
        r = self.connect(port)
        self.assertEqual(r.returncode, 1)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("not trusted", lines[0])
        self.assertIn("--ca FILE or --pin SHA256", lines[0])

    def test_right_pin_connects(self):
        proc, port, stderr = self.start_listener()
        r = self.connect(port, "--pin", self.fingerprint(stderr))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(proc.wait(TIMEOUT), 0)

    def test_insecure_says_what_it_skips(self):
        proc, port, _ = self.start_listener()
        r = self.connect(port, "--insecure")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("NOT checked", r.stderr)
        self.assertEqual(proc.wait(TIMEOUT), 0)

    def fds(self, proc):
        return len(os.listdir(f"/proc/{proc.pid}/fd"))

    def test_plain_text_and_stalled_clients_leave_no_fd_behind(self):
        proc, port, stderr = self.start_listener("-k", "-v", "--handshake-timeout", "0.5")
        self.handshake(port)  # OpenSSL keeps its random device open from the first on
        wait_until(lambda: stderr().count("closed 127.0.0.1") >= 1, "the first session closed")
        before = self.fds(proc)
        for i in range(10):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" if i % 2 else b"hello\n")
                s.settimeout(10)
                while s.recv(4096):  # an alert, then the close
                    pass
        # A client that says nothing is cut off at the handshake timeout.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.settimeout(20)
            self.assertEqual(s.recv(4096), b"")
        wait_until(lambda: stderr().count("closed 127.0.0.1") >= 12, "12 sessions closed")
        self.assertIsNone(proc.poll(), stderr())
        # At most as many as before: `before` may still count the first session's socket,
        # whose close is queued after the line that says it closed.
        wait_until(lambda: self.fds(proc) <= before, "the fd count as before",
                   detail=lambda: f"{self.fds(proc)} fds, {before} before")
        err = stderr()
        self.assertEqual(err.count("plain HTTP to a TLS port"), 5, err)
        self.assertEqual(err.count("does not speak TLS"), 5, err)
        self.assertEqual(err.count("TLS handshake timed out"), 1, err)
        self.handshake(port)  # ... and the listener still serves a real client

    def handshake(self, port):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with context.wrap_socket(raw) as tls:
                self.assertEqual(tls.version(), "TLSv1.3")

    def test_flags_without_tls_are_usage_errors(self):
        r = subprocess.run([DUPLEX, "connect", "--pin", "00", "127.0.0.1", "1"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 2)
        self.assertIn("add --tls", r.stderr)
        r = subprocess.run([DUPLEX, "connect", "--tls", "--pin", "nothex", "127.0.0.1", "1"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a SHA-256 fingerprint", r.stderr)
        r = subprocess.run([DUPLEX, "listen", "--tls", "--cert", "/nonexistent.pem", "--key",
                            "/nonexistent.key", "127.0.0.1", "0"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 2)
        self.assertIn("/nonexistent.pem", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
