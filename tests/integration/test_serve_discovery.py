#!/usr/bin/env python3
"""`duplex serve`'s UDP discovery responder: a probe datagram on loopback (unicast, or the
127.255.255.255 broadcast address) gets the JSON answer of chat_protocol.h by unicast."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import DUPLEX, TIMEOUT, Serve  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from prerequisites import requires  # noqa: E402

PROBE = b"DUPLEX-DISCOVER 1\n".ljust(256, b" ")  # padded: the answer is never larger


class ServeDiscovery(unittest.TestCase):
    def setUp(self):
        self.serve = Serve()  # --discovery-port 0: any free port, named in the summary
        self.port = self.serve.discovery_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(20)
        self.sock.bind(("127.0.0.1", 0))

    def tearDown(self):
        self.sock.close()
        self.serve.close()

    def answer(self):
        data, peer = self.sock.recvfrom(2048)
        return json.loads(data), peer

    def test_no_discovery_turns_it_off(self):
        serve = Serve("--no-discovery")
        try:
            self.assertEqual(serve.summary["discovery"], "off")
        finally:
            serve.close()

    def test_a_unicast_probe_gets_the_json_answer(self):
        self.sock.sendto(PROBE, ("127.0.0.1", self.port))
        answer, peer = self.answer()
        self.assertEqual(peer[1], self.port)
        self.assertEqual(answer["service"], "duplex")
        self.assertEqual(answer["chat_port"], self.serve.chat_port)
        self.assertEqual(answer["http_port"], self.serve.http_port)
        self.assertFalse(answer["token_required"])
        self.assertEqual(answer["host"], socket.gethostname())

    def test_a_broadcast_probe_on_loopback_gets_the_answer(self):
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        self.sock.sendto(PROBE, ("127.255.255.255", self.port))
        answer, _ = self.answer()
        self.assertEqual(answer["chat_port"], self.serve.chat_port)

    def test_the_answer_is_no_larger_than_the_probe(self):
        self.sock.sendto(PROBE, ("127.0.0.1", self.port))
        data, _ = self.sock.recvfrom(2048)
        self.assertLessEqual(len(data), len(PROBE))

    def test_other_datagrams_are_not_answered(self):
        # The bare line would be answered with several times its size (amplification).
        self.sock.sendto(b"hello?\n", ("127.0.0.1", self.port))
        self.sock.sendto(b"DUPLEX-DISCOVER 1\n", ("127.0.0.1", self.port))
        self.sock.sendto(PROBE + b" ", ("127.0.0.1", self.port))
        self.sock.sendto(PROBE, ("127.0.0.1", self.port))
        answer, _ = self.answer()  # the first datagram back answers the probe
        self.assertEqual(answer["service"], "duplex")
        self.sock.setblocking(False)
        with self.assertRaises(BlockingIOError):
            self.sock.recvfrom(2048)  # and nothing else came (the answer came after the junk)


@requires(shutil.which("openssl"), "needs openssl")
class ServeDiscoveryWithTls(unittest.TestCase):
    """A serve with TLS says so in its answer, with its certificate's SHA-256, and
    `duplex chat --discover --connect` joins it over TLS, trusting that certificate only
    as far as it should."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="duplex-discovery-tls-")
        cert, key = os.path.join(cls.dir, "cert.pem"), os.path.join(cls.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                        "/CN=duplex-test", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True,
                       timeout=TIMEOUT)
        out = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-fingerprint",
                              "-sha256"], check=True, capture_output=True, text=True).stdout
        cls.fingerprint = out.strip().split("=", 1)[1]
        cls.serve = Serve("--tls", "--cert", cert, "--key", key)

    @classmethod
    def tearDownClass(cls):
        cls.serve.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def discover(self, *args, stdin=""):
        return subprocess.run([DUPLEX, "chat", "--discover", "--broadcast", "127.0.0.1",
                               "--discovery-port", str(self.serve.discovery_port), *args],
                              input=stdin, capture_output=True, text=True, timeout=TIMEOUT,
                              env={**os.environ, "NO_COLOR": "1"})

    def test_the_answer_names_tls_and_the_certificate_and_stays_small(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(20)
            s.sendto(PROBE, ("127.0.0.1", self.serve.discovery_port))
            data, _ = s.recvfrom(2048)
        self.assertLessEqual(len(data), len(PROBE))
        answer = json.loads(data)
        self.assertIs(answer["tls"], True)
        self.assertEqual(answer["sha256"], self.fingerprint.replace(":", ""))

    def test_discover_prints_https_and_the_fingerprint(self):
        r = self.discover("--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        found = json.loads(r.stdout.splitlines()[0])
        self.assertIs(found["tls"], True)
        self.assertEqual(found["sha256"], self.fingerprint)
        self.assertTrue(found["dashboard"].startswith("https://127.0.0.1:"), found)
        r = self.discover()
        self.assertRegex(r.stdout, r"https://127\.0\.0\.1:\d+/  tls SHA-256 " +
                         re.escape(self.fingerprint))

    def test_connect_joins_over_tls_trusting_the_named_certificate_and_says_so(self):
        r = self.discover("--connect", "--name", "disco", stdin="found you\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^\[\d\d:\d\d:\d\d\] disco: found you$")
        self.assertIn("trusting the certificate", r.stderr)
        self.assertIn(self.fingerprint, r.stderr)

    def test_connect_with_the_right_pin_sends_the_token_and_a_wrong_pin_is_refused(self):
        r = self.discover("--connect", "--pin", self.fingerprint, "--token", "unused",
                          "--name", "pinned", stdin="pinned hello\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)\] pinned: pinned hello$")
        self.assertNotIn("trusting the certificate", r.stderr)
        wrong = ("00" if not self.fingerprint.startswith("00") else "11") + self.fingerprint[2:]
        r = self.discover("--connect", "--pin", wrong, stdin="must not be said\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--pin", r.stderr)
        self.assertNotIn("must not be said", r.stdout)

    def test_a_token_is_not_sent_on_the_word_of_the_answer_alone(self):
        r = self.discover("--connect", "--token", "s3cret", stdin="hi\n")
        self.assertEqual(r.returncode, 1)
        lines = r.stderr.strip().splitlines()
        self.assertRegex(lines[-1], r"^duplex chat: not sending the token to 127\.0\.0\.1:\d+ "
                                    r".*give --pin .*" + re.escape(self.fingerprint))

    def test_trust_flags_without_connect_are_usage_errors(self):
        r = self.discover("--pin", self.fingerprint)
        self.assertEqual(r.returncode, 2)
        self.assertIn("goes with --connect", r.stderr)


if __name__ == "__main__":
    unittest.main()
