#!/usr/bin/env python3
"""`duplex listen` serving many clients: -k one after another, --exec/--sh-exec a program
per connection (no shell unless asked), --broker between real nc.openbsd clients,
--max-conns, --allow/--deny (also on the default [::] listener, whose IPv4 clients arrive as
::ffff:a.b.c.d and must meet the IPv4 rules). Loopback only; processes killed in a finally; every wait
bounded; nothing asserts timings. The binary comes from $DUPLEX."""
import errno
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_connect_listen import DUPLEX, TIMEOUT, Procs, start_listen, wait_ok  # noqa: E402


def read_until(stream, want, deadline=20.0):
    """Reads a pipe until `want` has arrived (or EOF or the deadline); returns the bytes."""
    got = b""
    end = time.monotonic() + deadline
    fd = stream.fileno()
    while want not in got and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            got += chunk
    return got


def exchange(port, data):
    """Sends data, half-closes, returns all bytes until the server's FIN."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        got = b""
        while chunk := s.recv(65536):
            got += chunk
        return got


def turned_away(port):
    """True when the server closes a connection that sent "hi" without answering: EOF, or
    a reset, since the kernel answers unread bytes at close() with RST (which may arrive
    before our own shutdown: ENOTCONN)."""
    try:
        return exchange(port, b"hi") == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except OSError as e:
        return e.errno == errno.ENOTCONN


def listen_on_any(procs, *args):
    """`duplex listen --json ARGS 0`: no ADDRESS, so the default [::] listener, which takes
    IPv4 clients as ::ffff:a.b.c.d."""
    p = procs.start([DUPLEX, "listen", "--json", *args, "0"], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    event = json.loads(p.stderr.readline())
    assert event["event"] == "listening" and event["local"].startswith("[::]:"), event
    return p, int(event["local"].rsplit(":", 1)[1])


def echoed(host, port):
    """True when an `--exec cat` server on host:port echoes our bytes; False when it turns
    us away."""
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT) as s:
            s.sendall(b"hi")
            s.shutdown(socket.SHUT_WR)
            got = b""
            while chunk := s.recv(100):
                got += chunk
            return got == b"hi"
    except (ConnectionResetError, BrokenPipeError):
        return False
    except OSError as e:
        if e.errno == errno.ENOTCONN:
            return False
        raise


def events_of(proc):
    return [json.loads(l) for l in proc.stderr.read().decode().splitlines() if l.startswith("{")]


class Serve(unittest.TestCase):
    def setUp(self):
        self.procs = Procs()

    def tearDown(self):
        self.procs.kill_all()

    def stop(self, proc):
        proc.send_signal(signal.SIGTERM)
        wait_ok(self, proc, "duplex listen after SIGTERM")

    def test_keep_open_serves_clients_one_after_another(self):
        listen, port = start_listen(self.procs, "-k", stdout=subprocess.PIPE)
        for word in (b"one\n", b"two\n", b"three\n"):
            client = self.procs.start(["nc.openbsd", "-N", "127.0.0.1", str(port)],
                                      stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
            client.stdin.write(word)
            client.stdin.close()
            wait_ok(self, client, "nc.openbsd")
        self.assertEqual(read_until(listen.stdout, b"three\n"), b"one\ntwo\nthree\n")
        self.stop(listen)

    def test_exec_runs_the_program_per_connection_at_the_same_time(self):
        listen, port = start_listen(self.procs, "-k", "--exec", "cat")
        socks = [socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
                 for _ in range(5)]
        try:
            # All five are open before any finishes: each has its own `cat`.
            for i, s in enumerate(socks):
                s.sendall(f"client {i}\n".encode())
            for i, s in enumerate(socks):
                self.assertEqual(s.recv(100), f"client {i}\n".encode())
        finally:
            for s in socks:
                s.close()
        self.stop(listen)

    def test_exec_splits_words_without_a_shell(self):
        listen, port = start_listen(self.procs, "--exec", "printf '%s|' $HOME 'a b' \"c d\"")
        self.assertEqual(exchange(port, b""), b"$HOME|a b|c d|")
        wait_ok(self, listen, "duplex listen --exec")

    def test_sh_exec_runs_the_command_through_sh(self):
        listen, port = start_listen(self.procs, "--sh-exec", "echo $((40+2))")
        self.assertEqual(exchange(port, b""), b"42\n")
        wait_ok(self, listen, "duplex listen --sh-exec")

    def test_exec_of_a_missing_program_exits_1_naming_it(self):
        listen, port = start_listen(self.procs, "--exec", "no-such-program-xyz")
        self.assertEqual(exchange(port, b""), b"")
        self.assertEqual(listen.wait(timeout=TIMEOUT), 1)
        self.assertIn(b"no-such-program-xyz", listen.stderr.read())

    def test_broker_relays_each_real_clients_bytes_to_all_others(self):
        listen, port = start_listen(self.procs, "--broker")
        clients = [self.procs.start(["nc.openbsd", "127.0.0.1", str(port)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                   for _ in range(3)]
        # Wait until the broker holds all three (its events say so).
        accepted = 0
        while accepted < 3:
            line = listen.stderr.readline()
            self.assertTrue(line, "duplex listen --broker exited")
            accepted += json.loads(line)["event"] == "accepted"
        clients[0].stdin.write(b"hello from 0\n")
        clients[0].stdin.flush()
        for c in clients[1:]:
            self.assertEqual(read_until(c.stdout, b"\n"), b"hello from 0\n")
        clients[2].stdin.write(b"and from 2\n")
        clients[2].stdin.flush()
        # The sender never hears itself: client 0 gets only client 2's line.
        self.assertEqual(read_until(clients[0].stdout, b"\n"), b"and from 2\n")
        self.assertEqual(read_until(clients[1].stdout, b"\n"), b"and from 2\n")
        self.stop(listen)

    def test_max_conns_closes_the_client_beyond_the_limit(self):
        listen, port = start_listen(self.procs, "--broker", "--max-conns", "1")
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as first, \
                socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as second:
            self.assertEqual(second.recv(10), b"")  # closed at once
            first.setblocking(False)
            with self.assertRaises(BlockingIOError):
                first.recv(10)  # still open: nothing to read, no EOF
        self.stop(listen)
        self.assertIn("refused", [e["event"] for e in events_of(listen)])

    def test_deny_closes_clients_in_the_prefix(self):
        listen, port = start_listen(self.procs, "-k", "--exec", "cat", "--deny", "127.0.0.0/8")
        self.assertTrue(turned_away(port))
        self.stop(listen)
        self.assertIn("denied", [e["event"] for e in events_of(listen)])

    def test_allow_serves_only_clients_in_the_list(self):
        listen, port = start_listen(self.procs, "-k", "--exec", "cat", "--allow", "10.0.0.0/8")
        self.assertTrue(turned_away(port))
        self.stop(listen)
        listen, port = start_listen(self.procs, "-k", "--exec", "cat",
                                    "--allow", "10.0.0.0/8,127.0.0.1")
        self.assertEqual(exchange(port, b"hi"), b"hi")
        self.stop(listen)

    def test_deny_of_an_ipv4_address_turns_that_client_of_the_default_listener_away(self):
        listen, port = listen_on_any(self.procs, "-k", "--exec", "cat", "--deny", "127.0.0.1")
        self.assertFalse(echoed("127.0.0.1", port))
        self.assertTrue(echoed("::1", port))  # the rule names 127.0.0.1 only
        self.stop(listen)
        denied = [e for e in events_of(listen) if e["event"] == "denied"]
        self.assertEqual(len(denied), 1, denied)

    def test_the_help_example_allow_list_serves_ipv4_and_ipv6_loopback_on_the_default_listener(
            self):
        listen, port = listen_on_any(self.procs, "-k", "--exec", "cat",
                                     "--allow", "127.0.0.0/8,::1/128")
        self.assertTrue(echoed("127.0.0.1", port))
        self.assertTrue(echoed("::1", port))
        self.stop(listen)

    def test_an_ipv4_allow_list_keeps_ipv6_loopback_out_of_the_default_listener(self):
        listen, port = listen_on_any(self.procs, "-k", "--exec", "cat", "--allow", "127.0.0.0/8")
        self.assertFalse(echoed("::1", port))
        self.assertTrue(echoed("127.0.0.1", port))
        self.stop(listen)

    def test_bad_allow_list_is_a_usage_error(self):
        p = subprocess.run([DUPLEX, "listen", "--allow", "10.0.0.0/33", "9000"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)
        self.assertIn("10.0.0.0/33", p.stderr)


if __name__ == "__main__":
    unittest.main()
