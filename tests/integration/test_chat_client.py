#!/usr/bin/env python3
"""`duplex chat` against a real `duplex serve` (fresh SQLite file, every port chosen by the
kernel) and plain nc in the same room: a line typed in one reaches the other, --name and
--room are applied, end of input and the server's close end the client in order, a refused
port is one line and status 1; `duplex chat --discover` finds the server by broadcast on
loopback (127.255.255.255). Loopback only; every wait has a deadline; nothing asserts
timings.

The binary comes from $DUPLEX (ctest sets it)."""
import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chat_peers import DUPLEX, TIMEOUT, Serve, serve_available, start, stop  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from prerequisites import requires  # noqa: E402

NC = "nc.openbsd"
STAMPED = r"^\[\d\d:\d\d:\d\d\] "


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args, input=None, env=None, timeout=TIMEOUT):
    return subprocess.run([DUPLEX, *args], input=input, capture_output=True, text=True,
                          timeout=timeout, env=env)


@requires(serve_available(), "duplex serve is not built yet")
class ChatWithServe(unittest.TestCase):
    def setUp(self):
        self.serve = Serve()
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            stop(p)
        self.serve.close()

    def nc(self, name, room=None):
        p = start([NC, self.serve.chat[0], str(self.serve.chat[1])])
        self.procs.append(p)
        p.out.expect(r"^\* you are ")
        p.stdin.write(f"/nick {name}\n")
        if room:
            p.stdin.write(f"/join {room}\n")
        p.stdin.flush()
        return p

    def chat(self, *args):
        p = start([DUPLEX, "chat", *args, self.serve.chat_address])
        self.procs.append(p)
        return p

    def say(self, p, line):
        p.stdin.write(line + "\n")
        p.stdin.flush()

    def test_a_line_typed_in_duplex_chat_reaches_nc_and_the_other_way_round(self):
        bob = self.nc("bob")
        alice = self.chat("--name", "alice")
        alice.out.expect(r"^\* you are ")
        # bob's rename reached the room once alice sees bob's line; say until it does.
        self.say(bob, "hello from nc")
        alice.out.expect(STAMPED + r"bob: hello from nc$")
        self.say(alice, "hello from duplex chat")
        bob.out.expect(STAMPED + r"alice: hello from duplex chat$")

    def test_name_and_room_are_sent_on_connect(self):
        watcher = self.nc("watcher", room="ops")
        watcher.out.expect(r"ops")
        carol = self.chat("--name", "carol", "--room", "ops")
        self.say(carol, "in ops")
        m = watcher.out.expect(STAMPED + r"(\S+): in ops$")
        self.assertEqual(m.group(1), "carol")

    def test_end_of_input_sends_the_rest_and_quit_and_exits_0_after_the_server_closes(self):
        r = subprocess.run([DUPLEX, "chat", "--name", "dave", self.serve.chat_address],
                           input="first\nlast line without newline", capture_output=True,
                           text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Each line came back stamped: the server stored it before it closed.
        self.assertRegex(r.stdout, r"(?m)" + STAMPED + r"dave: first$")
        self.assertRegex(r.stdout, r"(?m)" + STAMPED + r"dave: last line without newline$")

    def test_a_regular_file_on_stdin_is_said_line_by_line(self):
        with tempfile.TemporaryFile("w+") as f:  # epoll refuses regular files: read directly
            f.write("".join(f"line {i}\n" for i in range(50)))
            f.seek(0)
            r = subprocess.run([DUPLEX, "chat", "--name", "filer", self.serve.chat_address],
                               stdin=f, capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = [line.split(" ", 2)[2] for line in r.stdout.splitlines()
               if re.match(STAMPED + "filer: ", line)]
        self.assertEqual(got, [f"line {i}" for i in range(50)])

    def history(self, room="lobby"):
        host, port = self.serve.http
        with urllib.request.urlopen(f"http://{host}:{port}/api/chat/history?room={room}",
                                    timeout=TIMEOUT) as r:
            return [m["text"] for m in json.load(r)["messages"]]

    def test_a_taken_name_ends_the_client_with_the_servers_reason_and_status_1_unsaid(self):
        holder = self.nc("alice")
        holder.out.expect(r"is now alice$")
        r = run("chat", "--name", "alice", self.serve.chat_address, input="not as a guest\n")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertRegex(lines[0], r"^duplex chat: \S+: the name alice is taken; choose another")
        self.assertNotIn("not as a guest", self.history())

    def test_an_error_line_for_a_piped_line_ends_the_client_with_status_1(self):
        r = run("chat", self.serve.chat_address, input="bell \x07 in it\n")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"^duplex chat: \S+: message contains control characters")
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)

    def test_a_line_followed_by_join_is_acknowledged_although_the_client_moved(self):
        for stdin in ("before the move\n/join ops\n", "/join ops\nafter the move\n"):
            r = run("chat", "--name", "mover", self.serve.chat_address, input=stdin)
            self.assertEqual(r.returncode, 0, r.stderr)
            said = [line for line in stdin.splitlines() if not line.startswith("/")][0]
            self.assertRegex(r.stdout, r"(?m)" + STAMPED + "mover: " + said + "$")

    def test_the_server_stopping_ends_the_client_with_status_0(self):
        eve = self.chat("--name", "eve")
        eve.out.expect(r"^\* you are ")
        self.serve.proc.terminate()
        self.assertEqual(eve.wait(timeout=TIMEOUT), 0, eve.err.seen)

    def test_ctrl_c_leaves_at_once_with_status_0(self):
        frank = self.chat("--name", "frank")
        frank.out.expect(r"^\* you are ")
        frank.send_signal(signal.SIGINT)
        self.assertEqual(frank.wait(timeout=TIMEOUT), 0, frank.err.seen)

    def test_names_are_coloured_on_a_terminal_and_plain_under_no_color(self):
        for no_color, want_escape in ((None, True), ("1", False)):
            env = dict(os.environ)
            env.pop("NO_COLOR", None)
            if no_color:
                env["NO_COLOR"] = no_color
            master, slave = pty.openpty()
            p = subprocess.Popen([DUPLEX, "chat", "--name", "gina", self.serve.chat_address],
                                 stdin=subprocess.PIPE, stdout=slave, stderr=subprocess.PIPE,
                                 env=env)
            os.close(slave)
            p.stdin.write(b"coloured?\n")
            p.stdin.close()
            out = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the client closed the terminal's other end
                    break
                if not chunk:
                    break
                out += chunk
            os.close(master)
            self.assertEqual(p.wait(timeout=TIMEOUT), 0)
            p.stderr.close()
            self.assertIn(b"coloured?", out)
            self.assertEqual(b"\x1b[" in out, want_escape, out)

    def test_discover_finds_the_server_by_loopback_broadcast(self):
        r = run("chat", "--discover", "--broadcast", "127.255.255.255", "--discovery-port",
                str(self.serve.discovery), "--timeout", "2s", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        servers = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(len(servers), 1, r.stdout)
        self.assertEqual(servers[0]["chat_port"], self.serve.chat[1])
        self.assertEqual(servers[0]["http_port"], self.serve.http[1])
        self.assertEqual(servers[0]["address"], "127.0.0.1")
        self.assertEqual(servers[0]["dashboard"], f"http://127.0.0.1:{self.serve.http[1]}/")

    def test_discover_prints_one_human_line_per_server(self):
        r = run("chat", "--discover", "--broadcast", "127.255.255.255", "--discovery-port",
                str(self.serve.discovery), "--timeout", "2s")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1, r.stdout)
        self.assertTrue(lines[0].startswith(f"127.0.0.1:{self.serve.chat[1]}  "), lines[0])
        self.assertIn(f"http://127.0.0.1:{self.serve.http[1]}/", lines[0])

    def test_discover_connect_joins_the_first_server_found(self):
        watcher = self.nc("watcher2")
        r = run("chat", "--discover", "--broadcast", "127.255.255.255", "--discovery-port",
                str(self.serve.discovery), "--timeout", "5s", "--connect", "--name", "hank",
                input="found you\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        watcher.out.expect(STAMPED + r"hank: found you$")


class ChatWithoutServer(unittest.TestCase):
    def test_a_refused_port_is_one_line_naming_the_fix_and_status_1(self):
        r = run("chat", f"127.0.0.1:{free_port()}", input="")
        self.assertEqual(r.returncode, 1)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("ECONNREFUSED", lines[0])
        self.assertIn("duplex serve", lines[0])

    def test_the_client_speaks_lines_to_any_line_server_over_ipv6(self):
        with socket.socket(socket.AF_INET6) as ls:
            ls.bind(("::1", 0))
            ls.listen(1)
            ls.settimeout(TIMEOUT)
            p = start([DUPLEX, "chat", "--name", "ivy", "--room", "ops",
                       f"[::1]:{ls.getsockname()[1]}"])
            try:
                conn, _ = ls.accept()
                with conn:
                    conn.settimeout(TIMEOUT)
                    # As duplex serve grants --name and --room (stdin waits for that).
                    conn.sendall(b"* hello ivy\r\n* you are guest-1 in lobby\r\n"
                                 b"* guest-1 is now ivy\r\n* you are ivy in ops\r\n")
                    p.out.expect(r"^\* hello ivy$")
                    p.stdin.write("typed\n")
                    p.stdin.close()
                    got = b""
                    while b"/quit\n" not in got:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        got += chunk
                    self.assertEqual(got, b"/nick ivy\n/join ops\ntyped\n/quit\n")
                self.assertEqual(p.wait(timeout=TIMEOUT), 0, p.err.seen)
            finally:
                stop(p)

    def test_control_characters_from_the_server_never_reach_the_terminal(self):
        # A rogue server (or whoever answers --discover --connect first) must not drive the
        # terminal: OSC 52 writes the clipboard, CSI (also as C1 U+009B) clears the screen.
        with socket.socket() as ls:
            ls.bind(("127.0.0.1", 0))
            ls.listen(1)
            ls.settimeout(TIMEOUT)
            p = subprocess.Popen([DUPLEX, "chat", f"127.0.0.1:{ls.getsockname()[1]}"],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            try:
                conn, _ = ls.accept()
                with conn:
                    conn.sendall(b"* hi \x1b]52;c;SGk=\x07 there\n"
                                 b"[12:00:00] eve: \xc2\x9b2J boom \x7f\x1b[2J end\n")
                    conn.settimeout(TIMEOUT)
                    got = b""
                    while b"/quit\n" not in got:  # the client's end of input
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        got += chunk
                out, err = p.communicate(timeout=TIMEOUT)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.communicate()
        self.assertEqual(p.returncode, 0, err)
        for bad in (b"\x1b", b"\x07", b"\xc2\x9b", b"\x7f"):
            self.assertNotIn(bad, out)
        text = out.decode()
        self.assertIn("* hi \ufffd]52;c;SGk=\ufffd there\n", text)
        self.assertIn("eve: \ufffd2J boom \ufffd\ufffd[2J end\n", text)

    def test_discover_broadcasts_the_probe_and_lists_each_server_once(self):
        # A responder that speaks the contract of chat_protocol.h, bound to the wildcard
        # address as a server is, so that the loopback broadcast reaches it.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("0.0.0.0", 0))
            udp.settimeout(TIMEOUT)
            p = start([DUPLEX, "chat", "--discover", "--broadcast", "127.255.255.255",
                       "--discovery-port", str(udp.getsockname()[1]), "--timeout", "2s",
                       "--json"], stdin=subprocess.DEVNULL)
            try:
                probe, prober = udp.recvfrom(2048)
                self.assertEqual(probe, b"DUPLEX-DISCOVER 1\n".ljust(256, b" "))
                answer = json.dumps({"service": "duplex", "version": "9.9.9", "host": "box",
                                     "chat_port": 7777, "http_port": 8888,
                                     "token_required": True}).encode()
                udp.sendto(b"not json", prober)
                udp.sendto(b'{"service":"other","chat_port":1}', prober)
                udp.sendto(answer, prober)
                udp.sendto(answer, prober)  # the same server twice: listed once
                found = json.loads(p.out.expect(r"^\{.*").group(0))
                self.assertEqual(p.wait(timeout=TIMEOUT), 0, p.err.seen)
                self.assertEqual(p.out.rest(), [])
            finally:
                stop(p)
        self.assertEqual(found, {"address": "127.0.0.1", "chat": "127.0.0.1:7777",
                                 "chat_port": 7777, "host": "box", "version": "9.9.9",
                                 "http_port": 8888, "dashboard": "http://127.0.0.1:8888/",
                                 "token_required": True, "tls": False})

    def test_discover_with_nobody_answering_is_one_line_and_status_1(self):
        r = run("chat", "--discover", "--broadcast", "127.255.255.255", "--discovery-port",
                str(free_port(socket.SOCK_DGRAM)), "--timeout", "300ms")
        self.assertEqual(r.returncode, 1)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("no duplex serve answered within 0.3 s on udp port", lines[0])

    def test_bad_input_is_a_usage_error(self):
        for args in (["127.0.0.1:70000"], ["--name", "has space", "127.0.0.1"],
                     ["--timeout", "1s", "127.0.0.1"], ["--discover", "--timeout", "soon"],
                     ["--discover", "--broadcast", "not-an-address"]):
            r = run("chat", *args, input="")
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertEqual(len(r.stderr.splitlines()), 1, (args, r.stderr))

    def test_help_shows_examples_with_nc(self):
        r = run("chat", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--discover", r.stdout)
        self.assertIn("nc 127.0.0.1 7000", r.stdout)


if __name__ == "__main__":
    unittest.main()
