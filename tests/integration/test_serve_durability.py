#!/usr/bin/env python3
"""`duplex serve` acknowledges a chat message only after its commit: kill -9 during a burst,
restart on the same database, and every acknowledged message is in the history."""
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import Serve  # noqa: E402

BURST = 5000


def stored_texts(db):
    """Every stored text, read by the sqlite3 CLI when there is one, else by Python's SQLite."""
    if shutil.which("sqlite3"):
        out = subprocess.run(["sqlite3", db, "SELECT text FROM messages"], capture_output=True,
                             text=True, timeout=60, check=True).stdout
        return set(out.splitlines())
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT text FROM messages")}


class ServeDurability(unittest.TestCase):
    def test_kill_9_during_a_burst_loses_no_acknowledged_message(self):
        # Flood control off: the burst is the point here (test_serve_flood.py tests the limit).
        serve = Serve("--chat-rate", "0")
        db = serve.db
        acked = []
        try:
            client = serve.chat()
            m, _ = client.expect(r"^\* you are (guest-\d+) in lobby$")
            name = m.group(1)
            enough = threading.Event()

            def read_acks():
                # Our own line coming back is the acknowledgement (chat_protocol.h).
                pattern = re.compile(rf"^\[\d\d:\d\d:\d\d\] {name}: (m-\d+)$")
                while True:
                    try:
                        line = client.line()
                    except OSError:
                        break
                    if line is None:
                        break
                    a = pattern.match(line)
                    if a:
                        acked.append(a.group(1))
                        if len(acked) >= 300:
                            enough.set()
                enough.set()

            reader = threading.Thread(target=read_acks, daemon=True)
            reader.start()

            def send_burst():
                try:
                    for i in range(BURST):
                        client.send(f"m-{i}")
                except OSError:
                    pass  # the server died under us: expected

            sender = threading.Thread(target=send_burst, daemon=True)
            sender.start()
            self.assertTrue(enough.wait(60), "no acknowledgements arrived")
            serve.proc.send_signal(signal.SIGKILL)
            serve.proc.wait(timeout=30)
            sender.join(30)
            reader.join(30)
            client.close()
            self.assertGreaterEqual(len(acked), 300)

            # Restart on the same file: it opens (WAL recovery) and replays the history.
            again = Serve(db=db)
            try:
                c = again.chat()
                _, seen = c.expect(r"^\* you are ")
                replay = [l for l in seen if re.match(r"^\[\d\d:\d\d:\d\d\] ", l)]
                self.assertEqual(len(replay), 100)
                c.close()
            finally:
                again.close()
            stored = stored_texts(db)
            missing = [t for t in acked if t not in stored]
            self.assertEqual(missing, [], f"{len(missing)} of {len(acked)} acknowledged "
                                          "messages are not in the database")
        finally:
            serve.close()

    def test_sigterm_stops_cleanly_with_status_0(self):
        serve = Serve()
        try:
            c = serve.chat()
            c.expect(r"^\* you are ")
            self.assertEqual(serve.stop(signal.SIGTERM), 0)
            self.assertIsNone(c.line())  # our connection was closed
            c.close()
        finally:
            serve.close()


if __name__ == "__main__":
    unittest.main()
