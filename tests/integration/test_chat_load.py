#!/usr/bin/env python3
"""The chat room under load, for correctness only: 200 clients of one `duplex serve` (100
over the TCP chat port, 100 over WebSocket /ws/chat) share one room and exchange 10,000
messages through the benchmark's driver (bench/chat/load.mjs); every client must receive
every message, in order per sender, and no client may see an error. Loopback only; the
driver has its own deadline; nothing asserts timings (bench/chat/run measures them).

The binary comes from $DUPLEX (ctest sets it); node and tests/ws/node_modules (scripts/setup)
are needed, else the test is skipped (fails under CI=true: tests/prerequisites.py)."""
import json
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from chat_peers import Serve, serve_available  # noqa: E402
sys.path.insert(0, os.path.dirname(HERE))
from prerequisites import requires  # noqa: E402

DRIVER = os.path.join(ROOT, "bench", "chat", "load.mjs")
HAVE_WS = os.path.isdir(os.path.join(ROOT, "tests", "ws", "node_modules", "ws"))
TCP_CLIENTS, WS_CLIENTS, MESSAGES = 100, 100, 10000


@requires(serve_available(), "duplex serve is not built yet")
@requires(shutil.which("node") and HAVE_WS,
                     "node or tests/ws/node_modules is missing; run scripts/setup")
class ChatLoad(unittest.TestCase):
    def test_every_client_gets_every_message_in_order_per_sender(self):
        serve = Serve()
        try:
            r = subprocess.run(
                ["node", DRIVER, "--tcp", serve.chat_address,
                 "--ws", f"ws://{serve.http[0]}:{serve.http[1]}/ws/chat",
                 "--tcp-clients", str(TCP_CLIENTS), "--ws-clients", str(WS_CLIENTS),
                 "--messages", str(MESSAGES), "--timeout", "240"],
                capture_output=True, text=True, timeout=300)
        finally:
            serve.close()
        self.assertTrue(r.stdout.strip(), r.stderr)
        summary = json.loads(r.stdout.strip().splitlines()[-1])
        self.assertEqual(summary["errors"], [])
        self.assertTrue(summary["ok"])
        self.assertEqual(r.returncode, 0)
        # Each of the 200 clients got all 10,000 (their own included).
        self.assertEqual(summary["deliveries"], (TCP_CLIENTS + WS_CLIENTS) * MESSAGES)


if __name__ == "__main__":
    unittest.main()
