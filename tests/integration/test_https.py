#!/usr/bin/env python3
"""`duplex http serve --tls` and `duplex echo --tls` against real TLS clients: curl with
--cacert (the self-signed certificate duplex made in its data directory) and with
--pinnedpubkey (GET a file, a Range request, several requests on one kept-alive connection,
a 1 MiB file byte-compared), openssl s_client against `echo --tls`. Bad input: plain HTTP to
the TLS port gets a 400 saying to use https://, one line in the server's log, and the next TLS client is served;
a raw TCP client that sends nothing is cut off at --handshake-timeout while another client
is served; the server's fd count returns to its baseline. Loopback only; every wait has a
timeout.

The binary comes from $DUPLEX (ctest sets it)."""
import base64
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from prerequisites import requires  # noqa: E402
from test_tls import wait_until  # noqa: E402

DUPLEX = os.environ.get("DUPLEX", "duplex")
TIMEOUT = 60
HANDSHAKE_TIMEOUT = 2


class Server:
    """A duplex server whose first stdout line names its port (a https:// URL for http
    serve, "listening on tcp ADDR:PORT" for echo); stderr goes to a file."""

    def __init__(self, argv, env, tmp, name):
        self.err_path = os.path.join(tmp, name + ".err")
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.err, env=env,
                                     text=True)
        line = self.proc.stdout.readline()
        m = re.search(r":(\d+)/?\s*$", line)
        if not m:
            self.stop()
            raise AssertionError(f"no port in {line!r}: {self.stderr()}")
        self.port = int(m.group(1))
        self.first_line = line

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.err.close()


def pubkey_pin(cert):
    """curl's --pinnedpubkey form: sha256// and the base64 SHA-256 of the SubjectPublicKeyInfo."""
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"], check=True,
                         capture_output=True, timeout=TIMEOUT).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub,
                         check=True, capture_output=True, timeout=TIMEOUT).stdout
    return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()


@requires(shutil.which("curl") and shutil.which("openssl"),
          "curl or openssl is missing: run scripts/setup")
class HttpsServe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="duplex-https-")
        cls.env = dict(os.environ, XDG_DATA_HOME=os.path.join(cls.tmp, "data"))
        cls.www = os.path.join(cls.tmp, "www")
        os.makedirs(cls.www)
        cls.big = os.urandom(1 << 20)
        with open(os.path.join(cls.www, "big.bin"), "wb") as f:
            f.write(cls.big)
        with open(os.path.join(cls.www, "index.html"), "w") as f:
            f.write("<p>hello over TLS</p>\n")
        cls.server = Server([DUPLEX, "http", "serve", cls.www, "--tls", "--port", "0",
                             "--bind", "127.0.0.1", "--handshake-timeout",
                             str(HANDSHAKE_TIMEOUT)], cls.env, cls.tmp, "http")
        cls.cert = os.path.join(cls.tmp, "data", "duplex", "tls", "cert.pem")
        cls.base = f"https://localhost:{cls.server.port}"
        cls.baseline = cls.server.fds()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def curl(self, *args, check=True):
        r = subprocess.run(["curl", "-sS", "--max-time", "30", *args], capture_output=True,
                           timeout=TIMEOUT)
        if check:
            self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        return r

    def test_announces_https_and_the_fingerprint_of_its_certificate(self):
        self.assertIn("https://127.0.0.1:", self.server.first_line)
        out = subprocess.run(["openssl", "x509", "-in", self.cert, "-noout", "-fingerprint",
                              "-sha256"], check=True, capture_output=True, text=True)
        fp = out.stdout.strip().split("=", 1)[1]
        self.assertIn(f"TLS certificate SHA-256 {fp}", self.server.stderr())
        self.assertEqual(os.stat(os.path.join(os.path.dirname(self.cert), "key.pem")).st_mode
                         & 0o777, 0o600)

    def test_get_with_cacert_and_a_1mib_file_byte_for_byte(self):
        r = self.curl("--cacert", self.cert, f"{self.base}/")
        self.assertEqual(r.stdout, b"<p>hello over TLS</p>\n")
        r = self.curl("--cacert", self.cert, f"{self.base}/big.bin")
        self.assertEqual(len(r.stdout), len(self.big))
        self.assertTrue(r.stdout == self.big, "the 1 MiB body differs")

    def test_range_request(self):
        r = self.curl("--cacert", self.cert, "-r", "1000-1999", "-w", "%{http_code}",
                      "-o", os.path.join(self.tmp, "part"), f"{self.base}/big.bin")
        self.assertEqual(r.stdout, b"206")
        with open(os.path.join(self.tmp, "part"), "rb") as f:
            self.assertEqual(f.read(), self.big[1000:2000])

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        urls = [f"{self.base}/", f"{self.base}/big.bin", f"{self.base}/index.html"]
        args = ["--cacert", self.cert, "-w", "%{num_connects} %{http_version} %{http_code}\\n"]
        for _ in urls:
            args += ["-o", "/dev/null"]
        r = self.curl(*args, *urls)
        lines = r.stdout.decode().split()
        # Three transfers: one new connection, then two reuses; HTTP/1.1 (ALPN) every time.
        self.assertEqual(lines, ["1", "1.1", "200", "0", "1.1", "200", "0", "1.1", "200"])

    def test_pinned_public_key_is_accepted_and_a_wrong_one_refused(self):
        pin = pubkey_pin(self.cert)
        # -k: the chain is self-signed; the pin is what curl checks then.
        r = self.curl("-k", "--pinnedpubkey", pin, f"{self.base}/big.bin")
        self.assertTrue(r.stdout == self.big)
        wrong = "sha256//" + base64.b64encode(b"\0" * 32).decode()
        r = self.curl("-k", "--pinnedpubkey", wrong, f"{self.base}/", check=False)
        self.assertEqual(r.returncode, 90, r.stderr)  # CURLE_SSL_PINNEDPUBKEYNOTMATCH

    def test_plain_http_is_refused_once_and_the_server_goes_on(self):
        before = self.server.stderr().count("plain HTTP")
        r = self.curl("-w", "%{http_code}", f"http://127.0.0.1:{self.server.port}/",
                      check=False)
        # A 400 that says what to do (as nginx answers), then the connection is closed.
        self.assertEqual(r.stdout, b"This port speaks TLS: use https://\n400", r.stderr)
        self.assertNotIn(b"hello over TLS", r.stdout)
        wait_until(lambda: self.server.stderr().count("plain HTTP") == before + 1,
                   "one log line for the plain HTTP client", detail=self.server.stderr)
        self.assertEqual(self.server.proc.poll(), None)
        r = self.curl("--cacert", self.cert, f"{self.base}/")
        self.assertEqual(r.stdout, b"<p>hello over TLS</p>\n")
        self.assertEqual(self.server.stderr().count("plain HTTP"), before + 1)

    def test_stalled_handshake_is_cut_off_while_others_are_served(self):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=TIMEOUT)
        try:
            start = time.monotonic()
            r = self.curl("--cacert", self.cert, f"{self.base}/big.bin")
            self.assertTrue(r.stdout == self.big)
            self.assertLess(time.monotonic() - start, HANDSHAKE_TIMEOUT,
                            "the other client was not served during the stall")
            try:
                got = s.recv(100)
            except ConnectionResetError:
                got = b""
            waited = time.monotonic() - start
            self.assertEqual(got, b"")
            self.assertGreaterEqual(waited, HANDSHAKE_TIMEOUT - 0.2)
            self.assertLess(waited, HANDSHAKE_TIMEOUT + 10)
        finally:
            s.close()
        wait_until(lambda: "TLS handshake not completed within 2 s" in self.server.stderr(),
                   "the timeout logged", detail=self.server.stderr)

    def test_z_fd_count_returns_to_its_baseline(self):
        # Runs last (z): after the clients above, bad ones included.
        for _ in range(3):
            self.curl("--cacert", self.cert, f"{self.base}/")
            self.curl(f"http://127.0.0.1:{self.server.port}/", check=False)
        wait_until(lambda: self.server.fds() == self.baseline, "the baseline fd count",
                   detail=lambda: f"{self.server.fds()} fds, baseline {self.baseline}")


@requires(shutil.which("openssl"), "openssl is missing: run scripts/setup")
class EchoTls(unittest.TestCase):
    def test_openssl_s_client_verifies_and_gets_its_bytes_back(self):
        tmp = tempfile.mkdtemp(prefix="duplex-echo-tls-")
        env = dict(os.environ, XDG_DATA_HOME=os.path.join(tmp, "data"))
        server = Server([DUPLEX, "echo", "--tcp", "0", "--bind", "127.0.0.1", "--tls"], env, tmp,
                        "echo")
        try:
            cert = os.path.join(tmp, "data", "duplex", "tls", "cert.pem")
            payload = os.urandom(256 * 1024).hex().encode() + b"\n"
            client = subprocess.Popen(
                ["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-CAfile", cert,
                 "-verify_return_error", "-verify_ip", "127.0.0.1", "-quiet", "-no_ign_eof"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            writer = threading.Thread(target=lambda: (client.stdin.write(payload),
                                                      client.stdin.flush()), daemon=True)
            writer.start()
            got = b""
            try:
                deadline = time.monotonic() + TIMEOUT
                while len(got) < len(payload) and time.monotonic() < deadline:
                    chunk = client.stdout.read1(1 << 16)
                    if not chunk:
                        break
                    got += chunk
                writer.join(TIMEOUT)
                client.stdin.close()  # s_client then sends close_notify and exits
                client.wait(timeout=TIMEOUT)
            finally:
                if client.poll() is None:
                    client.kill()
                    client.wait()
            err = client.stderr.read()
            client.stdout.close()
            client.stderr.close()
            self.assertTrue(got == payload, f"{len(got)} of {len(payload)} bytes back: {err}")
            self.assertEqual(client.returncode, 0, err)
            self.assertIn(b"verify return:1", err)
            server.stop()
            self.assertEqual(server.proc.returncode, 0, server.stderr())
            self.assertIn("echo: stopped; 1 TCP connection", server.stderr())
        finally:
            server.stop()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
