#!/usr/bin/env python3
"""`duplex connect -u` and `duplex listen -u`: several peers at once against one listener
(each served, told apart by address: ncat serves only the first), real nc.openbsd, ncat
and socat peers, broadcast to 127.255.255.255 and multicast on lo; plus --hex and -z.
Loopback only; processes killed in a finally; every wait bounded; no timing asserted."""
import json
import os
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_connect_listen import DUPLEX, TIMEOUT, Procs, free_port, wait_ok  # noqa: E402
from test_connect_listen_serve import listen_on_any, read_until  # noqa: E402


def start_udp_listen(procs, *args, host="127.0.0.1"):
    p = procs.start([DUPLEX, "listen", "-u", "--json", *args, host, "0"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    event = json.loads(p.stderr.readline())
    assert event["event"] == "listening", event
    return p, int(event["local"].rsplit(":", 1)[1])


class Udp(unittest.TestCase):
    def setUp(self):
        self.procs = Procs()

    def tearDown(self):
        self.procs.kill_all()

    def test_listen_serves_several_peers_at_once_by_address(self):
        listen, port = start_udp_listen(self.procs)
        peers = []
        try:
            for i in range(5):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.settimeout(TIMEOUT)
                s.sendto(f"peer {i}\n".encode(), ("127.0.0.1", port))
                peers.append(s)
            got = b""
            for i in range(5):
                if f"peer {i}\n".encode() not in got:
                    got += read_until(listen.stdout, f"peer {i}\n".encode())
            for i in range(5):
                self.assertIn(f"peer {i}\n".encode(), got)
            # One read of stdin goes to every peer seen, not only the first.
            listen.stdin.write(b"to all\n")
            listen.stdin.flush()
            for s in peers:
                self.assertEqual(s.recv(100), b"to all\n")
        finally:
            for s in peers:
                s.close()

    def test_deny_of_an_ipv4_address_ignores_that_peer_of_the_default_listener(self):
        listen, port = listen_on_any(self.procs, "-u", "--deny", "127.0.0.1")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as v4, \
                socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as v6:
            v4.sendto(b"from v4\n", ("127.0.0.1", port))
            v6.sendto(b"from v6\n", ("::1", port))
        # Datagrams are read in order: once the second is out, the first was judged.
        got = read_until(listen.stdout, b"from v6\n")
        self.assertEqual(got, b"from v6\n")
        denied = json.loads(read_until(listen.stderr, b"\n").splitlines()[0])
        self.assertEqual(denied["event"], "denied", denied)
        self.assertIn("127.0.0.1", denied["peer"])

    def test_the_help_example_allow_list_takes_ipv4_datagrams_on_the_default_listener(self):
        listen, port = listen_on_any(self.procs, "-u", "--allow", "127.0.0.0/8,::1/128")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as v4:
            v4.sendto(b"from v4\n", ("127.0.0.1", port))
        self.assertEqual(read_until(listen.stdout, b"from v4\n"), b"from v4\n")

    def test_listen_serves_real_peers_at_once(self):
        listen, port = start_udp_listen(self.procs)
        clients = {
            "nc.openbsd": ["nc.openbsd", "-u", "127.0.0.1", str(port)],
            "ncat": ["ncat", "-u", "127.0.0.1", str(port)],
            "socat": ["socat", "-", f"UDP:127.0.0.1:{port}"],
        }
        procs = {}
        for name, argv in clients.items():
            procs[name] = self.procs.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            procs[name].stdin.write(f"hello from {name}\n".encode())
            procs[name].stdin.flush()
        seen = b""
        for name in clients:
            if f"hello from {name}\n".encode() not in seen:
                seen += read_until(listen.stdout, f"hello from {name}\n".encode())
        for name in clients:
            self.assertIn(f"hello from {name}\n".encode(), seen)
        listen.stdin.write(b"welcome\n")
        listen.stdin.flush()
        for name, p in procs.items():
            self.assertEqual(read_until(p.stdout, b"\n"), b"welcome\n", name)

    def test_connect_sends_stdin_and_prints_the_reply(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as srv:
            srv.bind(("127.0.0.1", 0))
            srv.settimeout(TIMEOUT)
            client = self.procs.start(
                [DUPLEX, "connect", "-u", "127.0.0.1", str(srv.getsockname()[1])],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            client.stdin.write(b"ping\n")
            client.stdin.flush()
            data, peer = srv.recvfrom(100)
            self.assertEqual(data, b"ping\n")
            srv.sendto(b"pong\n", peer)
            self.assertEqual(read_until(client.stdout, b"pong\n"), b"pong\n")
            client.stdin.close()  # then the session ends after --quit-after (1 s)
            wait_ok(self, client, "duplex connect -u")

    def test_broadcast_to_127_255_255_255_reaches_the_listener(self):
        port = free_port()
        listen = self.procs.start([DUPLEX, "listen", "-u", "--json", "--broadcast", "-4",
                                   str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.assertEqual(json.loads(listen.stderr.readline())["event"], "listening")
        client = self.procs.start([DUPLEX, "connect", "-u", "--broadcast", "-q", "0.2",
                                   "127.255.255.255", str(port)], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL)
        client.stdin.write(b"anyone?\n")
        client.stdin.close()
        wait_ok(self, client, "duplex connect --broadcast")
        self.assertEqual(read_until(listen.stdout, b"anyone?\n"), b"anyone?\n")

    def test_multicast_on_lo_reaches_the_group_member(self):
        port = free_port()
        listen = self.procs.start([DUPLEX, "listen", "-u", "--json", "--multicast", "239.7.7.7",
                                   "--interface", "lo", str(port)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(json.loads(listen.stderr.readline())["event"], "listening")
        client = self.procs.start([DUPLEX, "connect", "-u", "--multicast", "239.7.7.7",
                                   "--interface", "lo", "--ttl", "1", "-q", "0.2", str(port)],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        client.stdin.write(b"group hello\n")
        client.stdin.close()
        wait_ok(self, client, "duplex connect --multicast")
        self.assertEqual(read_until(listen.stdout, b"group hello\n"), b"group hello\n")

    def test_multicast_needs_a_group_address(self):
        p = subprocess.run([DUPLEX, "listen", "-u", "--multicast", "10.0.0.1", "9000"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 2)
        self.assertIn("not a multicast group", p.stderr)


class HexAndZeroIo(unittest.TestCase):
    def setUp(self):
        self.procs = Procs()

    def tearDown(self):
        self.procs.kill_all()

    def test_hex_dumps_both_directions_with_offset_and_ascii(self):
        with socket.socket() as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen()
            srv.settimeout(TIMEOUT)
            client = self.procs.start(
                [DUPLEX, "connect", "--hex", "127.0.0.1", str(srv.getsockname()[1])],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            conn, _ = srv.accept()
            with conn:
                client.stdin.write(b"GET / HTTP/1.1\r\n")
                client.stdin.close()
                while conn.recv(100):
                    pass
                conn.sendall(b"OK")
            wait_ok(self, client, "duplex connect --hex")
        lines = client.stderr.read().decode().splitlines()
        self.assertIn("> 00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  "
                      "|GET / HTTP/1.1..|", lines)
        self.assertTrue(any(l.startswith("< 00000000  4f 4b") and l.endswith("|OK|")
                            for l in lines), lines)

    def test_zero_io_reports_open_and_closed_ports_of_a_range(self):
        with socket.socket() as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen()
            open_port = srv.getsockname()[1]
            first = max(1, open_port - 2)
            p = subprocess.run([DUPLEX, "connect", "-z", "127.0.0.1",
                                f"{first}-{open_port}"], capture_output=True, text=True,
                               timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0)
        states = dict(l.split()[1:] for l in p.stdout.splitlines())
        self.assertEqual(states[str(open_port)], "open")
        self.assertEqual(len(states), open_port - first + 1)

    def test_zero_io_exits_1_when_nothing_is_open(self):
        port = free_port()
        p = subprocess.run([DUPLEX, "connect", "-z", "127.0.0.1", str(port)],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout.split(), ["127.0.0.1", str(port), "closed"])

    def test_zero_io_udp_reports_a_bound_udp_port_open_and_says_open_filtered(self):
        # A UDP socket that never answers, on a port where nothing listens over TCP: a TCP
        # probe would say closed.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as srv:
            srv.bind(("127.0.0.1", 0))
            port = srv.getsockname()[1]
            p = subprocess.run([DUPLEX, "connect", "-z", "-u", "-v", "-w", "0.5", "127.0.0.1",
                                str(port)], capture_output=True, text=True, timeout=TIMEOUT)
            # The probe, one empty datagram, is queued by now (loopback delivers at send).
            srv.setblocking(False)
            self.assertEqual(srv.recv(10), b"")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), ["127.0.0.1", str(port), "open"])
        self.assertIn("open|filtered", p.stderr)

    def test_zero_io_udp_reports_closed_by_icmp_port_unreachable(self):
        # A TCP listener and no UDP socket on the port: a TCP probe would say open.
        with socket.socket() as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen()
            port = srv.getsockname()[1]
            p = subprocess.run([DUPLEX, "connect", "-z", "-u", "-w", "5", "127.0.0.1", str(port)],
                               capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stdout.split(), ["127.0.0.1", str(port), "closed"])

    def test_zero_io_udp_reports_an_answering_port_open_in_json(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as srv:
            srv.bind(("127.0.0.1", 0))
            srv.settimeout(TIMEOUT)
            port = srv.getsockname()[1]
            p = self.procs.start([DUPLEX, "connect", "-z", "-u", "--json", "-w", "20",
                                  "127.0.0.1", str(port)], stdout=subprocess.PIPE, text=True)
            _, peer = srv.recvfrom(10)
            srv.sendto(b"answer", peer)
            out, _ = p.communicate(timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(json.loads(out), {"address": "127.0.0.1", "port": port, "state": "open",
                                           "protocol": "udp", "answered": True})

    def test_connect_udp_to_a_closed_port_exits_1_like_ncat(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        # Closed again: the kernel answers datagrams to it with ICMP port unreachable.
        ours = subprocess.run([DUPLEX, "connect", "-u", "127.0.0.1", str(port)],
                              input=b"hello\n", capture_output=True, timeout=TIMEOUT)
        ncat = subprocess.run(["ncat", "-u", "127.0.0.1", str(port)], input=b"hello\n",
                              capture_output=True, timeout=TIMEOUT)
        self.assertEqual(ncat.returncode, 1)  # the reference: "Ncat: Connection refused."
        self.assertEqual(ours.returncode, 1, ours.stderr)
        err = ours.stderr.decode()
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("Connection refused", err)
        self.assertIn(f"127.0.0.1:{port}", err)

    def test_backwards_port_range_is_a_usage_error(self):
        p = subprocess.run([DUPLEX, "connect", "-z", "127.0.0.1", "8010-8000"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 2)
        self.assertIn("8010-8000", p.stderr)


if __name__ == "__main__":
    unittest.main()
