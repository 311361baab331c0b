#!/usr/bin/env python3
"""`duplex serve` under a flood: one client that sends lines as fast as it can (the TCP
line protocol, or WebSocket messages) is refused, then dropped, with fewer than 200 of its
lines stored, while another member chats on unaffected. Flood control is on by default
(chat_flood.h: 10 lines a second after a burst of 20, 100 waiting, 10 refused); the
--chat-rate and --chat-burst flags change it. Loopback only; every wait has a deadline."""
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import DUPLEX, TIMEOUT, Serve  # noqa: E402

FLOOD_LINES = 200_000
STORED_AT_MOST = 200  # burst 20 + 100 waiting + what trickles in at 10 a second meanwhile


def stored(db, name_like="%"):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM messages WHERE name LIKE ?",
                            (name_like,)).fetchone()[0]


class ServeFlood(unittest.TestCase):
    def setUp(self):
        self.serve = Serve()

    def tearDown(self):
        self.serve.close()

    def joined(self, name):
        c = self.serve.chat()
        c.expect(r"^\* you are ")
        c.send(f"/nick {name}")
        c.expect(rf"^\* guest-\d+ is now {name}$")
        return c

    def assert_bystander_chats_on(self, bystander, tag):
        bystander.send(f"still here {tag}")
        bystander.expect(rf"^\[\d\d:\d\d:\d\d\] bystander: still here {tag}$")

    def test_a_tcp_client_sending_200000_lines_is_refused_then_dropped(self):
        bystander = self.joined("bystander")
        flood = socket.create_connection(("127.0.0.1", self.serve.chat_port), timeout=TIMEOUT)
        # The flood is sent by a thread, as nc would: the server stops it long before the end.
        def pour():
            try:
                flood.sendall(b"x\n" * FLOOD_LINES)
            except OSError:
                pass  # reset once the server closed: expected
        writer = threading.Thread(target=pour, daemon=True)
        writer.start()
        received = b""
        while True:
            try:
                data = flood.recv(65536)
            except OSError:
                break
            if not data:
                break
            received += data
        lines = received.decode().splitlines()
        refused = [l for l in lines if l.startswith("! not sent: flood control")]
        self.assertGreater(len(refused), 0, lines[-5:])
        self.assertLessEqual(len(refused), 10, refused)
        self.assertRegex(lines[-1], r"^! flood: disconnected after 10 lines refused; send at "
                                    r"most 10 lines a second after a burst of 20")
        flood.close()
        writer.join(timeout=TIMEOUT)
        self.assertLess(stored(self.serve.db, "guest-%"), STORED_AT_MOST)
        # The other member saw the flooder leave, and chats on.
        bystander.expect(r"^\* guest-\d+ left lobby$")
        self.assert_bystander_chats_on(bystander, "after the flood")
        bystander.close()
        # The operator hears of it too.
        self.assertEqual(self.serve.stop(), 0)
        self.assertRegex(self.serve.proc.stderr.read(),
                         r"chat.*127\.0\.0\.1:\d+ dropped: flooding \(10 lines refused\)")

    def test_a_websocket_client_flooding_is_refused_then_closed(self):
        bystander = self.joined("bystander")
        ws = self.serve.websocket()
        self.assertEqual(ws.status, 101)
        ws.expect(type="history")
        for i in range(1000):
            ws.send({"type": "say", "text": f"w{i}"})
        seen = []
        while True:
            try:
                msg = ws.receive()
            except (EOFError, OSError):
                break
            if msg is None:  # the Close frame
                break
            seen.append(msg)
        errors = [m["message"] for m in seen if m.get("type") == "error"]
        self.assertTrue(any(e.startswith("not sent: flood control") for e in errors), errors)
        self.assertRegex(errors[-1], r"^flood: disconnected after 10 messages refused")
        ws.close()
        self.assertLess(stored(self.serve.db, "guest-%"), STORED_AT_MOST)
        self.assert_bystander_chats_on(bystander, "after the websocket flood")
        bystander.close()

    def test_lines_sent_a_little_too_fast_wait_and_are_all_said_in_order(self):
        client = self.joined("paster")
        # A paste of 40 lines: 20 at once, the rest at 10 a second; none refused.
        client.send(b"".join(f"p{i}\n".encode() for i in range(40)))
        got = []
        while len(got) < 40:
            m, seen = client.expect(r"^(?:\[\d\d:\d\d:\d\d\] paster: (p\d+)|! .*)$")
            self.assertIsNotNone(m.group(1), m.group(0))
            got.append(m.group(1))
        self.assertEqual(got, [f"p{i}" for i in range(40)])
        client.close()


class ServeFloodFlags(unittest.TestCase):
    def test_chat_rate_0_turns_flood_control_off(self):
        serve = Serve("--chat-rate", "0")
        try:
            client = serve.chat()
            client.expect(r"^\* you are ")
            client.send(b"".join(f"q{i}\n".encode() for i in range(500)))
            client.expect(r"^\[\d\d:\d\d:\d\d\] guest-\d+: q499$")
            self.assertEqual(stored(serve.db), 500)
            client.close()
        finally:
            serve.close()

    def test_bad_limits_are_usage_errors_naming_the_option(self):
        for args, fragment in ((["--chat-rate", "fast"], "--chat-rate"),
                               (["--history-max-age", "3 weeks"], "90s, 30m, 12h or 7d"),
                               (["--min-free", "lots"], "64MiB, 1GiB")):
            r = subprocess.run([DUPLEX, "serve", *args], capture_output=True, text=True,
                               timeout=TIMEOUT)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(fragment, r.stderr)
            self.assertNotIn("unknown option", r.stderr)


if __name__ == "__main__":
    unittest.main()
