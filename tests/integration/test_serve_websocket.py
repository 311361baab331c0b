#!/usr/bin/env python3
"""`duplex serve`'s chat over WebSocket (/ws/chat), side by side with the TCP chat: a line
typed in a terminal reaches the browser's JSON, and the other way round."""
import os
import json
import re
import socket
import sys
import time
import urllib.request
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import Serve  # noqa: E402


class ServeWebSocket(unittest.TestCase):
    def setUp(self):
        self.serve = Serve()

    def tearDown(self):
        self.serve.close()

    def test_open_gives_welcome_then_history(self):
        tcp = self.serve.chat()
        tcp.expect(r"^\* you are ")
        tcp.send("old news")
        tcp.expect(r"\] guest-\d+: old news$")
        ws = self.serve.websocket()
        self.assertEqual(ws.status, 101)
        welcome = ws.receive()
        self.assertEqual(welcome["type"], "welcome")
        self.assertEqual(welcome["room"], "lobby")
        self.assertEqual(welcome["online"], 2)
        history = ws.receive()
        self.assertEqual(history["type"], "history")
        self.assertEqual([m["text"] for m in history["messages"]], ["old news"])
        self.assertEqual(history["messages"][0]["via"], "tcp")
        ws.close()
        tcp.close()

    def test_a_tcp_line_reaches_the_websocket_and_back(self):
        ws = self.serve.websocket()
        ws.send({"type": "hello", "name": "web"})
        ws.expect(type="welcome", name="web")
        tcp = self.serve.chat()
        tcp.expect(r"^\* you are ")
        tcp.send("/nick term")
        tcp.expect(r"is now term$")
        tcp.send("from the terminal")
        msg, _ = ws.expect(type="message", text="from the terminal")
        self.assertEqual(msg["name"], "term")
        self.assertEqual(msg["via"], "tcp")
        self.assertIsInstance(msg["id"], int)
        self.assertIsInstance(msg["ts"], int)
        ws.send({"type": "say", "text": "from the browser", "client_id": "c1"})
        tcp.expect(r"^\[\d\d:\d\d:\d\d\] web: from the browser$")
        ws.close()
        tcp.close()

    def test_say_is_acknowledged_before_the_message_comes_back(self):
        ws = self.serve.websocket()
        ws.expect(type="history")
        ws.send({"type": "say", "text": "hi", "client_id": "c7"})
        ack, seen = ws.expect(type="ack", client_id="c7")
        self.assertFalse(any(m.get("type") == "message" for m in seen), seen)
        msg, _ = ws.expect(type="message", text="hi")
        self.assertEqual(msg["id"], ack["id"])
        self.assertEqual(msg["via"], "websocket")
        ws.close()

    def test_bad_input_gets_an_error_message(self):
        ws = self.serve.websocket()
        ws.expect(type="history")
        ws.send({"type": "say", "text": "x" * 5000, "client_id": "big"})
        err, _ = ws.expect(type="error", client_id="big")
        self.assertIn("too long", err["message"])
        ws.send({"type": "nick", "name": "no spaces allowed"})
        err, _ = ws.expect(type="error")
        self.assertIn("not a valid name", err["message"])
        ws.close()

    def test_join_moves_the_member_to_another_room(self):
        ws = self.serve.websocket()
        ws.expect(type="history")
        ws.send({"type": "join", "room": "ops"})
        ws.expect(type="welcome", room="ops")
        ws.expect(type="history", room="ops")
        tcp = self.serve.chat()
        tcp.expect(r"^\* you are ")
        tcp.send("/join ops")
        tcp.expect(r"^\* you are guest-\d+ in ops$")
        tcp.send("/who")
        m, _ = tcp.expect(r"^\* in ops \(2\): ")
        self.assertTrue(re.search(r"guest-\d+ guest-\d+", m.string))
        ws.close()
        tcp.close()

    def test_a_websocket_member_that_does_not_read_is_dropped_and_disconnected(self):
        # Flood control off: the fast member must outrun the slow one's buffers quickly.
        self.serve.close()
        self.serve = Serve("--chat-rate", "0")
        ws = self.serve.websocket()
        ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        ws.send({"type": "hello", "name": "sleepy"})
        ws.expect(type="history")
        tcp = self.serve.chat()
        tcp.expect(r"^\* you are ")
        text = "z" * 4000
        dropped = False
        for i in range(3000):  # at most 12 MB
            tcp.send(f"{i} {text}")
            _, seen = tcp.expect(rf"\] guest-\d+: {i} ")
            if "* sleepy left lobby" in seen:
                dropped = True
                break
        self.assertTrue(dropped, "the WebSocket member that does not read was never dropped")
        # The server closes the connection (close_timeout after its Close, which we never
        # read) although we still do not read: it leaves the registry.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            url = f"http://127.0.0.1:{self.serve.http_port}/api/connections"
            with urllib.request.urlopen(url, timeout=20) as r:
                protocols = [c["protocol"] for c in json.load(r)["connections"]]
            if "websocket" not in protocols:
                break
            time.sleep(0.2)  # polling the registry with a deadline; nothing to wait on
        self.assertNotIn("websocket", protocols)
        ws.close()
        tcp.close()


if __name__ == "__main__":
    unittest.main()
