#!/usr/bin/env python3
"""`duplex serve`'s connection registry as the API shows it (/api/connections): chat TCP
clients with their chat name and room, WebSocket chat members relabelled from HTTP, and
plain HTTP connections, each with TCP_INFO."""
import json
import os
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import Serve  # noqa: E402


class ServeConnections(unittest.TestCase):
    def setUp(self):
        self.serve = Serve()

    def tearDown(self):
        self.serve.close()

    def connections(self):
        url = f"http://127.0.0.1:{self.serve.http_port}/api/connections"
        with urllib.request.urlopen(url, timeout=20) as r:
            return json.load(r)["connections"]

    def test_chat_websocket_and_http_clients_are_listed_with_their_protocol(self):
        tcp = self.serve.chat()
        tcp.expect(r"^\* you are ")
        tcp.send("/nick termi")
        tcp.expect(r"is now termi$")
        ws = self.serve.websocket()
        ws.send({"type": "hello", "name": "webby", "room": "ops"})
        ws.expect(type="welcome", name="webby", room="ops")
        conns = self.connections()
        by_protocol = {}
        for c in conns:
            by_protocol.setdefault(c["protocol"], []).append(c)
        self.assertEqual(len(by_protocol.get("chat", [])), 1, conns)
        chat = by_protocol["chat"][0]
        self.assertEqual(chat["chat_name"], "termi")
        self.assertEqual(chat["chat_room"], "lobby")
        self.assertEqual(chat["remote_port"], tcp.sock.getsockname()[1])
        self.assertGreater(chat["bytes_in"], 0)
        self.assertIn("rtt_us", chat)
        self.assertEqual(len(by_protocol.get("websocket", [])), 1, conns)
        self.assertEqual(by_protocol["websocket"][0]["chat_name"], "webby")
        self.assertEqual(by_protocol["websocket"][0]["chat_room"], "ops")
        self.assertGreaterEqual(len(by_protocol.get("http", [])), 1)  # this very request
        tcp.close()
        ws.close()


if __name__ == "__main__":
    unittest.main()
