#!/usr/bin/env python3
"""`duplex listen --tls` as a server beyond one client: session resumption (openssl s_client
-sess_out, then -sess_in, must say "Reused", with TLS 1.3 tickets and with TLS 1.2) against
`listen --tls -k` and `http serve --tls`; -k serving TLS clients one after another; --exec
echoing over TLS to ncat --ssl and openssl s_client; --broker relaying between two TLS
clients. Loopback only; every wait is for a condition, with a timeout.

The binary comes from $DUPLEX (ctest sets it)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from prerequisites import requires  # noqa: E402
from test_https import Server  # noqa: E402
from test_tls import DUPLEX, TIMEOUT, free_port, listening, wait_until  # noqa: E402


def s_client(port, *flags, stdin=subprocess.PIPE):
    return subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *flags],
                            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def handshake_line(proc):
    """s_client's "New, TLSv1.3, Cipher is ..." or "Reused, ..." line (it ends the wait)."""
    for raw in proc.stdout:
        line = raw.decode(errors="replace").strip()
        if re.match(r"^(New|Reused),", line):
            return line
    return ""


class TlsListener:
    """`duplex listen --tls ...` on a free loopback port, its stderr in a file."""

    def __init__(self, test, *flags, env=None, stdin=subprocess.DEVNULL):
        self.port = free_port()
        self.err_path = os.path.join(test.tmp, f"{test.id().split('.')[-1]}.err")
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([DUPLEX, "listen", "--tls", *flags, "127.0.0.1",
                                      str(self.port)], stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=self.err, env=env or test.env)
        test.addCleanup(self.stop)
        wait_until(lambda: listening(self.port) or self.proc.poll() is not None,
                   "the listener", detail=self.stderr)
        test.assertIsNone(self.proc.poll(), self.stderr())

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.err.close()


@requires(shutil.which("openssl"), "openssl is missing: run scripts/setup")
class Resumption(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="duplex-tls-resume-")
        cls.env = dict(os.environ, XDG_DATA_HOME=os.path.join(cls.tmp, "data"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def resumes(self, port, version):
        """A first s_client keeps its session (a TLS 1.3 ticket arrives after the
        handshake: the file appears then); a second one offers it."""
        sess = os.path.join(self.tmp, f"{self.id().split('.')[-1]}{version}.sess")
        first = s_client(port, version, "-sess_out", sess)
        try:
            self.assertRegex(handshake_line(first), r"^New,")
            wait_until(lambda: os.path.exists(sess) and os.path.getsize(sess) > 0,
                       f"the session in {sess}")
        finally:
            first.kill()
            first.wait()
            first.stdin.close()
            first.stdout.close()
        second = s_client(port, version, "-sess_in", sess, stdin=subprocess.DEVNULL)
        try:
            line = handshake_line(second)
        finally:
            second.kill()
            second.wait()
            second.stdout.close()
        self.assertRegex(line, r"^Reused, TLSv1\.[23],", f"{version}: not resumed")
        return line

    def test_listen_k_resumes_tls13_and_tls12(self):
        server = TlsListener(self, "-k", "-v")
        self.assertIn("TLSv1.3", self.resumes(server.port, "-tls1_3"))
        self.assertIn("TLSv1.2", self.resumes(server.port, "-tls1_2"))
        self.assertIsNone(server.proc.poll(), server.stderr())
        wait_until(lambda: server.stderr().count(" resumed,") == 2, "two resumed sessions in -v",
                   detail=server.stderr)

    def test_http_serve_resumes_tls13_and_tls12(self):
        www = os.path.join(self.tmp, "www")
        os.makedirs(www, exist_ok=True)
        server = Server([DUPLEX, "http", "serve", www, "--tls", "--port", "0", "--bind",
                         "127.0.0.1"], self.env, self.tmp, "http")
        self.addCleanup(server.stop)
        self.assertIn("TLSv1.3", self.resumes(server.port, "-tls1_3"))
        self.assertIn("TLSv1.2", self.resumes(server.port, "-tls1_2"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
