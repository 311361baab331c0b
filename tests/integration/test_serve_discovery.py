#!/usr/bin/env python3
"""`duplex serve`'s UDP discovery responder: a probe datagram on loopback (unicast, or the
127.255.255.255 broadcast address) gets the JSON answer of chat_protocol.h by unicast."""
import json
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import Serve  # noqa: E402

PROBE = b"DUPLEX-DISCOVER 1\n".ljust(256, b" ")  # padded: the answer is never larger


class ServeDiscovery(unittest.TestCase):
    def setUp(self):
        self.serve = Serve()  # --discovery-port 0: any free port, named in the summary
        self.port = self.serve.discovery_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(20)
        self.sock.bind(("127.0.0.1", 0))

    def tearDown(self):
        self.sock.close()
        self.serve.close()

    def answer(self):
        data, peer = self.sock.recvfrom(2048)
        return json.loads(data), peer

    def test_no_discovery_turns_it_off(self):
        serve = Serve("--no-discovery")
        try:
            self.assertEqual(serve.summary["discovery"], "off")
        finally:
            serve.close()

    def test_a_unicast_probe_gets_the_json_answer(self):
        self.sock.sendto(PROBE, ("127.0.0.1", self.port))
        answer, peer = self.answer()
        self.assertEqual(peer[1], self.port)
        self.assertEqual(answer["service"], "duplex")
        self.assertEqual(answer["chat_port"], self.serve.chat_port)
        self.assertEqual(answer["http_port"], self.serve.http_port)
        self.assertFalse(answer["token_required"])
        self.assertEqual(answer["host"], socket.gethostname())

    def test_a_broadcast_probe_on_loopback_gets_the_answer(self):
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        self.sock.sendto(PROBE, ("127.255.255.255", self.port))
        answer, _ = self.answer()
        self.assertEqual(answer["chat_port"], self.serve.chat_port)

    def test_the_answer_is_no_larger_than_the_probe(self):
        self.sock.sendto(PROBE, ("127.0.0.1", self.port))
        data, _ = self.sock.recvfrom(2048)
        self.assertLessEqual(len(data), len(PROBE))

    def test_other_datagrams_are_not_answered(self):
        # The bare line would be answered with several times its size (amplification).
        self.sock.sendto(b"hello?\n", ("127.0.0.1", self.port))
        self.sock.sendto(b"DUPLEX-DISCOVER 1\n", ("127.0.0.1", self.port))
        self.sock.sendto(PROBE + b" ", ("127.0.0.1", self.port))
        self.sock.sendto(PROBE, ("127.0.0.1", self.port))
        answer, _ = self.answer()  # the first datagram back answers the probe
        self.assertEqual(answer["service"], "duplex")
        self.sock.setblocking(False)
        with self.assertRaises(BlockingIOError):
            self.sock.recvfrom(2048)  # and nothing else came (the answer came after the junk)


if __name__ == "__main__":
    unittest.main()
