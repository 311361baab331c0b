#!/usr/bin/env python3
"""`duplex serve`'s TCP chat as terminals use it: nc and plain sockets on loopback, the
line protocol of src/duplex/apps/chat/chat_protocol.h, its limits and its back-pressure."""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import TIMEOUT, ChatClient, NcLines, Serve  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from prerequisites import requires  # noqa: E402

# Under ASan (scripts/test's second run) the shadow memory and the quarantine of freed
# blocks add to the RSS without being ours.
ASAN_SLACK_KIB = 128 * 1024 if "ASAN_OPTIONS" in os.environ else 0


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


class ServeChat(unittest.TestCase):
    def setUp(self):
        self.serve = Serve()

    def tearDown(self):
        self.serve.close()

    def test_summary_names_each_service_with_its_real_port(self):
        s = self.serve.summary
        self.assertRegex(s["dashboard"], r"^http://127\.0\.0\.1:[1-9]\d*/\?token=[0-9a-f]{32}$")
        self.assertRegex(s["chat"], r"^tcp 127\.0\.0\.1:[1-9]\d* \(duplex chat 127\.0\.0\.1:\d+, "
                                    r"or nc 127\.0\.0\.1 \d+\)$")
        self.assertRegex(s["discovery"], r"^udp 0\.0\.0\.0:[1-9]\d* \(answers loopback probes only\)$")
        self.assertEqual(s["history"], self.serve.db)

    @requires(shutil.which("nc"), "needs nc (netcat-openbsd)")
    def test_nc_sees_the_history_then_another_clients_messages(self):
        first = self.serve.chat()
        first.expect(r"^\* you are (guest-\d+) in lobby$")
        first.send("/nick alice")
        first.expect(r"^\* guest-\d+ is now alice$")
        first.send("before nc came")
        first.expect(r"^\[\d\d:\d\d:\d\d\] alice: before nc came$")  # committed
        nc = NcLines(self.serve.chat_port)
        try:
            seen = nc.expect(r"^\* you are guest-\d+ in lobby$")
            self.assertTrue(any(re.match(r"^\[\d\d:\d\d:\d\d\] alice: before nc came$", l)
                                for l in seen), seen)
            first.send("after nc came")
            nc.expect(r"^\[\d\d:\d\d:\d\d\] alice: after nc came$")
            nc.send("hello from nc")
            first.expect(r"^\[\d\d:\d\d:\d\d\] guest-\d+: hello from nc$")
        finally:
            nc.close()
            first.close()

    def test_a_piped_client_that_sends_fin_at_once_still_gets_its_lines_back(self):
        # `nc -N` shuts its write side down right after the end of input: the lines, the last
        # one without a newline, are stored and come back before "bye" and the server's FIN.
        r = subprocess.run(["nc", "-N", "127.0.0.1", str(self.serve.chat_port)],
                           input="/nick piper\nfirst line\nlast without newline",
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        stamped = [re.sub(r"^\[\d\d:\d\d:\d\d\] ", "", l) for l in lines
                   if re.match(r"^\[\d\d:\d\d:\d\d\] piper: ", l)]
        self.assertEqual(stamped, ["piper: first line", "piper: last without newline"], lines)
        self.assertEqual(lines[-1], "* bye", lines)

    def test_a_line_over_the_limit_is_refused_and_the_connection_goes_on(self):
        c = self.serve.chat()
        c.expect(r"^\* you are ")
        c.send("x" * 20000)
        c.expect(r"^! message too long")
        c.send("short one")
        c.expect(r"^\[\d\d:\d\d:\d\d\] guest-\d+: short one$")
        c.close()

    def test_invalid_utf8_is_refused_with_an_error_line(self):
        c = self.serve.chat()
        c.expect(r"^\* you are ")
        c.send(b"bad \xff\xfe bytes\n")
        c.expect(r"^! .*UTF-8")
        c.close()

    def test_commands_nick_join_who_rooms(self):
        c = self.serve.chat()
        c.expect(r"^\* you are ")
        c.send("/nick bob")
        c.expect(r"^\* guest-\d+ is now bob$")
        c.send("/nick not valid!")
        c.expect(r"^! .*not a valid name")
        c.send("/join ops")
        c.expect(r"^\* you are bob in ops$")
        c.send("/who")
        c.expect(r"^\* in ops \(1\): bob$")
        c.send("/rooms")
        c.expect(r"^\* ops: 1 online, 0 messages$")
        c.send("/frobnicate")
        c.expect(r"^! unknown command /frobnicate")
        c.send("last words\n/quit")  # the line is acknowledged before the bye
        c.expect(r"^\[\d\d:\d\d:\d\d\] bob: last words$")
        c.expect(r"^\* bye$")
        self.assertIsNone(c.line())  # the server closed
        c.close()

    @unittest.skipUnless(shutil.which("nc"), "needs nc (netcat-openbsd)")
    def test_names_that_differ_only_in_case_are_one_name_and_keep_their_spelling(self):
        first = NcLines(self.serve.chat_port)
        second = None
        try:
            first.expect(r"^\* you are ")
            first.send("/nick Alice")
            first.expect(r"^\* guest-\d+ is now Alice$")
            # Joined after Alice, so /who (in joining order) lists Alice first.
            second = NcLines(self.serve.chat_port)
            second.expect(r"^\* you are ")
            for other in ("alice", "ALICE", "aLiCe"):
                second.send("/nick " + other)
                second.expect(r"^! the name " + other + " is taken; choose another")
            second.send("/who")
            second.expect(r"^\* in lobby \(2\): Alice guest-\d+$")
            first.send("/nick ALICE")  # one's own name in another case
            first.expect(r"^\* Alice is now ALICE$")
        finally:
            first.close()
            if second is not None:
                second.close()

    def test_a_member_that_does_not_read_is_dropped_with_a_notice(self):
        # Flood control off: the fast member must outrun the slow one's buffers quickly.
        self.serve.close()
        self.serve = Serve("--chat-rate", "0")
        slow = ChatClient(("127.0.0.1", self.serve.chat_port), rcvbuf=4096)
        slow.expect(r"^\* you are ")
        fast = self.serve.chat()
        fast.expect(r"^\* you are ")
        text = "y" * 4000
        # The fast client reads its own lines (its acks) as it goes; the slow one reads
        # nothing until the end. Bounded: at most 3000 messages (12 MB).
        dropped = False
        baseline = rss_kib(self.serve.proc.pid)
        for i in range(3000):
            fast.send(f"{i} {text}")
            _, seen = fast.expect(rf"\] guest-\d+: {i} ")
            if any(re.match(r"^\* guest-\d+ left lobby$", l) for l in seen):
                dropped = True
                break
            if i % 100 == 99:
                grown = rss_kib(self.serve.proc.pid) - baseline
                # The slow member's queue is bounded (then it is dropped), not the 12 MB sent.
                self.assertLess(grown, 16 * 1024 + ASAN_SLACK_KIB,
                                "the server's memory grows with a slow reader")
        self.assertTrue(dropped, "the slow member was never dropped")
        lines = []
        while True:
            line = slow.line()
            if line is None:
                break
            lines.append(line)
        self.assertTrue(lines[-1].startswith("! too far behind"), lines[-1][:100])
        slow.close()
        fast.close()


class ServeChatIpv6(unittest.TestCase):
    def test_the_help_example_chat_on_ipv6_loopback_reaches_a_serve_bound_to_it(self):
        # `duplex chat [::1]:7000` (duplex chat --help) needs `duplex serve --bind ::1`.
        serve = Serve(bind="::1")
        try:
            self.assertIn(f"(duplex chat [::1]:{serve.chat_port},", serve.summary["chat"])
            r = subprocess.run([os.environ.get("DUPLEX", "duplex"), "chat", "--name", "six",
                                f"[::1]:{serve.chat_port}"], input="over ipv6\n",
                               capture_output=True, text=True, timeout=TIMEOUT)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"(?m)^\[\d\d:\d\d:\d\d\] six: over ipv6$")
        finally:
            serve.close()


if __name__ == "__main__":
    unittest.main()
