#!/usr/bin/env python3
"""`duplex serve` keeps a bounded history: --history-max N messages per room and
--history-max-age AGE, enforced by deleting the oldest rows; and --min-free SIZE refuses
posts with one clear line rather than filling the disk. Loopback only; every wait polls a
condition with a deadline."""
import os
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import TIMEOUT, Serve  # noqa: E402


def texts(db, room="lobby"):
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT text FROM messages WHERE room = ? ORDER BY id",
                                           (room,))]


def say(client, name, text):
    client.send(text)
    client.expect(rf"^\[\d\d:\d\d:\d\d\] {name}: {text}$")


class ServeRetention(unittest.TestCase):
    def joined(self, serve, name):
        c = serve.chat()
        c.expect(r"^\* you are ")
        c.send(f"/nick {name}")
        c.expect(rf"^\* guest-\d+ is now {name}$")
        return c

    def test_history_max_keeps_the_last_n_messages_of_each_room(self):
        serve = Serve("--history-max", "3")
        try:
            alice = self.joined(serve, "alice")
            for i in range(6):
                say(alice, "alice", f"m{i}")
            alice.send("/join ops")
            alice.expect(r"^\* you are alice in ops$")
            say(alice, "alice", "ops news")
            self.assertEqual(texts(serve.db), ["m3", "m4", "m5"])
            self.assertEqual(texts(serve.db, "ops"), ["ops news"])
            alice.send("/rooms")
            alice.expect(r"^\* lobby: 0 online, 3 messages$")
            alice.close()
        finally:
            serve.close()

    def test_history_max_age_deletes_old_messages_even_while_no_one_posts(self):
        serve = Serve("--history-max-age", "1s")
        try:
            alice = self.joined(serve, "alice")
            say(alice, "alice", "soon gone")
            deadline = time.monotonic() + TIMEOUT
            while texts(serve.db) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(texts(serve.db), [])
            alice.close()
        finally:
            serve.close()

    def test_min_free_above_the_free_space_refuses_posts_with_one_clear_line(self):
        serve = Serve("--min-free", "1048576GiB")  # 1 PiB: more than this disk has free
        try:
            alice = self.joined(serve, "alice")
            bob = self.joined(serve, "bob")
            alice.send("hello")
            m, seen = alice.expect(r"^! not stored: the disk holding (.+) has (\d+ [KMG]iB) "
                                   r"free, under --min-free 1048576 GiB$")
            self.assertEqual(m.group(1), serve.db)
            self.assertFalse([l for l in seen if "alice: hello" in l], seen)
            # Bob got nothing of it: his next line is his own.
            bob.send("/who")
            _, seen = bob.expect(r"^\* in lobby \(2\):")
            self.assertFalse([l for l in seen if "hello" in l], seen)
            self.assertEqual(texts(serve.db), [])
            alice.close()
            bob.close()
        finally:
            serve.close()


if __name__ == "__main__":
    unittest.main()
