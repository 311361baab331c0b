#!/usr/bin/env python3
"""Certificates on `duplex connect --tls` and `duplex listen --tls`, with a test CA made by
the openssl CLI: client certificates both ways (duplex connect --cert/--key to openssl
s_server -Verify; openssl s_client -cert/-key, without one, and with one from another CA to
duplex listen --client-ca, which refuses with one line naming which and goes on with -k;
duplex to duplex), -v naming the protocol, cipher, the peer certificate's subject and
SHA-256; and the certificate errors of connect, each one line naming which: expired (with
its notAfter), for another host (with its names). Loopback only; every wait is for a
condition, with a timeout.

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
from test_tls import DUPLEX, TIMEOUT, free_port, listening, wait_until  # noqa: E402
from test_tls_listen import TlsListener, handshake_line, s_client  # noqa: E402

EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]


def openssl(*argv, cwd):
    subprocess.run(["openssl", *argv], check=True, capture_output=True, timeout=TIMEOUT,
                   cwd=cwd)


@requires(shutil.which("openssl"), "openssl is missing: run scripts/setup")
class TlsCertificates(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="duplex-tls-certs-")
        cls.env = dict(os.environ, XDG_DATA_HOME=os.path.join(cls.tmp, "data"))
        for ca in ("ca", "other-ca"):
            openssl("req", "-x509", *EC, "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days",
                    "2", "-subj", f"/CN=duplex test {ca}", cwd=cls.tmp)
        # name: (CN, subjectAltName, issuer, days); -days -1 ends before it begins: expired.
        for name, (cn, san, ca, days) in {
                "server": ("localhost", "DNS:localhost,IP:127.0.0.1", "ca", "2"),
                "expired": ("localhost", "DNS:localhost,IP:127.0.0.1", "ca", "-1"),
                "otherhost": ("otherhost", "DNS:otherhost", "ca", "2"),
                "alice": ("alice", "DNS:alice", "ca", "2"),
                "mallory": ("mallory", "DNS:mallory", "other-ca", "2")}.items():
            openssl("req", *EC, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj",
                    f"/CN={cn}", cwd=cls.tmp)
            with open(os.path.join(cls.tmp, f"{name}.ext"), "w") as f:
                f.write(f"subjectAltName={san}\n")
            openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey",
                    f"{ca}.key", "-days", days, "-extfile", f"{name}.ext", "-out",
                    f"{name}.pem", cwd=cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def f(self, name):
        return os.path.join(self.tmp, name)

    def identity(self, name):
        return ["--cert", self.f(f"{name}.pem"), "--key", self.f(f"{name}.key")]

    def x509(self, name, *what):
        out = subprocess.run(["openssl", "x509", "-in", self.f(f"{name}.pem"), "-noout", *what],
                             check=True, capture_output=True, text=True, timeout=TIMEOUT)
        return out.stdout.strip().split("=", 1)[1]

    def connect(self, port, *flags, host="127.0.0.1", data=""):
        return subprocess.run([DUPLEX, "connect", "--tls", *flags, host, str(port)], input=data,
                              capture_output=True, text=True, timeout=TIMEOUT, env=self.env)

    def one_line(self, r):
        self.assertEqual(r.returncode, 1, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        return lines[0]

    def client_ca_listener(self):
        return TlsListener(self, "-k", "-v", *self.identity("server"), "--client-ca",
                           self.f("ca.pem"))

    # Client certificates: duplex presents one.

    def s_server_verify(self):
        """`openssl s_server -Verify` for one client, requiring a certificate of our CA;
        its port and process, stdout and stderr together."""
        port = free_port()
        server = subprocess.Popen(
            ["openssl", "s_server", "-naccept", "1", "-accept", f"127.0.0.1:{port}", "-Verify",
             "1", "-verify_return_error", "-CAfile", self.f("ca.pem"), "-cert",
             self.f("server.pem"), "-key", self.f("server.key")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: (server.kill(), server.wait(), server.stdin.close(),
                                 server.stdout.close()))
        wait_until(lambda: listening(port) or server.poll() is not None, "s_server")
        return port, server

    def test_connect_presents_its_certificate_to_s_server_verify(self):
        port, server = self.s_server_verify()
        r = self.connect(port, "-v", "--ca", self.f("ca.pem"), *self.identity("alice"),
                         data="hello from alice\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = server.stdout.read().decode(errors="replace")  # -naccept 1: it ends
        self.assertIn("CN = alice", out)          # s_server's verify callback saw alice
        self.assertIn("hello from alice", out)
        self.assertRegex(r.stderr, r"TLS TLSv1\.3 TLS_\w+, peer /CN=localhost SHA-256 " +
                         re.escape(self.x509("server", "-fingerprint", "-sha256")))

    def test_connect_without_certificate_to_s_server_verify_names_it(self):
        port, _ = self.s_server_verify()
        line = self.one_line(self.connect(port, "--ca", self.f("ca.pem")))
        self.assertIn("requires a client certificate; give --cert FILE --key FILE", line)

    # Client certificates: duplex listen --client-ca requires and checks one.

    def test_listen_client_ca_takes_s_client_with_certificate_refuses_others(self):
        server = self.client_ca_listener()
        alice_sha = self.x509("alice", "-fingerprint", "-sha256")
        base = ["-CAfile", self.f("ca.pem"), "-verify_return_error"]
        for flags, expect in [
                (self.identity("alice"), f"peer /CN=alice SHA-256 {alice_sha}"),
                ([], "the client sent no certificate; --client-ca requires one"),
                (self.identity("mallory"), "client certificate /CN=mallory not trusted"),
                (self.identity("alice"), f"peer /CN=alice SHA-256 {alice_sha}")]:
            before = server.stderr().count(expect)
            proc = s_client(server.port, *base, *flags, stdin=subprocess.DEVNULL)
            try:
                handshake_line(proc)  # TLS 1.3: the client's view ends before the check
                wait_until(lambda: server.stderr().count(expect) == before + 1,
                           f"the listener's line {expect!r}", detail=server.stderr)
            finally:
                proc.kill()
                proc.wait()
                proc.stdout.close()
        err = server.stderr()
        self.assertIsNone(server.proc.poll(), err)  # -k: still serving
        self.assertRegex(err, r"TLS TLSv1\.3 TLS_\w+, peer /CN=alice SHA-256 ")
        refusal = [l for l in err.splitlines() if "mallory" in l]
        self.assertEqual(len(refusal), 1, err)
        self.assertIn("no CA in --client-ca issued it", refusal[0])

    def test_duplex_to_duplex_with_client_certificate(self):
        server = self.client_ca_listener()
        r = self.connect(server.port, "-v", "--ca", self.f("ca.pem"), *self.identity("alice"),
                         data="hi\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_until(lambda: "peer /CN=alice SHA-256" in server.stderr(), "alice in -v",
                   detail=server.stderr)
        line = self.one_line(self.connect(server.port, "--ca", self.f("ca.pem"),
                                          *self.identity("mallory")))
        self.assertIn("the server refused our client certificate", line)
        wait_until(lambda: "/CN=mallory not trusted" in server.stderr(), "mallory refused",
                   detail=server.stderr)

    def test_client_ca_without_tls_or_on_connect_is_a_usage_error(self):
        for argv, expect in [(["listen", "--client-ca", self.f("ca.pem"), "0"], "add --tls"),
                             (["connect", "--tls", "--client-ca", self.f("ca.pem"),
                               "127.0.0.1", "1"], "is for duplex listen")]:
            r = subprocess.run([DUPLEX, *argv], capture_output=True, text=True,
                               timeout=TIMEOUT)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(expect, r.stderr)

    # Certificate errors on connect: one line naming which.

    def test_expired_certificate_is_refused_with_its_date(self):
        server = TlsListener(self, "-k", *self.identity("expired"))
        line = self.one_line(self.connect(server.port, "--ca", self.f("ca.pem")))
        not_after = self.x509("expired", "-enddate")
        self.assertIn(f"certificate has expired (notAfter {not_after})", line)

    def test_wrong_host_certificate_is_refused_with_its_names(self):
        server = TlsListener(self, "-k", *self.identity("otherhost"))
        line = self.one_line(self.connect(server.port, "--ca", self.f("ca.pem")))
        self.assertIn("certificate is for otherhost, not 127.0.0.1", line)
        line = self.one_line(self.connect(server.port, "--ca", self.f("ca.pem"),
                                          host="localhost"))
        self.assertIn("certificate is for otherhost, not localhost", line)

    def test_certificate_of_another_ca_is_not_trusted(self):
        server = TlsListener(self, "-k", *self.identity("server"))
        line = self.one_line(self.connect(server.port, "--ca", self.f("other-ca.pem")))
        self.assertIn("certificate not trusted", line)
        self.assertIn("--ca FILE or --pin SHA256", line)


if __name__ == "__main__":
    unittest.main(verbosity=2)
