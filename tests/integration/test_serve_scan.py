"""The Hosts page's server side, as the page (or any WebSocket client) uses it: /ws/scan
takes one request, runs a connect scan from the serve process and streams the hosts and
open ports as they come, then the totals. The test opens listeners on random ports of
127.0.0.1 and closes others it bound: the scan must report exactly the listening ones open
among the requested ports. The token is needed; a bad request gets one error naming it."""
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_harness import Serve  # noqa: E402


def listeners(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        socks.append(s)
    return socks


def closed_ports(n):
    """Ports that were free a moment ago (bound, then closed): nothing listens there."""
    out = []
    for s in listeners(n):
        out.append(s.getsockname()[1])
        s.close()
    return out


class ScanEndpoint(unittest.TestCase):
    def setUp(self):
        self.serve = Serve()

    def tearDown(self):
        self.serve.close()

    def ws(self, token=True):
        return self.serve.websocket("/ws/scan" + (f"?token={self.serve.token}" if token else ""))

    def scan(self, request):
        """The ready message, then every message of one scan, up to the Close."""
        ws = self.ws()
        self.assertEqual(ws.status, 101)
        ready = ws.receive()
        self.assertEqual(ready["type"], "ready", ready)
        ws.send(request)
        messages = ws.receive_all()
        ws.close()
        return ready, messages

    def test_scanning_loopback_reports_exactly_the_open_ports(self):
        socks = listeners(3)
        try:
            open_ports = sorted(s.getsockname()[1] for s in socks)
            shut = closed_ports(3)
            ports = open_ports + shut
            ready, messages = self.scan({"targets": "127.0.0.1",
                                         "ports": ",".join(map(str, ports))})
        finally:
            for s in socks:
                s.close()
        self.assertEqual(ready["targets"], "127.0.0.1", ready)
        self.assertEqual(ready["max_addresses"], 1024)
        self.assertEqual(ready["max_ports"], 1000)
        self.assertEqual(messages[0]["type"], "started", messages)
        self.assertEqual(messages[0]["addresses"], 1)
        self.assertEqual(messages[0]["ports"], 6)
        hosts = [m for m in messages if m["type"] == "host"]
        self.assertEqual(hosts, [{"type": "host", "host": "127.0.0.1", "mac": "", "vendor": ""}])
        found = sorted(m["port"] for m in messages if m["type"] == "port")
        self.assertEqual(found, open_ports, messages)
        for m in messages:
            if m["type"] == "port":
                self.assertEqual(m["host"], "127.0.0.1")
                self.assertEqual(m["state"], "open")
                self.assertIn("service", m)
        # the host comes before its ports, as the page fills its table
        types = [m["type"] for m in messages]
        self.assertLess(types.index("host"), types.index("port"))
        progress = [m for m in messages if m["type"] == "progress"]
        self.assertTrue(progress, messages)
        self.assertEqual(progress[-1]["done"], 6)
        self.assertEqual(progress[-1]["total"], 6)
        done = messages[-1]
        self.assertEqual(done["type"], "done", messages)
        self.assertEqual(done["hosts_up"], 1)
        self.assertEqual(done["ports_open"], 3)
        self.assertGreaterEqual(done["seconds"], 0)

    def test_top_n_scans_the_most_common_ports(self):
        _, messages = self.scan({"targets": "127.0.0.1", "ports": "top 20"})
        self.assertEqual(messages[0]["ports"], 20, messages)
        self.assertEqual(messages[-1]["type"], "done", messages)
        for m in messages:
            if m["type"] == "port":
                self.assertIsInstance(m["service"], str)

    def test_the_token_is_needed_on_loopback_too(self):
        ws = self.ws(token=False)
        self.assertEqual(ws.status, 401)
        ws.close()

    def test_bad_requests_get_one_error_and_a_close(self):
        for request, cause, words in [
                ("not json", "request", "send one JSON object"),
                ({"ports": "22"}, "request", "send one JSON object"),
                ({"targets": "127.0.0.1", "ports": "0"}, "request", "port 0"),
                ({"targets": "127.0.0.1", "ports": "1-2000"}, "bounds", "2000 ports"),
                ({"targets": "8.8.8.8", "ports": "53"}, "bounds", "outside this machine's subnets"),
                ({"targets": "127.0.0.0/8", "ports": "22"}, "bounds", "more than 1024 addresses"),
                ({"targets": "localhost", "ports": "22"}, "request", "is a name")]:
            ws = self.ws()
            self.assertEqual(ws.receive()["type"], "ready")
            ws.send(request)  # "not json" goes as a JSON string: not an object
            msg = ws.receive()
            self.assertEqual(msg["type"], "error", (request, msg))
            self.assertEqual(msg["cause"], cause, (request, msg))
            self.assertIn(words, msg["message"], (request, msg))
            self.assertIsNone(ws.receive(), "a Close follows the error")
            ws.close()

    def test_one_scan_per_connection(self):
        ws = self.ws()
        self.assertEqual(ws.receive()["type"], "ready")
        # Two requests in one write, so the second is read before the first scan can end.
        frames, sock = [], ws.sock

        class Collect:
            sendall = staticmethod(frames.append)
        ws.sock = Collect()
        ws.send({"targets": "127.0.0.1", "ports": "1-1000"})
        ws.send({"targets": "127.0.0.1", "ports": "22"})
        ws.sock = sock
        sock.sendall(b"".join(frames))
        msg, seen = ws.expect(type="error")
        self.assertIn("one scan per connection", msg["message"])
        ws.close()

    def test_closing_the_socket_stops_the_scan_and_serve_goes_on(self):
        ws = self.ws()
        self.assertEqual(ws.receive()["type"], "ready")
        ws.send({"targets": "127.0.0.1", "ports": "1-1000"})
        ws.expect(type="started")
        ws.close()
        # serve still answers, and a new scan runs to its end
        socks = listeners(1)
        try:
            port = socks[0].getsockname()[1]
            _, messages = self.scan({"targets": "127.0.0.1", "ports": str(port)})
        finally:
            socks[0].close()
        self.assertEqual([m["port"] for m in messages if m["type"] == "port"], [port])
        self.assertIsNone(self.serve.proc.poll())


if __name__ == "__main__":
    unittest.main()
