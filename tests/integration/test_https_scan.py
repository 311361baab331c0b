#!/usr/bin/env python3
"""sslscan against `duplex http serve --tls`: its XML report must show SSLv2, SSLv3, TLS 1.0
and TLS 1.1 disabled, TLS 1.2 and 1.3 enabled, no renegotiation, in TLS 1.2 only ECDHE with
AES-GCM or CHACHA20-POLY1305 (no CBC; a client asking for CBC alone is refused), no weak
cipher (none below 128 bits, none that sslscan rates weak/medium/null/anonymous, no RC4,
DES, 3DES, NULL, EXPORT, anonymous or MD5 suite), no compression; and openssl s_client over TLS 1.2 reports
"Compression: NONE" (sslscan built without zlib cannot test compression itself). Each check
looks for the element it needs, so a report that changes shape fails instead of passing.
Loopback only.

The binary comes from $DUPLEX (ctest sets it)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from prerequisites import requires  # noqa: E402
from test_https import DUPLEX, TIMEOUT, Server  # noqa: E402

WEAK_NAMES = re.compile(r"RC4|DES|NULL|EXP|ANON|ADH|AECDH|MD5|PSK|SRP", re.I)


@requires(shutil.which("sslscan") and shutil.which("openssl"),
          "sslscan or openssl is missing: run scripts/setup")
class HttpsScan(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="duplex-sslscan-")
        env = dict(os.environ, XDG_DATA_HOME=os.path.join(cls.tmp, "data"))
        www = os.path.join(cls.tmp, "www")
        os.makedirs(www)
        with open(os.path.join(www, "index.html"), "w") as f:
            f.write("hello\n")
        cls.server = Server([DUPLEX, "http", "serve", www, "--tls", "--port", "0", "--bind",
                             "127.0.0.1"], env, cls.tmp, "http")
        xml_path = os.path.join(cls.tmp, "scan.xml")
        r = subprocess.run(["sslscan", "--no-colour", f"--xml={xml_path}",
                            f"127.0.0.1:{cls.server.port}"], capture_output=True,
                           timeout=300)
        cls.text = r.stdout.decode(errors="replace")
        if r.returncode != 0:
            raise AssertionError(f"sslscan failed ({r.returncode}): {r.stderr!r} {cls.text}")
        cls.scan = ET.parse(xml_path).getroot().find("ssltest")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def protocol(self, kind, version):
        for p in self.scan.findall("protocol"):
            if p.get("type") == kind and p.get("version") == version:
                return p.get("enabled")
        self.fail(f"no {kind} {version} in sslscan's report:\n{self.text}")

    def test_only_tls12_and_tls13(self):
        for kind, version in [("ssl", "2"), ("ssl", "3"), ("tls", "1.0"), ("tls", "1.1")]:
            self.assertEqual(self.protocol(kind, version), "0", f"{kind} {version} is enabled")
        self.assertEqual(self.protocol("tls", "1.2"), "1")
        self.assertEqual(self.protocol("tls", "1.3"), "1")

    def test_no_renegotiation(self):
        reneg = self.scan.find("renegotiation")
        self.assertIsNotNone(reneg, self.text)
        self.assertEqual(reneg.get("supported"), "0", "renegotiation is supported")

    def test_no_weak_cipher(self):
        ciphers = self.scan.findall("cipher")
        self.assertGreater(len(ciphers), 0, self.text)
        for c in ciphers:
            name = c.get("cipher")
            self.assertIn(c.get("sslversion"), ("TLSv1.2", "TLSv1.3"), name)
            self.assertGreaterEqual(int(c.get("bits")), 128, name)
            self.assertIn(c.get("strength"), ("strong", "acceptable"), name)
            self.assertIsNone(WEAK_NAMES.search(name), name)

    def test_tls12_offers_only_ecdhe_with_aead(self):
        tls12 = [c.get("cipher") for c in self.scan.findall("cipher")
                 if c.get("sslversion") == "TLSv1.2"]
        self.assertGreater(len(tls12), 0, self.text)
        for name in tls12:
            self.assertTrue(name.startswith("ECDHE-"), f"{name}: not ECDHE")
            self.assertRegex(name, r"-GCM-|CHACHA20-POLY1305", f"{name}: not AEAD (CBC?)")
        # And a client that asks for CBC alone is refused.
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.server.port}",
                            "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"], input=b"",
                           capture_output=True, timeout=TIMEOUT)
        self.assertNotEqual(r.returncode, 0, r.stdout.decode(errors="replace"))
        self.assertIn("handshake failure", r.stderr.decode(errors="replace"))

    def test_no_compression(self):
        comp = self.scan.find("compression")
        if comp is not None:  # only when sslscan's OpenSSL has zlib
            self.assertEqual(comp.get("supported"), "0")
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.server.port}",
                            "-tls1_2"], input=b"", capture_output=True, timeout=TIMEOUT)
        out = r.stdout.decode(errors="replace")
        self.assertIn("Protocol  : TLSv1.2", out)
        self.assertIn("Compression: NONE", out)

    def test_no_heartbleed(self):
        beats = self.scan.findall("heartbleed")
        self.assertGreater(len(beats), 0, self.text)
        for h in beats:
            self.assertEqual(h.get("vulnerable"), "0", h.get("sslversion"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
