#!/usr/bin/env python3
"""The TCP chat's token: `duplex serve` bound beyond loopback wants "/auth TOKEN" as the first
line of a chat connection, from nc, socat and `duplex chat --token` alike.

Whether the token is needed follows from the bind address, not from the peer's: a serve
bound to 0.0.0.0 asks it of every connection, its own loopback included. So the tests bind
0.0.0.0 and connect to 127.0.0.1; no traffic leaves the machine."""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import DUPLEX, TIMEOUT, ChatClient, NcLines, Serve  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from prerequisites import requires  # noqa: E402

TOKEN = "t0ken-for-tests"
STAMP = r"^\[\d\d:\d\d:\d\d\] "


def chat(port, *args, stdin="", env=None):
    """`duplex chat ... 127.0.0.1:port` with `stdin` piped in."""
    return subprocess.run([DUPLEX, "chat", *args, f"127.0.0.1:{port}"], input=stdin,
                          capture_output=True, text=True, timeout=TIMEOUT,
                          env={**os.environ, "NO_COLOR": "1", **(env or {})})


class ChatTokenBeyondLoopback(unittest.TestCase):
    def setUp(self):
        self.serve = Serve("--token", TOKEN, "--no-tls", bind="0.0.0.0")

    def tearDown(self):
        self.serve.close()

    def history(self):
        """The texts stored in lobby, read through the API with the token."""
        out = subprocess.run(["curl", "-s", "--max-time", "20", "-H", "Authorization: Bearer " + TOKEN,
                              f"http://127.0.0.1:{self.serve.http_port}/api/chat/history"],
                             capture_output=True, text=True, timeout=TIMEOUT, check=True).stdout
        return [m["text"] for m in json.loads(out)["messages"]]

    def say_as_member(self, text):
        member = ChatClient(("127.0.0.1", self.serve.chat_port))
        member.send("/auth " + TOKEN)
        member.expect(r"^\* you are ")
        member.send(text)
        member.expect(STAMP + r"guest-\d+: " + re.escape(text) + "$")
        return member

    def test_summary_tells_how_to_give_the_token(self):
        self.assertRegex(self.serve.summary["chat"],
                         r"\(duplex chat --token TOKEN 127\.0\.0\.1:\d+, or nc 127\.0\.0\.1 \d+ "
                         r"then /auth TOKEN; or any host above\)$")
        self.assertIn("the TCP chat /auth TOKEN as its first line", self.serve.summary["access"])

    @requires(shutil.which("nc"), "needs nc (netcat-openbsd)")
    def test_nc_without_the_token_gets_one_refusal_line_and_nothing_of_the_room(self):
        self.say_as_member("said before the stranger").close()
        r = subprocess.run(["nc", "-N", "127.0.0.1", str(self.serve.chat_port)],
                           input="hello from a stranger\n", capture_output=True, text=True,
                           timeout=TIMEOUT)
        lines = r.stdout.splitlines()
        self.assertEqual(lines, ["* this chat needs its token: send /auth TOKEN first",
                                 "! this chat needs its token: the first line must be /auth "
                                 "TOKEN (the token duplex serve printed); disconnected"])
        self.assertEqual(self.history(), ["said before the stranger"])

    @requires(shutil.which("socat"), "needs socat")
    def test_socat_with_a_wrong_token_is_refused_and_what_follows_is_not_said(self):
        self.say_as_member("said before the stranger").close()
        r = subprocess.run(["socat", "-t", "20", "-", f"TCP:127.0.0.1:{self.serve.chat_port}"],
                           input=f"/auth {TOKEN[:-1]}X\nintruder\n", capture_output=True,
                           text=True, timeout=TIMEOUT)
        self.assertEqual(r.stdout.splitlines()[-1], "! wrong token; disconnected", r.stdout)
        self.assertNotIn("said before", r.stdout)
        self.assertEqual(self.history(), ["said before the stranger"])

    @requires(shutil.which("nc"), "needs nc (netcat-openbsd)")
    def test_nc_with_the_right_token_chats_both_ways(self):
        nc = NcLines(self.serve.chat_port)
        member = None
        try:
            nc.expect(r"^\* this chat needs its token")
            nc.send("/auth " + TOKEN)
            nc.expect(r"^\* authenticated$")
            nc.expect(r"^\* you are guest-\d+ in lobby$")
            member = self.say_as_member("hello nc")
            nc.expect(STAMP + r"guest-\d+: hello nc$")
            nc.send("hello member")
            member.expect(STAMP + r"guest-\d+: hello member$")
        finally:
            nc.close()
            if member:
                member.close()
        self.assertEqual(self.history(), ["hello nc", "hello member"])

    def test_duplex_chat_with_the_token_chats_and_with_a_wrong_one_says_nothing(self):
        r = chat(self.serve.chat_port, "--token", TOKEN, "--name", "carol", stdin="hi from carol\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)" + STAMP + r"carol: hi from carol$")
        r = chat(self.serve.chat_port, stdin="from the environment\n", env={"DUPLEX_TOKEN": TOKEN})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)" + STAMP + r"guest-\d+: from the environment$")

        r = chat(self.serve.chat_port, "--token", "nope", "--name", "mallory", stdin="forged\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("wrong token; disconnected", r.stderr)
        self.assertNotIn("hi from carol", r.stdout)  # no history replayed to a stranger
        r = chat(self.serve.chat_port, stdin="no token at all\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--token TOKEN, or DUPLEX_TOKEN", r.stderr)
        self.assertEqual(self.history(), ["hi from carol", "from the environment"])


class ChatTokenOnLoopback(unittest.TestCase):
    def setUp(self):
        self.serve = Serve()

    def tearDown(self):
        self.serve.close()

    @requires(shutil.which("nc"), "needs nc (netcat-openbsd)")
    def test_plain_nc_needs_no_auth_and_duplex_chat_with_a_token_still_works(self):
        r = subprocess.run(["nc", "-N", "127.0.0.1", str(self.serve.chat_port)],
                           input="no auth here\n", capture_output=True, text=True,
                           timeout=TIMEOUT)
        self.assertRegex(r.stdout, r"(?m)" + STAMP + r"guest-\d+: no auth here$")
        self.assertNotIn("needs its token", r.stdout)
        r = chat(self.serve.chat_port, "--token", "anything", stdin="with a token\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("* this chat needs no token (it is bound to loopback)", r.stdout)
        self.assertRegex(r.stdout, r"(?m)" + STAMP + r"guest-\d+: with a token$")


if __name__ == "__main__":
    unittest.main()
