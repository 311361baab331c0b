#!/usr/bin/env python3
"""`duplex listen --tls` as a server beyond one client: session resumption (openssl s_client
-sess_out, then -sess_in, must say "Reused", with TLS 1.3 tickets and with TLS 1.2) against
`listen --tls -k` and `http serve --tls`; -k serving socat OPENSSL clients one after another;
--exec cat echoing over TLS to ncat --ssl and openssl s_client at once (a plain-text client
starts no program; without -k the listener ends with its client); --broker relaying between
ncat --ssl and s_client, a plain-text client refused while they go on. Loopback only; every
wait is for a condition, with a timeout.

The binary comes from $DUPLEX (ctest sets it)."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from prerequisites import requires  # noqa: E402
from test_https import Server  # noqa: E402
from test_tls import DUPLEX, TIMEOUT, free_port, listening, wait_until  # noqa: E402


def s_client(port, *flags, stdin=subprocess.PIPE):
    return subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *flags],
                            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def handshake_line(proc, said=None):
    """s_client's "New, TLSv1.3, Cipher is ..." or "Reused, ..." line (it ends the wait);
    "" if s_client ends first. Every line read before it goes to `said`, for the message."""
    for raw in proc.stdout:
        line = raw.decode(errors="replace").strip()
        if re.match(r"^(New|Reused),", line):
            return line
        if said is not None:
            said.append(line)
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

    def refuses_plain_text(self):
        """A client that writes plain text is closed, and the listener says why."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"plain text\n")
            s.settimeout(10)
            while s.recv(4096):
                pass
        wait_until(lambda: "does not speak TLS" in self.stderr(), "the refusal",
                   detail=self.stderr)

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
        handshake: the file appears then); a second one offers it.

        The first one is ended by the end of its input, not killed: the server sends two
        tickets and s_client rewrites the file for each, so a kill could land between the
        truncation and the write and leave the second client an empty file."""
        sess = os.path.join(self.tmp, f"{self.id().split('.')[-1]}{version}.sess")
        first = s_client(port, version, "-sess_out", sess)
        try:
            self.assertRegex(handshake_line(first), r"^New,")
            wait_until(lambda: os.path.exists(sess) and os.path.getsize(sess) > 0,
                       f"the session in {sess}")
            first.stdin.close()
            self.assertEqual(first.wait(TIMEOUT), 0, "s_client at the end of its input")
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
            first.stdin.close()
            first.stdout.close()
        second = s_client(port, version, "-sess_in", sess, stdin=subprocess.DEVNULL)
        said = []
        try:
            line = handshake_line(second, said)
        finally:
            second.kill()
            second.wait()
            second.stdout.close()
        self.assertRegex(line, r"^Reused, TLSv1\.[23],",
                         f"{version}: not resumed; s_client said:\n" + "\n".join(said[-20:]))
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


class Peer:
    """A TLS client process whose stdout a thread collects; stdin is a pipe the test writes."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.out = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while chunk := self.proc.stdout.read1(4096):
            self.out += chunk

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.reader.join(TIMEOUT)
        self.proc.stdin.close()
        self.proc.stdout.close()


@requires(shutil.which("openssl") and shutil.which("ncat") and shutil.which("socat"),
          "openssl, ncat or socat is missing: run scripts/setup")
class ListenModes(unittest.TestCase):
    """-k, --exec and --broker over TLS, against ncat --ssl, openssl s_client and socat."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="duplex-tls-modes-")
        cls.env = dict(os.environ, XDG_DATA_HOME=os.path.join(cls.tmp, "data"))
        cls.cert = os.path.join(cls.tmp, "data", "duplex", "tls", "cert.pem")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def peer(self, port, kind):
        argv = {"ncat": ["ncat", "--ssl", "127.0.0.1", str(port)],
                "s_client": ["openssl", "s_client", "-quiet", "-connect", f"127.0.0.1:{port}",
                             "-verify_return_error", "-CAfile", self.cert]}[kind]
        p = Peer(argv)
        self.addCleanup(p.stop)
        return p

    def test_keep_open_serves_tls_clients_one_after_another(self):
        server = TlsListener(self, "-k", "-v")
        for i in range(3):
            # socat: its stdin's EOF sends close_notify after the line, and it waits for ours.
            r = subprocess.run(["socat", "-t", "10", "-", f"OPENSSL:127.0.0.1:{server.port},"
                                f"cafile={self.cert},commonname=localhost"],
                               input=f"client {i}\n".encode(), capture_output=True,
                               timeout=TIMEOUT)
            self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
            wait_until(lambda: server.stderr().count("closed 127.0.0.1") == i + 1,
                       f"session {i} closed", detail=server.stderr)
        server.proc.kill()
        out = server.proc.stdout.read().decode(errors="replace")
        self.assertEqual(out, "client 0\nclient 1\nclient 2\n", server.stderr())
        self.assertEqual(server.stderr().count("TLS TLSv1.3"), 3, server.stderr())

    def test_exec_cat_echoes_over_tls_to_ncat_and_s_client_at_once(self):
        server = TlsListener(self, "-k", "-v", "--exec", "cat")
        peers = {kind: self.peer(server.port, kind) for kind in ("ncat", "s_client")}
        for kind, p in peers.items():
            p.send(f"hello {kind}\n".encode())
        for kind, p in peers.items():
            wait_until(lambda: p.out == f"hello {kind}\n".encode(), f"{kind}'s echo",
                       detail=lambda: f"{p.out!r}; {server.stderr()}")
        self.assertEqual(server.stderr().count("started 'cat'"), 2, server.stderr())
        # A client that does not speak TLS is refused before any program runs.
        server.refuses_plain_text()
        self.assertEqual(server.stderr().count("started 'cat'"), 2, server.stderr())
        peers["ncat"].proc.stdin.close()  # close_notify: cat's stdin ends, and the session
        wait_until(lambda: re.search(r"pid \d+ exited with status 0", server.stderr()),
                   "a cat to exit", detail=server.stderr)

    def test_exec_without_keep_open_ends_after_its_client(self):
        server = TlsListener(self, "--exec", "cat")
        p = self.peer(server.port, "ncat")
        p.send(b"once\n")
        wait_until(lambda: p.out == b"once\n", "the echo", detail=lambda: repr(p.out))
        p.proc.stdin.close()
        self.assertEqual(server.proc.wait(TIMEOUT), 0, server.stderr())

    def test_broker_relays_between_two_tls_clients(self):
        server = TlsListener(self, "--broker", "-v")
        a = self.peer(server.port, "ncat")
        wait_until(lambda: server.stderr().count("accepted") == 1, "a", detail=server.stderr)
        b = self.peer(server.port, "s_client")
        wait_until(lambda: server.stderr().count("accepted") == 2, "b", detail=server.stderr)
        # -v names each client's session once its handshake is done.
        wait_until(lambda: server.stderr().count("no peer certificate") == 2,
                   "both handshakes in -v", detail=server.stderr)
        self.assertRegex(server.stderr(), r"TLS TLSv1\.3 TLS_\w+, no peer certificate")
        a.send(b"from a\n")
        wait_until(lambda: b.out == b"from a\n", "a's line at b", detail=lambda: repr(b.out))
        b.send(b"from b\n")
        wait_until(lambda: a.out == b"from b\n", "b's line at a", detail=lambda: repr(a.out))
        # Plain text is refused with one line; the others go on.
        server.refuses_plain_text()
        a.send(b"still here\n")
        wait_until(lambda: b.out == b"from a\nstill here\n", "a's second line",
                   detail=lambda: repr(b.out))


if __name__ == "__main__":
    unittest.main(verbosity=2)
