"""The Perf page's server side, as the page (or any WebSocket client) uses it: /ws/perf
starts a `duplex perf` client test from the serve process against a `duplex perf -s` on
loopback and streams one message per interval, then the end; a CLI run's reports
(POST /api/perf/report, as `duplex perf -c --report-to` sends them) reach every page that
watches (/ws/perf?watch=1). Everything needs the token; bad parameters get one error message
naming the value and the range, then a Close."""
import json
import os
import re
import subprocess
import sys
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_harness import DUPLEX, TIMEOUT, Serve  # noqa: E402


class PerfServer:
    """`duplex perf -s` on a free port."""

    def __init__(self):
        self.proc = subprocess.Popen([DUPLEX, "perf", "-s", "-p", "0", "-B", "127.0.0.1"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"\(port (\d+)\)", line)
        if not m:
            self.proc.kill()
            raise AssertionError("duplex perf -s did not start: " + line + self.proc.stderr.read())
        self.port = int(m.group(1))

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


class PerfEndpoint(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.perf = PerfServer()

    @classmethod
    def tearDownClass(cls):
        cls.perf.close()

    def setUp(self):
        self.serve = Serve()

    def tearDown(self):
        self.serve.close()

    def ws(self, token=True, **params):
        if token:
            params["token"] = self.serve.token
        return self.serve.websocket("/ws/perf?" + urllib.parse.urlencode(params))

    def run_test(self, **params):
        """Every message of one test, up to the Close."""
        ws = self.ws(host="127.0.0.1", port=self.perf.port, **params)
        self.assertEqual(ws.status, 101)
        messages = ws.receive_all()
        ws.close()
        return messages

    def post(self, body, token=True):
        req = urllib.request.Request(f"http://127.0.0.1:{self.serve.http_port}/api/perf/report",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        if token:
            req.add_header("Authorization", "Bearer " + self.serve.token)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def test_a_tcp_test_streams_one_interval_a_second_then_the_end(self):
        messages = self.run_test(proto="tcp", time=2)
        self.assertEqual(messages[0]["type"], "started", messages)
        self.assertEqual(messages[0]["protocol"], "TCP")
        self.assertEqual(messages[0]["source"], "serve")
        intervals = [m for m in messages if m["type"] == "interval"]
        self.assertEqual(len(intervals), 2, messages)
        self.assertEqual([m["index"] for m in intervals], [0, 1])
        for m in intervals:
            self.assertGreater(m["bytes"], 0, m)
            self.assertGreater(m["mbps"], 0, m)
            self.assertAlmostEqual(m["end"] - m["start"], 1.0, delta=0.25)
            # the client sends: TCP_INFO's view of the connection
            self.assertGreater(m["cwnd"], 0, m)
            self.assertGreater(m["rtt_ms"], 0, m)
            self.assertIn("retransmits", m)
            self.assertIn("rttvar_ms", m)
        end = messages[-1]
        self.assertEqual(end["type"], "end", messages)
        self.assertTrue(end["ok"], end)
        self.assertEqual(end["run"], messages[0]["run"])
        self.assertGreaterEqual(end["sent_bytes"], sum(m["bytes"] for m in intervals) * 0.99)
        self.assertGreater(end["received_bytes"], 0)

    def test_udp_reverse_carries_loss_and_jitter_per_interval(self):
        messages = self.run_test(proto="udp", time=2, rate="20M", reverse=1)
        intervals = [m for m in messages if m["type"] == "interval"]
        self.assertEqual(len(intervals), 2, messages)
        for m in intervals:
            self.assertGreater(m["bytes"], 0, m)
            self.assertGreater(m["packets"], 0, m)
            self.assertIn("loss_percent", m)
            self.assertIn("jitter_ms", m)
            self.assertNotIn("cwnd", m)
        end = messages[-1]
        self.assertTrue(end["ok"], end)
        self.assertIn("loss_percent", end)
        self.assertGreater(end["packets"], 0)

    def test_the_token_is_needed_on_loopback_too(self):
        ws = self.ws(token=False, host="127.0.0.1", port=self.perf.port, time=1)
        self.assertEqual(ws.status, 401)
        ws.close()
        ws = self.ws(token=False, watch=1)
        self.assertEqual(ws.status, 401)
        ws.close()
        self.assertEqual(self.post({"type": "started", "run": "x"}, token=False), 401)

    def test_absurd_parameters_get_one_line_and_a_close(self):
        for params, words in [({"time": 100000}, "from 1 to 60"), ({"time": "x"}, "time=x"),
                              ({"rate": "5T"}, "rate=5T"), ({"proto": "sctp"}, "tcp or udp"),
                              ({"streams": 500}, "from 1 to 8"), ({"port": 70000}, "port=70000"),
                              ({"proto": "udp", "rate": "0"}, "rate=0")]:
            ws = self.ws(host="127.0.0.1", **params)
            msg = ws.receive()
            self.assertEqual(msg["type"], "error", (params, msg))
            self.assertEqual(msg["cause"], "parameters")
            self.assertIn(words, msg["message"])
            self.assertNotIn("\n", msg["message"])
            self.assertIsNone(ws.receive(), "a Close must follow the error")
            ws.close()
        ws = self.ws(time=1)
        self.assertIn("choose a host", ws.receive()["message"])
        ws.close()

    def test_an_unreachable_server_ends_with_the_reason(self):
        with __import__("socket").socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # nobody listens there
        ws = self.ws(host="127.0.0.1", port=port, time=1)
        messages = []
        while (msg := ws.receive()) is not None:
            messages.append(msg)
        ws.close()
        self.assertEqual(messages[-1]["type"], "end", messages)
        self.assertFalse(messages[-1]["ok"])
        self.assertTrue(messages[-1]["error"], messages)

    def test_a_reported_run_reaches_the_watchers_with_its_history(self):
        run = "cli-test-1"
        self.assertEqual(self.post({"type": "started", "run": run, "protocol": "TCP"}), 204)
        self.assertEqual(self.post({"type": "interval", "run": run, "index": 0, "bytes": 5}), 204)
        ws = self.ws(watch=1)
        self.assertEqual(ws.receive()["type"], "watching")
        self.assertEqual(ws.receive()["type"], "started")  # replayed
        self.assertEqual(ws.receive()["bytes"], 5)
        self.assertEqual(self.post({"type": "end", "run": run, "ok": True}), 204)
        msg = ws.receive()
        self.assertEqual((msg["type"], msg["source"]), ("end", "cli"))
        ws.close()
        self.assertEqual(self.post({"type": "nonsense", "run": run}), 400)
        self.assertEqual(self.post({"type": "end"}), 400)
        self.assertEqual(self.post({"type": "end", "run": "serve-1"}), 400)

    def test_the_cli_reports_to_serve(self):
        ws = self.ws(watch=1)
        self.assertEqual(ws.receive()["type"], "watching")
        out = subprocess.run([DUPLEX, "perf", "-c", "127.0.0.1", "-p", str(self.perf.port),
                              "-t", "2", "--report-to",
                              f"http://127.0.0.1:{self.serve.http_port}",
                              "--token", self.serve.token],
                             capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(out.returncode, 0, out.stderr)
        started, _ = ws.expect(type="started")
        self.assertEqual(started["source"], "cli")
        end, seen = ws.expect(type="end")
        intervals = [m for m in seen if m["type"] == "interval"]
        self.assertEqual(len(intervals), 2, seen)
        self.assertTrue(all(m["bytes"] > 0 for m in intervals), intervals)
        self.assertTrue(end["ok"], end)
        ws.close()

    def test_the_cli_says_in_one_line_when_the_token_is_wrong(self):
        out = subprocess.run([DUPLEX, "perf", "-c", "127.0.0.1", "-p", str(self.perf.port),
                              "-t", "1", "--report-to",
                              f"http://127.0.0.1:{self.serve.http_port}", "--token", "wrong"],
                             capture_output=True, text=True, timeout=TIMEOUT)
        self.assertIn("--report-to", out.stderr)
        self.assertIn("401", out.stderr)
        out = subprocess.run([DUPLEX, "perf", "-c", "127.0.0.1", "--report-to", "ftp://x"],
                             capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(out.returncode, 2)
        self.assertIn("--report-to", out.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
