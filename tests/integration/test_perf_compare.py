#!/usr/bin/env python3
"""`duplex perf --compare` on loopback, against `duplex perf -s` and against a real
`iperf3 -s`: the TCP run, then the UDP run at TCP's measured goodput, and a table whose
numbers must be each run's own (the run's report is in the same JSON document), with
delivered + lost = sent for the datagrams. TCP is paced (-b) so that the UDP run's rate is
one that a loopback sender reaches: the UDP sending rate is then checked against TCP's
goodput. The binary comes from $DUPLEX; under CI=true a missing iperf3 fails."""
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from prerequisites import requires  # noqa: E402
from test_perf import (DUPLEX, HAVE_IPERF3, IPERF3, NEED_IPERF3, DuplexServer,  # noqa: E402
                       free_port, listening, run, wait_for)

RATE = "300M"  # TCP's pace; UDP then asks for what TCP delivered


def compare(port, *args):
    r = run([DUPLEX, "perf", "-c", "127.0.0.1", "-p", str(port), "-t", "2", "-b", RATE,
             "--compare", "--json", *args], timeout=60)
    assert r.returncode == 0, f"duplex perf --compare failed: {r.stderr}"
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1, r.stdout[-500:]
    return json.loads(lines[0])


class CompareChecks:
    """What every --compare document must satisfy, whoever the server is."""

    def check_table_matches_runs(self, doc, reverse=False):
        tcp, udp = doc["compare"]["tcp"], doc["compare"]["udp"]
        tcp_end, udp_end = doc["tcp"]["end"], doc["udp"]["end"]
        # The table's numbers are the runs' own.
        self.assertEqual(tcp["bytes_sent"], tcp_end["sum_sent"]["bytes"])
        self.assertEqual(tcp["bytes_delivered"], tcp_end["sum_received"]["bytes"])
        self.assertAlmostEqual(tcp["goodput_bits_per_second"],
                               tcp_end["sum_received"]["bits_per_second"], delta=1)
        self.assertEqual(udp["bytes_sent"], udp_end["sum_sent"]["bytes"])
        self.assertEqual(udp["bytes_delivered"], udp_end["sum_received"]["bytes"])
        self.assertEqual(udp["datagrams_sent"], udp_end["sum"]["packets"])
        self.assertEqual(udp["datagrams_lost"], udp_end["sum"]["lost_packets"])
        self.assertAlmostEqual(udp["jitter_ms"], udp_end["sum"]["jitter_ms"])
        self.assertEqual(udp["datagrams_delivered"] + udp["datagrams_lost"],
                         udp["datagrams_sent"])
        self.assertGreater(udp["datagrams_sent"], 1000)
        # UDP asked for TCP's goodput, and its sender reached it (within 10 %).
        self.assertEqual(udp["target_bitrate"], round(tcp["goodput_bits_per_second"]))
        self.assertEqual(doc["udp"]["start"]["test_start"]["target_bitrate"],
                         udp["target_bitrate"])
        self.assertAlmostEqual(udp_end["sum_sent"]["bits_per_second"] / udp["target_bitrate"],
                               1.0, delta=0.10)
        # A paced TCP run delivers close to its pace.
        self.assertGreater(tcp["goodput_bits_per_second"], 0.8 * 300e6)
        self.assertEqual(tcp["datagrams_lost"], 0)
        self.assertIsNone(udp["one_way_delay_ms"])
        self.assertIsNotNone(tcp["retransmits"])  # the sender's TCP_INFO, either way
        if reverse:
            self.assertIsNotNone(udp["reordered"])  # we received: we counted
        else:
            self.assertIsNone(udp["reordered"])
            self.assertIsNotNone(tcp["rtt_mean_us"])  # we sent: TCP_INFO is ours
            self.assertEqual(tcp["retransmits"], tcp_end["sum_sent"]["retransmits"])


class CompareAgainstDuplexServer(unittest.TestCase, CompareChecks):
    @classmethod
    def setUpClass(cls):
        cls.server = DuplexServer()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_table_agrees_with_both_runs_and_the_servers_reports(self):
        doc = compare(self.server.port)
        self.check_table_matches_runs(doc)
        tcp_server = self.server.next_report()
        udp_server = self.server.next_report()
        self.assertEqual(tcp_server["start"]["test_start"]["protocol"], "TCP")
        self.assertEqual(udp_server["start"]["test_start"]["protocol"], "UDP")
        self.assertEqual(doc["compare"]["tcp"]["bytes_delivered"],
                         tcp_server["end"]["sum_received"]["bytes"])
        self.assertEqual(doc["compare"]["udp"]["datagrams_lost"],
                         udp_server["end"]["sum"]["lost_packets"])

    def test_reverse_counts_reordering_on_our_side(self):
        doc = compare(self.server.port, "-R")
        self.check_table_matches_runs(doc, reverse=True)
        self.server.next_report()
        self.server.next_report()

    def test_text_table_has_both_columns(self):
        r = run([DUPLEX, "perf", "-c", "127.0.0.1", "-p", str(self.server.port), "-t", "1",
                 "-b", "100M", "--compare"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.server.next_report()
        self.server.next_report()
        table = r.stdout[r.stdout.index("TCP against UDP:"):]
        for row in ("bytes sent", "bytes delivered", "datagrams sent", "lost", "reordered",
                    "goodput", "retransmissions", "delay: RTT (TCP_INFO)", "delay: jitter",
                    "delay: one-way"):
            self.assertRegex(table, "(?m)^" + re.escape(row) + " ", table)
        self.assertIn("UDP at TCP's goodput", r.stdout)

    def test_compare_with_udp_is_a_usage_error(self):
        r = run([DUPLEX, "perf", "-c", "127.0.0.1", "-p", str(self.server.port), "-u",
                 "--compare"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("leave out -u", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


@requires(HAVE_IPERF3, NEED_IPERF3)
class CompareAgainstIperf3Server(unittest.TestCase, CompareChecks):
    """A real iperf3 -s serves both runs (it reopens its listener between tests: the UDP
    run asks again until it is back)."""

    @classmethod
    def setUpClass(cls):
        cls.port = free_port()
        cls.proc = subprocess.Popen([IPERF3, "-s", "-p", str(cls.port), "-B", "127.0.0.1"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: listening(cls.port) or cls.proc.poll() is not None, "iperf3 -s")

    @classmethod
    def tearDownClass(cls):
        cls.proc.kill()
        cls.proc.wait()

    def test_table_agrees_with_both_runs(self):
        self.check_table_matches_runs(compare(self.port))

    def test_reverse(self):
        self.check_table_matches_runs(compare(self.port, "-R"), reverse=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
