#!/usr/bin/env python3
"""`duplex serve`'s JSON API (docs/api.md) with curl against a real server on loopback:
every route, bad input (400 with the CLI's one-line message), and the 401/403 of neighbour
edits without the token or without CAP_NET_ADMIN. Every wait is bounded.

The binary comes from $DUPLEX (ctest sets it)."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from prerequisites import skip_or_fail  # noqa: E402

DUPLEX = os.environ.get("DUPLEX", "duplex")
TIMEOUT = 30
TOKEN = "api-test-token-0123456789"


class Serve:
    """A running `duplex serve` on loopback with every port chosen by the kernel; reads the
    real HTTP and chat ports from its start-up summary on stdout."""

    def __init__(self, db, *args, prefix=()):
        self.proc = subprocess.Popen(
            [*prefix, DUPLEX, "serve", "--bind", "127.0.0.1", "--port", "0", "--chat-port", "0",
             "--discovery-port", "0", "--db", db, "--token", TOKEN, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.http_port = self.chat_port = None
        deadline = time.monotonic() + TIMEOUT
        seen = []
        while (self.http_port is None or self.chat_port is None) and time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError("duplex serve exited early: " + "".join(seen) +
                                     self.proc.stderr.read())
            seen.append(line)
            self._read_ports(line)
        if self.http_port is None or self.chat_port is None:
            raise AssertionError("no ports in duplex serve's summary: " + "".join(seen))
        self.base = f"http://127.0.0.1:{self.http_port}"

    def _read_ports(self, line):
        try:
            j = json.loads(line)
            if isinstance(j, dict):
                self.http_port = self.http_port or j.get("http_port")
                self.chat_port = self.chat_port or j.get("chat_port")
                return
        except ValueError:
            pass
        low = line.lower()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if m and self.http_port is None:
            self.http_port = int(m.group(1))
        m = re.search(r"127\.0\.0\.1:(\d+)", line)
        if m and "chat" in low and "http://" not in low and self.chat_port is None:
            self.chat_port = int(m.group(1))

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def curl(url, *args, token=None):
    """Runs curl; returns (status, parsed JSON body or None, body text)."""
    extra = ["-H", f"Authorization: Bearer {token}"] if token else []
    out = subprocess.run(["curl", "-s", "--max-time", str(TIMEOUT), "-w", "\n%{http_code}", *extra,
                          *args, url], capture_output=True, text=True, timeout=TIMEOUT + 5)
    body, _, code = out.stdout.rpartition("\n")
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    return int(code or 0), parsed, body


def post(url, body, token=None, method="POST"):
    return curl(url, "-X", method, "-H", "Content-Type: application/json", "-d", json.dumps(body),
                token=token)


def cli_error(*args):
    """The one-line message `duplex ...` prints for bad input, without its "duplex x: "."""
    r = subprocess.run([DUPLEX, *args], capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 2, r
    return r.stderr.strip().split(": ", 1)[1]


class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="duplex-api-")
        cls.serve = Serve(os.path.join(cls.dir, "chat.db"))
        cls.base = cls.serve.base

    @classmethod
    def tearDownClass(cls):
        cls.serve.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def get(self, path, token=None):
        return curl(self.base + path, token=token)

    def assert_error(self, reply, status, fragment):
        code, body, text = reply
        self.assertEqual(code, status, text)
        self.assertIsInstance(body, dict, text)
        self.assertEqual(body["status"], status)
        self.assertIn(fragment, body["error"])
        self.assertNotIn("\n", body["error"])

    # --- status and connections ---------------------------------------------------------

    def test_status_names_the_real_endpoints(self):
        code, s, text = self.get("/api/status")
        self.assertEqual(code, 200, text)
        self.assertEqual(s["http"], f"127.0.0.1:{self.serve.http_port}")
        self.assertEqual(s["chat"], f"127.0.0.1:{self.serve.chat_port}")
        self.assertFalse(s["token_required"])
        self.assertFalse(s["can_edit_neighbours"])  # no token sent
        self.assertIn("token", s["why_not"])

    def test_a_chat_client_is_listed_on_the_loopback_subnet(self):
        with socket.create_connection(("127.0.0.1", self.serve.chat_port), timeout=TIMEOUT) as c:
            c.settimeout(TIMEOUT)
            c.sendall(b"/nick apitester\n")
            local = "127.0.0.1:%d" % c.getsockname()[1]
            deadline = time.monotonic() + TIMEOUT
            row = None
            while row is None and time.monotonic() < deadline:
                _, body, _ = self.get("/api/connections")
                row = next((r for r in body["connections"] if r["remote"] == local
                            and r["chat_name"] == "apitester"), None)
                if row is None:
                    time.sleep(0.05)  # polling the registry; the nick is applied on the loop
            self.assertIsNotNone(row, body)
            self.assertEqual(row["protocol"], "chat")
            self.assertTrue(row["same_subnet"])
            self.assertEqual(row["subnet"]["interface"], "lo")
            self.assertEqual(row["subnet"]["peer_and"], "127.0.0.1 AND 255.0.0.0 = 127.0.0.0")
            self.assertIsNone(row["mac"])
            self.assertIn("loopback", row["mac_note"])

    # --- address tools ------------------------------------------------------------------

    def test_ip_is_the_cli_json(self):
        cli = subprocess.run([DUPLEX, "ip", "192.168.1.10/24", "--json"], capture_output=True,
                             text=True, timeout=TIMEOUT).stdout.strip()
        code, _, text = self.get("/api/ip?q=192.168.1.10/24")
        self.assertEqual(code, 200)
        self.assertEqual(text, cli)

    def test_ip_bad_input_is_400_with_the_cli_message(self):
        self.assert_error(self.get("/api/ip?q=300.1.1.1"), 400, cli_error("ip", "300.1.1.1"))

    def test_same_shows_the_and_steps(self):
        code, j, text = self.get("/api/ip/same?a=10.1.2.3&b=10.1.200.4&mask=16")
        self.assertEqual(code, 200, text)
        self.assertTrue(j["same_subnet"])
        self.assertEqual(j["steps"], ["10.1.2.3 AND 255.255.0.0 = 10.1.0.0",
                                      "10.1.200.4 AND 255.255.0.0 = 10.1.0.0"])
        self.assert_error(self.get("/api/ip/same?a=10.0.0.1&b=10.0.0.2"), 400, "no mask")

    def test_split_is_the_cli_json(self):
        for query, args in (("count=4", ["--count", "4"]), ("by=/26", ["--prefix", "/26"]),
                            ("hosts=100,50,20,2", ["--hosts", "100,50,20,2"])):
            cli = subprocess.run([DUPLEX, "ip", "split", "192.168.1.0/24", *args, "--json"],
                                 capture_output=True, text=True, timeout=TIMEOUT).stdout.strip()
            code, _, text = self.get("/api/ip/split?q=192.168.1.0/24&" + query)
            self.assertEqual(code, 200, text)
            self.assertEqual(text, cli, query)
        self.assert_error(self.get("/api/ip/split?q=10.0.0.0/8&by=30"), 400,
                          cli_error("ip", "split", "10.0.0.0/8", "--prefix", "30"))

    def test_aggregate_and_range(self):
        code, j, _ = self.get("/api/ip/aggregate?q=10.0.0.0/24,10.0.1.0/24")
        self.assertEqual((code, j["prefixes"]), (200, ["10.0.0.0/23"]))
        code, j, _ = self.get("/api/ip/range?first=10.0.0.5&last=10.0.0.20")
        self.assertEqual(code, 200)
        self.assertEqual(j["prefixes"], ["10.0.0.5/32", "10.0.0.6/31", "10.0.0.8/29",
                                         "10.0.0.16/30", "10.0.0.20/32"])

    def test_mac_is_the_cli_json(self):
        cli = subprocess.run([DUPLEX, "mac", "--json", "00:00:0c:12:34:56"], capture_output=True,
                             text=True, timeout=TIMEOUT).stdout.strip()
        code, _, text = self.get("/api/mac?q=00:00:0c:12:34:56")
        self.assertEqual((code, text), (200, cli))
        self.assert_error(self.get("/api/mac?q=zz"), 400, cli_error("mac", "zz"))

    # --- neighbours ---------------------------------------------------------------------

    def test_neighbours_lists_the_table(self):
        code, j, text = self.get("/api/neighbours?all=1")
        self.assertEqual(code, 200, text)
        self.assertEqual(j["count"], len(j["neighbours"]))
        self.assertFalse(j["can_edit"])

    def test_neighbour_edits_without_the_token_are_401(self):
        entry = {"ip": "192.0.2.99", "mac": "00:00:0c:12:34:56", "dev": "lo"}
        self.assert_error(post(self.base + "/api/neighbours", entry), 401, "needs the token")
        self.assert_error(curl(self.base + "/api/neighbours?ip=192.0.2.99&dev=lo", "-X", "DELETE"),
                          401, "needs the token")

    def test_neighbour_edits_without_cap_net_admin_are_403_with_the_fix(self):
        prefix = []
        if os.geteuid() == 0:  # root holds CAP_NET_ADMIN: drop it from this server
            if shutil.which("setpriv") is None:
                skip_or_fail(self, "setpriv is missing (util-linux)")
            prefix = ["setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin", "--"]
        serve = Serve(os.path.join(self.dir, "nocap.db"), prefix=prefix)
        try:
            base = serve.base
            code, s, _ = curl(base + "/api/status", token=TOKEN)
            self.assertEqual(code, 200)
            self.assertFalse(s["cap_net_admin"])
            self.assertIn("setcap cap_net_admin+ep", s["why_not"])
            entry = {"ip": "192.0.2.99", "mac": "00:00:0c:12:34:56", "dev": "lo"}
            fix = "sudo setcap cap_net_admin+ep $(which duplex)"
            self.assert_error(post(base + "/api/neighbours", entry, token=TOKEN), 403, fix)
            self.assert_error(curl(base + "/api/neighbours?ip=192.0.2.99&dev=lo", "-X", "DELETE",
                                   token=TOKEN), 403, fix)
        finally:
            serve.close()

    # --- chat ---------------------------------------------------------------------------

    def test_a_posted_message_is_stored_and_reaches_a_terminal(self):
        with socket.create_connection(("127.0.0.1", self.serve.chat_port), timeout=TIMEOUT) as c:
            c.settimeout(TIMEOUT)
            reader = c.makefile("r", encoding="utf-8")
            c.sendall(b"/join apitest\n")
            line = ""
            while "you are" not in line or "apitest" not in line:
                line = reader.readline()
                self.assertTrue(line, "the chat port closed")
            code, m, text = post(self.base + "/api/chat/messages",
                                 {"room": "apitest", "name": "curl", "text": "hello from curl"})
            self.assertEqual(code, 201, text)
            self.assertEqual((m["room"], m["name"], m["via"]), ("apitest", "curl", "http"))
            while "hello from curl" not in line:
                line = reader.readline()
                self.assertTrue(line, "the chat port closed")
            self.assertRegex(line, r"^\[\d\d:\d\d:\d\d\] curl: hello from curl")
        code, h, _ = self.get("/api/chat/history?room=apitest&limit=5")
        self.assertEqual(code, 200)
        self.assertEqual(h["messages"][-1], m)
        code, r, _ = self.get("/api/chat/rooms")
        self.assertEqual(code, 200)
        self.assertIn("apitest", [room["name"] for room in r["rooms"]])

    def test_posting_under_the_name_of_a_member_online_is_409_whatever_the_case(self):
        with socket.create_connection(("127.0.0.1", self.serve.chat_port), timeout=TIMEOUT) as c:
            c.settimeout(TIMEOUT)
            reader = c.makefile("r", encoding="utf-8")
            c.sendall(b"/nick Mallory_Victim\n")
            line = ""
            while "is now Mallory_Victim" not in line:
                line = reader.readline()
                self.assertTrue(line, "the chat port closed")
            url = self.base + "/api/chat/messages"
            for name in ("Mallory_Victim", "mallory_victim"):
                self.assert_error(post(url, {"room": "elsewhere", "name": name, "text": "hi"}),
                                  409, "post under a name nobody online uses")
            code, h, _ = self.get("/api/chat/history?room=elsewhere")
            self.assertEqual((code, h["messages"]), (200, []))
            code, m, text = post(url, {"room": "elsewhere", "name": "someone_else", "text": "hi"})
            self.assertEqual(code, 201, text)

    def test_chat_bad_input_is_400(self):
        url = self.base + "/api/chat/messages"
        self.assert_error(post(url, {"name": "two words", "text": "hi"}), 400, "name 'two words'")
        self.assert_error(post(url, {"name": "alice", "text": "x" * 4097}), 400,
                          "message too long")
        self.assert_error(self.get("/api/chat/history?limit=zero"), 400, "limit=")
        code, body, _ = curl(url, "-d", '{"name":"a","text":"b"}')  # form content type
        self.assertEqual(code, 415)

    def test_a_body_over_64_kib_is_413_before_it_is_read(self):
        # The body is read before the token is checked: a stranger must not make the
        # server hold megabytes per connection.
        url = self.base + "/api/chat/messages"
        code, _, text = post(url, {"name": "alice", "text": "x" * 100_000})
        self.assertEqual(code, 413, text)
        code, _, _ = self.get("/api/status")
        self.assertEqual(code, 200)


if __name__ == "__main__":
    unittest.main()
