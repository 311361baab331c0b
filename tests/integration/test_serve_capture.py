"""The Capture page's server side, as the page (or any WebSocket client) uses it:
GET /api/capture/interfaces and the live capture on /ws/capture, on `lo`, with traffic this
test makes to its own listeners. The token is required, bad input gets one error message
naming the cause and the fix, the rate cap counts what it left out, and closing the socket
frees the capture's fd.

Needs root (or CAP_NET_RAW) to capture; skipped otherwise, a failure under CI=true."""
import base64
import json
import os
import socket
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from prerequisites import requires  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_harness import TIMEOUT, Serve  # noqa: E402

ROOT = os.geteuid() == 0


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, what):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what} not seen within {TIMEOUT} s")


class CaptureEndpoint(unittest.TestCase):
    def setUp(self):
        self.serve = Serve()

    def tearDown(self):
        self.serve.close()

    def get(self, path, token=True):
        req = urllib.request.Request(f"http://127.0.0.1:{self.serve.http_port}{path}")
        if token:
            req.add_header("Authorization", "Bearer " + self.serve.token)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def capture(self, token=True, **params):
        if token:
            params["token"] = self.serve.token
        return self.serve.websocket("/ws/capture?" + urllib.parse.urlencode(params))

    def expect_error(self, ws, cause):
        msg, seen = ws.expect(type="error")
        self.assertEqual(msg["cause"], cause, seen)
        self.assertIsNone(ws.receive(), "a Close must follow the error")
        return msg["message"]

    def test_the_token_is_needed_on_loopback_too(self):
        status, body = self.get("/api/capture/interfaces", token=False)
        self.assertEqual(status, 401)
        self.assertIn("token", body["error"] if "error" in body else body["message"])
        ws = self.capture(token=False, iface="lo")
        self.assertEqual(ws.status, 401)
        ws.close()

    @requires(ROOT, "capturing needs root")
    def test_the_interfaces_are_listed_with_lo_among_them(self):
        status, body = self.get("/api/capture/interfaces")
        self.assertEqual(status, 200, body)
        self.assertTrue(body["cap_net_raw"])
        self.assertIsNone(body["why_not"])
        self.assertEqual(body["max_rate"], 100)
        lo = [i for i in body["interfaces"] if i["name"] == "lo"]
        self.assertEqual(len(lo), 1, body)
        self.assertTrue(lo[0]["loopback"])

    @requires(ROOT, "capturing needs root")
    def test_bad_input_gets_one_message_naming_the_cause(self):
        ws = self.capture(iface="lo", filter="tcp port eighty")
        message = self.expect_error(ws, "filter")
        self.assertIn("bad filter 'tcp port eighty'", message)
        self.assertIn("man pcap-filter", message)
        ws.close()
        ws = self.capture(iface="nosuch0")
        self.assertIn("no interface named 'nosuch0'", self.expect_error(ws, "interface"))
        ws.close()
        ws = self.capture(iface="lo", rate="5000")
        self.assertIn("from 1 to 100", self.expect_error(ws, "rate"))
        ws.close()
        ws = self.capture(filter="tcp")
        self.assertIn("?iface=lo", self.expect_error(ws, "interface"))
        ws.close()
        self.assertIsNone(self.serve.proc.poll(), "serve must survive bad input")

    @requires(ROOT, "capturing needs root")
    def test_a_tcp_packet_arrives_with_every_field_placed_in_its_bytes(self):
        port = free_port()
        listener = socket.create_server(("127.0.0.1", port))
        ws = self.capture(iface="lo", filter=f"tcp dst port {port}")
        started, _ = ws.expect(type="started")
        self.assertEqual(started["interface"], "lo")
        self.assertIn("link", started["headings"])
        client = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        packet, seen = ws.expect(type="packet")
        client.close()
        listener.close()
        ws.close()
        self.assertEqual(packet["destination"], f"127.0.0.1:{port}")
        self.assertEqual(packet["protocol"], "TCP")
        self.assertIn("Flags [S]", packet["summary"])
        data = base64.b64decode(packet["bytes"])
        self.assertEqual(len(data), packet["captured"])
        tcp = [layer for layer in packet["layers"] if layer["protocol"] == "TCP"][0]
        self.assertEqual(tcp["layer"], "transport")
        dport = [f for f in tcp["fields"] if f["key"] == "tcp.dstport"][0]
        self.assertEqual(dport["length"], 2)
        self.assertEqual(int.from_bytes(data[dport["offset"]:dport["offset"] + 2], "big"), port)
        self.assertEqual(packet["flow"]["to"], "127.0.0.1")
        self.assertIn(f"\u2192{port} [SYN]", packet["flow"]["label"])

    @requires(ROOT, "capturing needs root")
    def test_the_rate_cap_counts_the_packets_it_left_out(self):
        port = free_port(socket.SOCK_DGRAM)
        ws = self.capture(iface="lo", filter=f"udp dst port {port}", rate="2")
        ws.expect(type="started")
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(40):
            sender.sendto(b"x%d" % i, ("127.0.0.1", port))
        sender.close()
        packets = 0
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            msg = ws.receive()
            self.assertIsNotNone(msg)
            if msg["type"] == "packet":
                packets += 1
            elif msg["type"] == "stats" and msg["captured"] >= 40:
                break
        ws.close()
        self.assertEqual(msg["type"], "stats", "no stats after the 40 datagrams")
        self.assertEqual(msg["captured"], 40)
        self.assertEqual(msg["sent"], packets)
        self.assertEqual(msg["sent"] + msg["left_out"], 40)
        self.assertLessEqual(packets, 6, "a burst of 2 then 2 a second, within ~2 s")
        self.assertGreater(msg["left_out"], 30)
        self.assertEqual(msg["kernel_dropped"], 0)

    @requires(ROOT, "capturing needs root")
    def test_closing_the_socket_frees_the_capture(self):
        pid = self.serve.proc.pid
        fds = f"/proc/{pid}/fd"

        def packet_sockets():
            """serve's fds that are AF_PACKET sockets (libpcap's), by inode."""
            with open(f"/proc/{pid}/net/packet") as f:
                inodes = {line.split()[-1] for line in f.read().splitlines()[1:]}
            links = []
            for fd in os.listdir(fds):
                try:
                    links.append(os.readlink(f"{fds}/{fd}"))
                except FileNotFoundError:
                    pass
            return sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes)

        before = len(os.listdir(fds))
        self.assertEqual(packet_sockets(), 0)
        for _ in range(3):
            ws = self.capture(iface="lo", filter="tcp port 9")
            ws.expect(type="started")
            self.assertEqual(packet_sockets(), 1)
            ws.close()
            wait_until(lambda: packet_sockets() == 0 and len(os.listdir(fds)) <= before,
                       f"the capture's socket closed and the fd count back to {before}")

    @requires(ROOT, "capturing needs root")
    def test_more_captures_than_the_server_runs_at_once_are_refused(self):
        open_ones = [self.capture(iface="lo", filter="tcp port 9") for _ in range(4)]
        for ws in open_ones:
            ws.expect(type="started")
        ws = self.capture(iface="lo")
        self.assertIn("4 captures are open", self.expect_error(ws, "busy"))
        for w in open_ones + [ws]:
            w.close()


@requires(ROOT, "dropping a capability needs root")
class WithoutCapNetRaw(unittest.TestCase):
    def setUp(self):
        self.serve = Serve(prefix=("setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw"))

    def tearDown(self):
        self.serve.close()

    def test_the_page_is_told_why_it_cannot_capture(self):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.serve.http_port}/api/capture/interfaces",
            headers={"Authorization": "Bearer " + self.serve.token})
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            body = json.loads(r.read())
        self.assertFalse(body["cap_net_raw"])
        self.assertIn("lacks CAP_NET_RAW", body["why_not"])
        self.assertIn("setcap cap_net_raw", body["why_not"])
        ws = self.serve.websocket("/ws/capture?iface=lo&token=" + self.serve.token)
        msg, seen = ws.expect(type="error")
        self.assertEqual(msg["cause"], "permission", seen)
        self.assertIn("run duplex serve as root", msg["message"])
        ws.close()


if __name__ == "__main__":
    unittest.main()
