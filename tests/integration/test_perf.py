#!/usr/bin/env python3
"""`duplex perf` against Debian's iperf3 on loopback, both ways: `iperf3 -c` against
`duplex perf -s` and `duplex perf -c` against `iperf3 -s`, over TCP and UDP, with -R and
-P 4, every run with --json on both ends, so that each end's own numbers are compared with
the other's. Then bad input against `duplex perf -s`: a garbage client, a data stream with
the wrong cookie, a client that vanishes mid-test; each gets a clear error, the server
serves the next client, and it holds as many file descriptors as before.

Every wait is bounded (a process timeout or a deadline on a condition); nothing sleeps.
The binary comes from $DUPLEX (ctest sets it). Under CI=true a missing iperf3 fails."""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from chat_peers import Lines  # noqa: E402
from prerequisites import requires  # noqa: E402

DUPLEX = os.environ.get("DUPLEX", "duplex")
IPERF3 = shutil.which("iperf3")
TIMEOUT = 30
HAVE_IPERF3 = IPERF3 is not None
NEED_IPERF3 = "iperf3 is missing: run scripts/setup (apt-get install iperf3)"


def wait_for(condition, what, timeout=TIMEOUT):
    """Polls `condition` until it returns something true; fails naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)  # a poll interval, not a wait for an event: the condition decides
    raise AssertionError("timed out waiting for " + what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """Whether a TCP socket listens on `port` (from /proc, without connecting to it)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                        return True
        except FileNotFoundError:
            pass
    return False


class DuplexServer:
    """`duplex perf -s --json` on 127.0.0.1 and a free port; one JSON document per test."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [DUPLEX, "perf", "-s", "-p", "0", "-B", "127.0.0.1", "--json", "-i", "0.5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out = Lines(self.proc.stdout)
        self.err = Lines(self.proc.stderr)
        self.port = int(self.err.expect(r"listening on .* \(port (\d+)\)").group(1))

    def next_report(self):
        """The JSON document of the next test that ends."""
        return json.loads(self.out.expect(r"^\{").string)

    def open_fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run(args, timeout=TIMEOUT):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def iperf3_client(port, *args):
    r = run([IPERF3, "-c", "127.0.0.1", "-p", str(port), "-t", "1", "--json", *args])
    assert r.returncode == 0, f"iperf3 -c failed: {r.stdout[-800:]} {r.stderr}"
    return json.loads(r.stdout)


def duplex_client(port, *args):
    r = run([DUPLEX, "perf", "-c", "127.0.0.1", "-p", str(port), "-t", "1", "--json", *args])
    assert r.returncode == 0, f"duplex perf -c failed: {r.stderr}"
    return json.loads(r.stdout)


class Iperf3Server:
    """`iperf3 -s -1 --json` on a free port; report() is its JSON after the test."""

    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen([IPERF3, "-s", "-1", "-p", str(self.port), "--json"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: listening(self.port) or self.proc.poll() is not None, "iperf3 -s")

    def report(self):
        out, err = self.proc.communicate(timeout=TIMEOUT)
        assert self.proc.returncode == 0, f"iperf3 -s failed: {out[-800:]} {err}"
        return json.loads(out)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def assert_datagrams_close(test, sent, received):
    """A UDP receiver counts until TEST_END; a sender that hears of the end later (reverse)
    sends a few more, and iperf3's server drops what is still queued at the end."""
    test.assertLessEqual(received, sent)
    test.assertLessEqual(sent - received, max(10, sent // 100), (sent, received))


def assert_received_close_to_sent(test, sent, received):
    """A TCP receiver counts what arrived before TEST_END: up to the socket buffers less
    than what the sender wrote."""
    test.assertLessEqual(received, sent)
    test.assertGreater(received, 0)
    test.assertLessEqual(sent - received, max(32 << 20, sent // 20), (sent, received))


@requires(HAVE_IPERF3, NEED_IPERF3)
class Iperf3ClientAgainstDuplexServer(unittest.TestCase):
    """iperf3 -c drives the test; duplex perf -s answers."""

    @classmethod
    def setUpClass(cls):
        cls.server = DuplexServer()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_tcp_counts_agree_with_iperf3s(self):
        theirs = iperf3_client(self.server.port)
        ours = self.server.next_report()
        self.assertEqual(theirs["end"]["sum_received"]["bytes"], ours["end"]["sum_received"]["bytes"])
        assert_received_close_to_sent(self, theirs["end"]["sum_sent"]["bytes"],
                                      ours["end"]["sum_received"]["bytes"])
        self.assertEqual(ours["start"]["test_start"]["protocol"], "TCP")
        self.assertEqual(ours["start"]["cookie"], theirs["start"]["cookie"])
        self.assertGreaterEqual(len(ours["intervals"]), 2)
        for interval in ours["intervals"]:
            self.assertFalse(interval["sum"]["sender"])

    def test_reverse_the_server_sends_with_tcp_info(self):
        theirs = iperf3_client(self.server.port, "-R")
        ours = self.server.next_report()
        sent = ours["end"]["sum_sent"]["bytes"]
        self.assertEqual(theirs["end"]["sum_sent"]["bytes"], sent)
        assert_received_close_to_sent(self, sent, theirs["end"]["sum_received"]["bytes"])
        stream = ours["intervals"][0]["streams"][0]
        self.assertTrue(stream["sender"])
        for key in ("retransmits", "snd_cwnd", "snd_wnd", "rtt", "rttvar", "pmtu"):
            self.assertIn(key, stream)
        self.assertGreater(stream["snd_cwnd"], 0)
        self.assertGreater(stream["rtt"], 0)
        self.assertIn("max_snd_cwnd", ours["end"]["streams"][0]["sender"])

    def test_omitted_seconds_left_out_as_iperf3_leaves_them(self):
        theirs = iperf3_client(self.server.port, "-O", "1")
        ours = self.server.next_report()
        self.assertEqual(theirs["end"]["sum_received"]["bytes"], ours["end"]["sum_received"]["bytes"])
        self.assertTrue(ours["intervals"][0]["sum"]["omitted"])
        self.assertFalse(ours["intervals"][-1]["sum"]["omitted"])
        # Each end starts counting at its own end of the omitted second: close, not equal.
        sent, got = theirs["end"]["sum_sent"]["bytes"], ours["end"]["sum_received"]["bytes"]
        self.assertLess(abs(sent - got), sent // 10, (sent, got))

    def test_four_parallel_streams_by_iperf3s_ids(self):
        theirs = iperf3_client(self.server.port, "-P", "4")
        ours = self.server.next_report()
        self.assertEqual(len(ours["end"]["streams"]), 4)
        self.assertEqual(len(theirs["end"]["streams"]), 4)
        self.assertEqual(theirs["end"]["sum_received"]["bytes"], ours["end"]["sum_received"]["bytes"])
        for t, o in zip(theirs["end"]["streams"], ours["end"]["streams"]):
            self.assertEqual(t["receiver"]["bytes"], o["receiver"]["bytes"])

    def test_udp_datagrams_counted_alike(self):
        theirs = iperf3_client(self.server.port, "-u", "-b", "20M", "-l", "1200")
        ours = self.server.next_report()
        sent = theirs["end"]["sum_sent"]
        got = ours["end"]["sum_received"]
        self.assertEqual(sent["packets"], got["packets"])
        self.assertEqual(sent["bytes"], got["bytes"])
        self.assertEqual(got["lost_packets"], 0)
        self.assertEqual(theirs["end"]["sum"]["lost_packets"], got["lost_packets"])
        self.assertGreater(ours["intervals"][0]["streams"][0]["jitter_ms"], 0)
        self.assertIn("out_of_order", ours["end"]["streams"][0]["udp"])

    def test_udp_reverse(self):
        theirs = iperf3_client(self.server.port, "-u", "-b", "20M", "-l", "1200", "-R")
        ours = self.server.next_report()
        assert_datagrams_close(self, ours["end"]["sum_sent"]["packets"],
                               theirs["end"]["sum_received"]["packets"])
        self.assertGreater(theirs["end"]["sum_received"]["packets"], 1000)
        self.assertLessEqual(theirs["end"]["sum_received"]["lost_packets"], 0)


@requires(HAVE_IPERF3, NEED_IPERF3)
class DuplexClientAgainstIperf3Server(unittest.TestCase):
    """duplex perf -c drives the test; iperf3 -s -1 answers."""

    def setUp(self):
        self.server = Iperf3Server()

    def tearDown(self):
        self.server.close()

    def test_tcp_counts_agree_with_iperf3s(self):
        ours = duplex_client(self.server.port)
        theirs = self.server.report()
        received = theirs["end"]["sum_received"]["bytes"]
        self.assertEqual(ours["end"]["sum_received"]["bytes"], received)
        assert_received_close_to_sent(self, ours["end"]["sum_sent"]["bytes"], received)
        stream = ours["intervals"][0]["streams"][0]
        self.assertTrue(stream["sender"])
        self.assertGreater(stream["snd_cwnd"], 0)
        self.assertIn("delivery_rate", stream)
        self.assertEqual(ours["end"]["sender_tcp_congestion"],
                         theirs["end"].get("sender_tcp_congestion", ours["end"]["sender_tcp_congestion"]))

    def test_congestion_control_is_set_on_both_ends(self):
        ours = duplex_client(self.server.port, "-C", "reno")  # reno is always built in
        theirs = self.server.report()
        self.assertEqual(ours["end"]["sender_tcp_congestion"], "reno")
        self.assertEqual(ours["end"]["receiver_tcp_congestion"], "reno")
        self.assertEqual(theirs["end"]["receiver_tcp_congestion"], "reno")

    def test_omitted_seconds_are_marked_and_left_out(self):
        ours = duplex_client(self.server.port, "-O", "1", "-i", "0.5")
        theirs = self.server.report()
        omitted = [i for i in ours["intervals"] if i["sum"]["omitted"]]
        counted = [i for i in ours["intervals"] if not i["sum"]["omitted"]]
        self.assertEqual(len(omitted), 2)
        self.assertGreaterEqual(len(counted), 2)
        self.assertEqual(theirs["end"]["sum_received"]["bytes"], ours["end"]["sum_received"]["bytes"])
        everything = sum(i["sum"]["bytes"] for i in ours["intervals"])
        self.assertLess(ours["end"]["sum_sent"]["bytes"], everything)

    def test_unknown_congestion_control_names_the_fix(self):
        r = run([DUPLEX, "perf", "-c", "127.0.0.1", "-p", str(self.server.port), "-C", "nosuch"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("tcp_available_congestion_control", r.stderr)

    def test_reverse_with_four_streams(self):
        ours = duplex_client(self.server.port, "-R", "-P", "4")
        theirs = self.server.report()
        self.assertEqual(len(ours["end"]["streams"]), 4)
        self.assertEqual(theirs["end"]["sum_sent"]["bytes"], ours["end"]["sum_sent"]["bytes"])
        assert_received_close_to_sent(self, theirs["end"]["sum_sent"]["bytes"],
                                      ours["end"]["sum_received"]["bytes"])

    def test_udp_datagrams_counted_alike(self):
        ours = duplex_client(self.server.port, "-u", "-b", "20M", "-l", "1200")
        theirs = self.server.report()
        assert_datagrams_close(self, ours["end"]["sum_sent"]["packets"],
                               theirs["end"]["sum_received"]["packets"])
        self.assertEqual(theirs["end"]["sum_received"]["lost_packets"], 0)

    def test_udp_reverse_counts_loss_and_jitter(self):
        ours = duplex_client(self.server.port, "-u", "-b", "20M", "-l", "1200", "-R")
        theirs = self.server.report()
        got = ours["end"]["sum_received"]
        assert_datagrams_close(self, theirs["end"]["sum_sent"]["packets"], got["packets"])
        self.assertEqual(got["lost_packets"], 0)
        self.assertGreater(got["jitter_ms"], 0)


def control_client(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    return s


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise AssertionError(f"closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def send_json(s, obj):
    text = json.dumps(obj).encode()
    s.sendall(struct.pack(">I", len(text)) + text)


def closed_by_peer(s):
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True


@requires(HAVE_IPERF3, NEED_IPERF3)
class BadInput(unittest.TestCase):
    """Each bad client ends with one line on stderr; the next client is served; no fd leaks."""

    def setUp(self):
        self.server = DuplexServer()
        # The idle server's fds (loop, timers, signals, the listener), counted before any
        # client; a test that ends must bring the count back to it. The report of a test is
        # printed before its sockets close, so the count is waited for, never read once.
        self.fds = self.server.open_fds()
        iperf3_client(self.server.port, "-t", "1")
        self.server.next_report()
        wait_for(lambda: self.server.open_fds() == self.fds,
                 f"a first test's fds to close ({self.fds} before it, now {self.server.open_fds()})")

    def tearDown(self):
        self.server.close()

    def assert_serves_next_client_without_leaks(self):
        theirs = iperf3_client(self.server.port, "-t", "1")
        ours = self.server.next_report()
        self.assertEqual(theirs["end"]["sum_received"]["bytes"], ours["end"]["sum_received"]["bytes"])
        wait_for(lambda: self.server.open_fds() == self.fds,
                 f"the fd count to come back to {self.fds} (now {self.server.open_fds()})")

    def test_garbage_on_the_control_port(self):
        with control_client(self.server.port) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")  # shorter than a cookie
            self.assertTrue(closed_by_peer(s))
        self.server.err.expect("not an iperf3 cookie")
        self.assert_serves_next_client_without_leaks()

    def test_data_stream_with_the_wrong_cookie(self):
        cookie = b"abcdefghijklmnopqrstuvwxyz2345672345\0"
        with control_client(self.server.port) as s:
            s.sendall(cookie)
            self.assertEqual(recv_exact(s, 1), b"\x09")  # PARAM_EXCHANGE
            send_json(s, {"tcp": True, "time": 1, "parallel": 1, "len": 1024})
            self.assertEqual(recv_exact(s, 1), b"\x0a")  # CREATE_STREAMS
            with socket.create_connection(("127.0.0.1", self.server.port), timeout=TIMEOUT) as d:
                d.sendall(b"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\0")
                self.assertEqual(d.recv(1), b"\xff")  # ACCESS_DENIED
                self.assertTrue(closed_by_peer(d))
            self.server.err.expect("wrong cookie")
        self.server.err.expect("control connection closed")
        self.assert_serves_next_client_without_leaks()

    def test_client_that_vanishes_mid_test(self):
        cookie = b"abcdefghijklmnopqrstuvwxyz2345672345\0"
        s = control_client(self.server.port)
        s.sendall(cookie)
        self.assertEqual(recv_exact(s, 1), b"\x09")
        send_json(s, {"tcp": True, "time": 30, "parallel": 1, "len": 65536})
        self.assertEqual(recv_exact(s, 1), b"\x0a")
        d = socket.create_connection(("127.0.0.1", self.server.port), timeout=TIMEOUT)
        d.sendall(cookie)
        self.assertEqual(recv_exact(s, 2), b"\x01\x02")  # TEST_START, TEST_RUNNING
        d.sendall(b"x" * (1 << 20))
        for sock in (d, s):  # gone without a word: RST, as a killed process's sockets
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        self.server.err.expect("mid-test")
        self.assert_serves_next_client_without_leaks()

    def test_second_client_during_a_test_is_denied(self):
        with control_client(self.server.port) as s:
            s.sendall(b"abcdefghijklmnopqrstuvwxyz2345672345\0")
            self.assertEqual(recv_exact(s, 1), b"\x09")
            r = run([DUPLEX, "perf", "-c", "127.0.0.1", "-p", str(self.server.port), "-t", "1"])
            self.assertEqual(r.returncode, 1)
            self.assertIn("ACCESS_DENIED", r.stderr)
        self.server.err.expect("control connection closed")
        self.assert_serves_next_client_without_leaks()


class Usage(unittest.TestCase):
    def test_neither_server_nor_client_is_a_usage_error(self):
        r = run([DUPLEX, "perf"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("-s", r.stderr)

    def test_refused_connection_is_one_line(self):
        r = run([DUPLEX, "perf", "-c", "127.0.0.1", "-p", str(free_port()), "-t", "1"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("ECONNREFUSED", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)

    def test_help_has_examples(self):
        r = run([DUPLEX, "perf", "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("Examples:", r.stdout)
        self.assertIn("iperf3 -c", r.stdout)


if __name__ == "__main__":
    unittest.main()
