#!/usr/bin/env python3
"""`duplex serve` over TLS: HTTPS for the dashboard, TLS for the TCP chat, on by default when
bound beyond loopback. Real peers: curl --cacert, openssl s_client, ncat --ssl,
`duplex chat --tls --pin`.
Bound to 0.0.0.0, the tests connect to 127.0.0.1 only; nothing leaves the machine."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import DUPLEX, TIMEOUT, NcLines, Serve  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from prerequisites import requires  # noqa: E402

TOKEN = "t0ken-for-tls"
STAMP = r"^\[\d\d:\d\d:\d\d\] "


def fingerprint_of(line):
    m = re.match(r"SHA-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2}) \(", line)
    assert m, line
    return m.group(1)


def chat(port, *args, stdin=""):
    return subprocess.run([DUPLEX, "chat", *args, f"127.0.0.1:{port}"], input=stdin,
                          capture_output=True, text=True, timeout=TIMEOUT,
                          env={**os.environ, "NO_COLOR": "1"})


def s_client(port, stdin):
    """openssl s_client as a chat client: the lines it printed. -quiet ignores the end of
    its input, so the input ends with /quit (or is refused): the server closes."""
    r = subprocess.run(["openssl", "s_client", "-quiet", "-connect", f"127.0.0.1:{port}"],
                       input=stdin + "/quit\n", capture_output=True, text=True, timeout=TIMEOUT)
    return r.stdout.splitlines()


@requires(shutil.which("openssl") and shutil.which("curl"), "needs openssl and curl")
class ServeTlsWithItsOwnCertificate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="duplex-serve-tls-")
        cls.cert, cls.key = os.path.join(cls.dir, "cert.pem"), os.path.join(cls.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=duplex-test",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", cls.key, "-out", cls.cert],
                       check=True, capture_output=True, timeout=TIMEOUT)
        out = subprocess.run(["openssl", "x509", "-in", cls.cert, "-noout", "-fingerprint",
                              "-sha256"], check=True, capture_output=True, text=True).stdout
        cls.fingerprint = out.strip().split("=", 1)[1]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_on_loopback_tls_serves_https_that_curl_verifies_with_cacert(self):
        serve = Serve("--tls", "--cert", self.cert, "--key", self.key)
        try:
            self.assertTrue(serve.summary["dashboard"].startswith("https://127.0.0.1:"))
            self.assertEqual(fingerprint_of(serve.summary["tls"]), self.fingerprint)
            r = subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert", self.cert,
                                "-o", "/dev/null", "-w", "%{http_code} %{ssl_verify_result}",
                                f"https://127.0.0.1:{serve.http_port}/api/status"],
                               capture_output=True, text=True, timeout=TIMEOUT)
            self.assertEqual(r.stdout, "200 0", r.stderr)
            # Without the CA, curl refuses the certificate: it is checked, not just used.
            r = subprocess.run(["curl", "-sS", "--max-time", "20",
                                f"https://127.0.0.1:{serve.http_port}/api/status"],
                               capture_output=True, text=True, timeout=TIMEOUT)
            self.assertNotEqual(r.returncode, 0)
        finally:
            serve.close()


@requires(shutil.which("openssl") and shutil.which("curl"), "needs openssl and curl")
class ServeBeyondLoopbackIsTlsByDefault(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.home = tempfile.mkdtemp(prefix="duplex-serve-home-")  # its self-signed certificate

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.home, ignore_errors=True)

    def setUp(self):
        os.environ["XDG_DATA_HOME"] = self.home
        self.serve = Serve("--token", TOKEN, bind="0.0.0.0")
        self.fingerprint = fingerprint_of(self.serve.summary["tls"])

    def tearDown(self):
        self.serve.close()

    def stopped_log(self):
        """Stops serve; its stderr."""
        self.serve.proc.send_signal(signal.SIGTERM)
        self.serve.proc.wait(timeout=TIMEOUT)
        return self.serve.proc.stderr.read()

    def test_the_summary_prints_https_urls_the_tls_chat_and_the_fingerprint(self):
        urls = [l.split()[-1] for l in self.serve.lines if l.startswith(("dashboard ", "           h"))]
        self.assertTrue(urls and all(u.startswith("https://") for u in urls), urls)
        self.assertRegex(self.serve.summary["chat"], r"^tls 0\.0\.0\.0:\d+ \(duplex chat --tls ")
        self.assertIn("self-signed", self.serve.summary["tls"])

    def test_the_certificate_curl_pins_is_the_one_printed(self):
        # curl --pinnedpubkey takes the key's hash; the certificate's fingerprint is checked
        # through openssl s_client's view of it instead.
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.serve.http_port}"],
                           input="", capture_output=True, text=True, timeout=TIMEOUT)
        pem = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", r.stdout,
                        re.S).group(0)
        out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], input=pem,
                             capture_output=True, text=True, check=True).stdout
        self.assertEqual(out.strip().split("=", 1)[1], self.fingerprint)
        r = subprocess.run(["curl", "-sS", "-k", "--max-time", "20", "-H",
                            "Authorization: Bearer " + TOKEN, "-o", "/dev/null", "-w",
                            "%{http_code}", f"https://127.0.0.1:{self.serve.http_port}/api/status"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(r.stdout, "200", r.stderr)
        # The page's cookie is Secure over HTTPS: a browser never sends it back in clear.
        r = subprocess.run(["curl", "-sS", "-k", "-i", "--max-time", "20",
                            f"https://127.0.0.1:{self.serve.http_port}/?token={TOKEN}"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertRegex(r.stdout, r"(?im)^Set-Cookie: duplex_token=.*; Secure\s*$")

    def test_openssl_s_client_chats_after_auth_and_a_wrong_token_is_refused_over_tls(self):
        lines = s_client(self.serve.chat_port, f"/auth {TOKEN}\nhello over tls\n")
        self.assertIn("* authenticated", lines)
        self.assertTrue(any(re.match(STAMP + r"guest-\d+: hello over tls$", l) for l in lines), lines)
        lines = s_client(self.serve.chat_port, "/auth wrong\nintruder\n")
        self.assertEqual(lines[-1], "! wrong token; disconnected", lines)
        self.assertFalse(any("hello over tls" in l for l in lines), lines)

    @requires(shutil.which("ncat"), "needs ncat (nmap's netcat)")
    def test_ncat_ssl_chats_both_ways_after_auth(self):
        # The summary names ncat --ssl for the TLS chat port: it works as said.
        ncat = NcLines(self.serve.chat_port, ("ncat", "--ssl"))
        try:
            ncat.send(f"/auth {TOKEN}")
            ncat.expect(r"^\* authenticated$")
            ncat.send("/nick nelly")
            ncat.expect(r"is now nelly$")
            ncat.send("hello from ncat")
            ncat.expect(STAMP + r"nelly: hello from ncat$")
            r = chat(self.serve.chat_port, "--tls", "--pin", self.fingerprint, "--token", TOKEN,
                     "--name", "tom", stdin="hello to ncat\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"(?m)" + STAMP + r"nelly: hello from ncat$")
            ncat.expect(STAMP + r"tom: hello to ncat$")
        finally:
            ncat.close()

    def test_duplex_chat_tls_with_the_printed_pin_chats_and_with_another_pin_is_refused(self):
        r = chat(self.serve.chat_port, "--tls", "--pin", self.fingerprint, "--token", TOKEN,
                 "--name", "tina", stdin="pinned hello\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)" + STAMP + r"tina: pinned hello$")
        wrong = ("00" if not self.fingerprint.startswith("00") else "11") + self.fingerprint[2:]
        r = chat(self.serve.chat_port, "--tls", "--pin", wrong, "--token", TOKEN,
                 stdin="must not be said\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--pin", r.stderr)
        self.assertEqual(r.stdout, "")
        # Clear text to the TLS port: refused, and the client says why it may be.
        r = chat(self.serve.chat_port, "--token", TOKEN, stdin="in clear\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("add --tls", r.stderr)
        lines = s_client(self.serve.chat_port, f"/auth {TOKEN}\n")
        self.assertTrue(any(l.endswith("tina: pinned hello") for l in lines), lines)
        self.assertFalse(any("must not be said" in l or "in clear" in l for l in lines), lines)
        self.assertRegex(self.stopped_log(), r"warn chat: 127\.0\.0\.1:\d+ TLS handshake failed: ")

    def test_plain_http_to_the_tls_dashboard_gets_no_page(self):
        r = subprocess.run(["curl", "-sS", "--max-time", "20", "-o", "/dev/null", "-w",
                            "%{http_code}", f"http://127.0.0.1:{self.serve.http_port}/api/status"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertNotEqual(r.stdout, "200")
        self.assertRegex(self.stopped_log(), r"warn http: 127\.0\.0\.1:\d+ TLS handshake failed: ")


class ServeNoTls(unittest.TestCase):
    def test_no_tls_beyond_loopback_says_the_token_crosses_in_clear(self):
        serve = Serve("--no-tls", bind="0.0.0.0")
        try:
            self.assertTrue(serve.summary["dashboard"].startswith("http://"))
            self.assertIn("clear text", serve.summary["tls"])
        finally:
            serve.close()

    def test_tls_and_no_tls_together_or_a_cert_without_tls_are_usage_errors(self):
        for args in (["--tls", "--no-tls"], ["--cert", "x.pem", "--key", "x.key"],
                     ["--tls", "--cert", "x.pem"]):
            r = subprocess.run([DUPLEX, "serve", *args, "--port", "0", "--chat-port", "0",
                                "--no-discovery", "--db", "/nonexistent/x.db"],
                               capture_output=True, text=True, timeout=TIMEOUT)
            self.assertEqual(r.returncode, 2, (args, r.stderr))


if __name__ == "__main__":
    unittest.main()
