"""`duplex capture` as a user runs it, over pcap files this test writes byte by byte
(pcap_files.py): the one-line output against `tcpdump -nn -r` on the same file, the layer
tree (-V), the marked bytes (-X), --json, -w/-r round trips, -c, and the bad inputs, each
of which must give one clear line (exit 2) or a marker in the output, never a crash.

The binary is $DUPLEX; tcpdump is the oracle (scripts/setup installs it)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from prerequisites import requires, skip_or_fail  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcap_files as pf  # noqa: E402

DUPLEX = os.environ.get("DUPLEX", "duplex")
ENV = {**os.environ, "TZ": "UTC", "NO_COLOR": "1"}
HAVE_TCPDUMP = shutil.which("tcpdump") is not None


def capture(*args, timeout=60):
    return subprocess.run([DUPLEX, "capture", *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV)


def live_capture(args, act, stop=False):
    """Runs `duplex capture -i lo ARGS`; once it listens, calls act() and, with stop, sends
    SIGTERM; returns (process, stdout, stderr after the "listening" line)."""
    proc = subprocess.Popen([DUPLEX, "capture", "-i", "lo", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        ready = proc.stderr.readline()
        assert "listening on lo" in ready, ready + proc.stderr.read()
        act()
        if stop:
            proc.terminate()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc, out, err


def tcpdump_lines(path):
    r = subprocess.run(["tcpdump", "-nn", "-r", path], capture_output=True, text=True,
                       timeout=60, env=ENV)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


class CaptureFiles(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="duplex-capture-")
        self.addCleanup(self.dir.cleanup)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def sample(self):
        p = self.path("sample.pcap")
        pf.write_pcap(p, pf.sample_packets())
        return p

    def assert_one_line_error(self, r, *words):
        self.assertEqual(r.returncode, 2, (r.stdout, r.stderr))
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("duplex capture: "), lines[0])
        for w in words:
            self.assertIn(w, lines[0])
        self.assertNotIn("Sanitizer", r.stderr)

    @requires(HAVE_TCPDUMP, "tcpdump is missing: run scripts/setup")
    def test_lines_match_tcpdump_nn_on_the_same_file(self):
        p = self.sample()
        r = capture("-r", p)
        self.assertEqual(r.returncode, 0, r.stderr)
        ours = r.stdout.splitlines()
        theirs = tcpdump_lines(p)
        self.assertEqual(len(ours), len(pf.sample_packets()))
        self.assertEqual(ours, theirs)
        self.assertEqual(r.stderr, "")

    @requires(HAVE_TCPDUMP, "tcpdump is missing: run scripts/setup")
    def test_tcp_and_dns_lines_match_tcpdump_with_relative_sequence_numbers(self):
        p = self.path("talk.pcap")
        pf.write_pcap(p, pf.tcp_conversation() + pf.dns_exchange())
        r = capture("-r", p)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), tcpdump_lines(p))
        self.assertIn("Flags [P.], seq 1:7, ack 1, win 64240, length 6", r.stdout)
        self.assertIn("4660 1/0/0 A 93.184.216.34 (45)", r.stdout)

    @requires(HAVE_TCPDUMP, "tcpdump is missing: run scripts/setup")
    def test_raw_ip_link_type_matches_tcpdump(self):
        p = self.path("raw.pcap")
        packets = [pkt[14:] for pkt in pf.sample_packets()[2:4]]
        pf.write_pcap(p, packets, linktype=pf.LINKTYPE_RAW)
        self.assertEqual(capture("-r", p).stdout.splitlines(), tcpdump_lines(p))

    def test_filter_and_count_select_packets(self):
        p = self.sample()
        r = capture("-r", p, "icmp")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout.splitlines()), 3, r.stdout)  # the VLAN ping is not "icmp"
        r = capture("-r", p, "-c", "2")
        self.assertEqual([line.split(" ", 2)[1] for line in r.stdout.splitlines()],
                         ["ARP,", "ARP,"])
        r = capture("-r", p, "arp", "and", "arp[7]", "=", "2")  # words joined as tcpdump does
        self.assertEqual(len(r.stdout.splitlines()), 1, r.stdout)
        self.assertIn("Reply 10.0.0.2 is-at 02:00:00:00:00:02", r.stdout)

    def test_verbose_tree_names_each_layer_in_both_models(self):
        r = capture("-r", self.sample(), "-V", "-c", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        blocks = r.stdout.strip().split("\n\n")
        self.assertEqual(len(blocks), 3)
        ping = blocks[2].splitlines()
        self.assertIn("ICMP echo request, id 7, seq 1, length 64", ping[0])
        self.assertIn("L2 data link (OSI 2 / TCP-IP link): Ethernet II", ping)
        self.assertIn("L3 network (OSI 3 / TCP-IP internet): IPv4", ping)
        self.assertIn("L3 network (OSI 3 / TCP-IP internet): ICMP", ping)
        self.assertIn("  Source Address: 10.0.0.1", ping)
        self.assertIn("  Type: 8 (echo request)", ping)
        self.assertIn("  Header checksum status: good", ping)
        arp = blocks[0].splitlines()
        self.assertIn("L2 data link (OSI 2 / TCP-IP link): ARP", arp)

    def test_hex_dump_marks_each_headers_bytes(self):
        r = capture("-r", self.sample(), "-X", "-c", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        ping_block = r.stdout.strip().split("\n\n")[2]
        ping_rows = [line for line in ping_block.splitlines() if line.startswith("0x")]
        self.assertEqual(len(ping_rows), 8, ping_block)
        self.assertTrue(ping_rows[0].startswith("0x0000:  0200 0000 0002 0200 0000 0001 0800"))
        self.assertTrue(ping_rows[0].endswith("Ethernet II"), ping_rows[0])
        self.assertTrue(ping_rows[1].startswith("0x000e:  4500 0054"))
        self.assertTrue(ping_rows[1].endswith("IPv4"))
        self.assertTrue(ping_rows[3].startswith("0x0022:  0800"))
        self.assertTrue(ping_rows[3].endswith("ICMP"))
        self.assertTrue(ping_rows[4].endswith("payload"))
        self.assertIn("L3 network (OSI 3 / TCP-IP internet): ICMP", r.stdout)

    def test_json_lines_have_layers_with_offsets(self):
        r = capture("-r", self.sample(), "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        packets = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual([p["number"] for p in packets], list(range(1, 9)))
        self.assertEqual(packets[0]["time"], "2026-12-05T07:00:00.000000Z")
        self.assertEqual(packets[0]["length"], 60)
        self.assertEqual([l["protocol"] for l in packets[0]["layers"]], ["Ethernet II", "ARP"])
        vlan = packets[4]
        self.assertEqual([(l["layer"], l["osi"], l["protocol"], l["offset"]) for l in vlan["layers"]],
                         [("link", 2, "Ethernet II", 0), ("network", 3, "IPv4", 18),
                          ("network", 3, "ICMP", 38)])
        fields = {f["key"]: f for f in vlan["layers"][0]["fields"]}
        self.assertEqual(fields["vlan.id"]["value"], "100")
        ip = {f["key"]: f for f in vlan["layers"][1]["fields"]}
        self.assertEqual(ip["ip.src"]["value"], "10.0.0.1")
        self.assertEqual(ip["ip.src"]["offset"], 18 + 12)
        self.assertEqual(ip["ip.checksum.status"]["value"], "good")
        quoted = packets[5]["layers"][-2:]
        self.assertEqual([(l["layer"], l["protocol"]) for l in quoted],
                         [("network", "IPv4 (quoted by ICMP)"),
                          ("transport", "UDP (quoted by ICMP)")])
        ports = {f["key"]: f["value"] for f in quoted[1]["fields"]}
        self.assertIn("udp.dstport", ports)

    @requires(HAVE_TCPDUMP, "tcpdump is missing: run scripts/setup")
    def test_write_then_read_keeps_every_packet(self):
        src, out = self.sample(), self.path("copy.pcap")
        r = capture("-r", src, "-w", out, "icmp")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        r = subprocess.run(["tcpdump", "-nn", "-r", src, "icmp"], capture_output=True,
                           text=True, timeout=60, env=ENV)
        self.assertEqual(tcpdump_lines(out), r.stdout.splitlines())
        self.assertEqual(len(tcpdump_lines(out)), 3)

    def test_pcapng_is_read_like_pcap(self):
        if shutil.which("editcap") is None:
            skip_or_fail(self, "editcap (tshark's package) is missing: run scripts/setup")
        src, ng = self.sample(), self.path("sample.pcapng")
        subprocess.run(["editcap", "-F", "pcapng", src, ng], check=True, timeout=60)
        self.assertEqual(capture("-r", ng).stdout, capture("-r", src).stdout)

    def test_stats_counts_layers_protocols_talkers_and_tcp_conversations(self):
        p = self.path("talk.pcap")
        pf.write_pcap(p, pf.tcp_conversation() + pf.dns_exchange())
        r = capture("-r", p, "--stats")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        total = sum(max(len(f), 0) for f in pf.tcp_conversation() + pf.dns_exchange())
        self.assertTrue(out.startswith(f"15 packets, {total} bytes in 14.014000 s\n"), out)
        self.assertRegex(out, r"L2 data link \(OSI 2 / TCP-IP link\) +15 packets")
        self.assertRegex(out, r"L4 transport \(OSI 4 / TCP-IP transport\) +13 packets")
        self.assertRegex(out, r"\n  ARP +2 packets")
        self.assertRegex(out, r"\n  TCP +11 packets")
        self.assertRegex(out, r"\n  DNS +2 packets")
        self.assertRegex(out, r"Top talkers \(bytes sent\):\n  10\.0\.0\.1 +8 packets")
        # SYN at 2.002 s, the handshake's ACK at 4.004 s.
        self.assertIn("10.0.0.1:40000 <-> 10.0.0.2:7000  handshake RTT 2002.000 ms", out)
        self.assertIn("10.0.0.1:40000 -> 7 packets, 6 bytes of data, 1 retransmission, FIN", out)
        self.assertIn("10.0.0.2:7000 -> 4 packets, 6 bytes of data, FIN", out)
        self.assertNotIn("Flags [", out)  # no per-packet lines

    def test_flow_draws_arp_handshake_data_retransmission_and_fins(self):
        p = self.path("talk.pcap")
        pf.write_pcap(p, pf.tcp_conversation())
        r = capture("-r", p, "--flow")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["time", "(s)", "10.0.0.1", "10.0.0.2"])
        arrows = lines[2:]
        self.assertEqual(len(arrows), 13)
        expected = [
            ("->", "ARP who-has 10.0.0.2 (broadcast)"),
            ("<-", "ARP 10.0.0.2 is-at 02:00:00:00:00:02"),
            ("->", "40000→7000 [SYN] seq=0 len=0"),
            ("<-", "7000→40000 [SYN, ACK] seq=0 ack=1 len=0"),
            ("->", "40000→7000 [ACK] seq=1 ack=1 len=0"),
            ("->", "40000→7000 [PSH, ACK] seq=1 ack=1 len=6"),
            ("->", "[retransmission] 40000→7000 [PSH, ACK] seq=1 ack=1 len=6"),
            ("<-", "7000→40000 [ACK] seq=1 ack=7 len=0"),
            ("<-", "7000→40000 [PSH, ACK] seq=1 ack=7 len=6"),
            ("->", "40000→7000 [ACK] seq=7 ack=7 len=0"),
            ("->", "40000→7000 [FIN, ACK] seq=7 ack=7 len=0"),
            ("<-", "7000→40000 [FIN, ACK] seq=7 ack=8 len=0"),
            ("->", "40000→7000 [ACK] seq=8 ack=8 len=0"),
        ]
        for line, (way, label) in zip(arrows, expected):
            self.assertIn(label, line)
            self.assertIn("|<-" if way == "<-" else "->|", line)

    def test_stats_and_flow_refuse_json(self):
        r = capture("-r", self.sample(), "--json", "--stats")
        self.assert_one_line_error(r, "--json")

    # Bad input: a file cut short, a corrupt header, malformed frames, a bad filter.

    def test_truncated_file_names_the_record_and_keeps_what_came_before(self):
        whole = self.sample()
        with open(whole, "rb") as f:
            data = f.read()
        cut = self.path("cut.pcap")
        with open(cut, "wb") as f:
            f.write(data[:-10])
        r = capture("-r", cut)
        self.assert_one_line_error(r, "cut.pcap", "truncated packet record at byte",
                                   "re-capture")
        self.assertEqual(len(r.stdout.splitlines()), len(pf.sample_packets()) - 1)
        last_record = 24 + sum(16 + len(p) for p in pf.sample_packets()[:-1])
        self.assertIn(f"at byte {last_record};", r.stderr)

    def test_file_shorter_than_its_header_is_one_line(self):
        p = self.path("stub.pcap")
        with open(p, "wb") as f:
            f.write(b"\xd4\xc3\xb2\xa1\x02\x00")
        self.assert_one_line_error(capture("-r", p), "stub.pcap", "truncated")

    def test_absurd_snaplen_in_the_header_is_refused(self):
        p = self.path("absurd.pcap")
        pf.write_pcap(p, pf.sample_packets()[:1], snaplen=0xFFFFFFF0)
        self.assert_one_line_error(capture("-r", p), "absurd.pcap", "snap length 4294967280",
                                   "absurd")

    def test_not_a_pcap_file_is_one_line(self):
        p = self.path("text.pcap")
        with open(p, "w") as f:
            f.write("this is not a capture at all, just some text\n")
        self.assert_one_line_error(capture("-r", p), "text.pcap")

    def test_missing_file_is_one_line(self):
        self.assert_one_line_error(capture("-r", self.path("nowhere.pcap")), "nowhere.pcap")

    def test_frame_shorter_than_its_headers_is_marked_not_fatal(self):
        p = self.path("short.pcap")
        ping = pf.sample_packets()[2]
        pf.write_pcap(p, [ping[:10], ping[:24], (ping[:42], len(ping)), ping[:40]])
        r = capture("-r", p)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 4)
        self.assertIn("Ethernet [truncated at byte 10 of the header", lines[0])
        self.assertIn("IP [truncated at byte 10 of the header: the IPv4 header needs 20 bytes]",
                      lines[1])
        # A snap length that cut the ICMP data is no problem: the header is whole.
        self.assertIn("ICMP echo request, id 7, seq 1, length 64", lines[2])
        self.assertIn("ICMP [truncated at byte 6 of the header: the ICMP header needs 8 bytes]",
                      lines[3])
        r = capture("-r", p, "--json")
        layers = json.loads(r.stdout.splitlines()[1])["layers"]
        self.assertIn("truncated", layers[1]["problem"])

    def test_ipv4_ihl_below_five_is_marked_malformed(self):
        p = self.path("ihl.pcap")
        ping = bytearray(pf.sample_packets()[2])
        ping[14] = 0x44
        pf.write_pcap(p, [bytes(ping)])
        r = capture("-r", p, "-V")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("IP [malformed at byte 0 of the header: IHL is below 5", r.stdout)
        self.assertIn("  [malformed at byte 0 of the header: IHL is below 5", r.stdout)

    def test_bad_filter_gives_pcaps_message(self):
        r = capture("-r", self.sample(), "tcp", "port", "eighty")
        self.assert_one_line_error(r, "bad filter 'tcp port eighty'", "pcap-filter")

    def test_usage_errors_exit_2(self):
        self.assertEqual(capture("--json", "-V", "-r", self.sample()).returncode, 2)
        self.assertEqual(capture("-r", self.sample(), "-c", "zero").returncode, 2)
        self.assertEqual(capture("--bogus").returncode, 2)

    def test_help_has_examples(self):
        r = capture("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("Examples:", r.stdout)
        self.assertIn("duplex capture -r trace.pcap -V icmp", r.stdout)


@requires(os.geteuid() == 0, "live capture checks need root (CI runs them as root)")
class CaptureLiveErrors(unittest.TestCase):
    def test_missing_interface_is_one_line(self):
        r = capture("-i", "nosuchif0", "-c", "1")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stderr.strip(),
                         "duplex capture: no interface named 'nosuchif0': `ip link` lists them; "
                         "-i any captures on every interface")

    def test_without_cap_net_raw_names_the_fix(self):
        if shutil.which("setpriv") is None:
            skip_or_fail(self, "setpriv (util-linux) is missing: run scripts/setup")
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            "--inh-caps=-all", "--bounding-set=-all", DUPLEX, "capture", "-i",
                            "lo", "-c", "1"], capture_output=True, text=True, timeout=30,
                           env=ENV)
        self.assertEqual(r.returncode, 2, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("needs root or CAP_NET_RAW", lines[0])
        self.assertIn("setcap cap_net_raw", lines[0])

    def test_live_capture_on_loopback_stops_at_count_and_prints_kernel_counts(self):
        # A UDP datagram to a closed loopback port: no peer needed, no traffic leaves the host.
        def send():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", 40999))
                s.sendto(b"ping", ("127.0.0.1", 9))
        proc, out, err = live_capture(["-c", "1", "-l", "udp and dst port 9 and src port 40999"],
                                      send)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(len(out.splitlines()), 1, out)
        self.assertIn("127.0.0.1", out)
        self.assertRegex(err, r"1 packets captured, \d+ received by filter, \d+ dropped by kernel")

    def test_sigterm_stops_a_quiet_capture_cleanly(self):
        proc, out, err = live_capture(["udp port 1 and port 2"], lambda: None, stop=True)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out, "")
        self.assertRegex(err, r"^0 packets captured, \d+ received by filter, \d+ dropped by kernel\n$")

    def test_sigint_right_after_a_burst_keeps_every_packet_the_kernel_accepted(self):
        # The kernel hands the ring over a block at a time; a block that is not full waits
        # for its timer. A Ctrl-C right after the last datagram must still write all of them
        # (tcpdump -w loses such a partial block), and exit promptly.
        count = 300
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "burst.pcap")
            proc = subprocess.Popen([DUPLEX, "capture", "-i", "lo", "-w", path,
                                     "udp and dst port 9 and src port 40998"],
                                    stderr=subprocess.PIPE, text=True, env=ENV)
            try:
                ready = proc.stderr.readline()
                self.assertIn("listening on lo", ready, ready)
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind(("127.0.0.1", 40998))
                    for i in range(count):
                        s.sendto(b"burst %d" % i, ("127.0.0.1", 9))
                proc.send_signal(signal.SIGINT)
                err = proc.communicate(timeout=30)[1]
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            self.assertEqual(proc.returncode, 0, err)
            # On lo the kernel counts each datagram twice (its outgoing copy, which libpcap
            # drops), so "received by filter" says 2 * count.
            self.assertRegex(err, rf"^{count} packets captured, \d+ received by filter, "
                                  r"0 dropped by kernel\n$")
            r = capture("-r", path)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(r.stdout.splitlines()), count, r.stdout[-500:])


if __name__ == "__main__":
    unittest.main()
