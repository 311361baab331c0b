#!/usr/bin/env python3
"""`duplex serve --redis`: several serve nodes share rooms, history and presence through one
Redis server (src/duplex/apps/chat/chat_redis_feed.h). The test runs its own redis-server on
a free port in a temporary directory (appendonly yes, appendfsync always) and reads the
streams back with a small RESP client of its own. Every wait has a deadline."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import DUPLEX, TIMEOUT, Serve, free_port, wait_for  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from prerequisites import requires  # noqa: E402

REDIS_SERVER = shutil.which("redis-server")
MESSAGE = re.compile(r"^\[\d\d:\d\d:\d\d\] ([\w.-]+): (.*)$")


class Resp:
    """A minimal RESP2 client: one command at a time, replies as Python values."""

    def __init__(self, port, password=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.file = self.sock.makefile("rb")
        if password:
            self.run("AUTH", password)

    def run(self, *argv):
        out = b"*%d\r\n" % len(argv)
        for a in argv:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._read()

    def _read(self):
        line = self.file.readline()
        if not line:
            raise EOFError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.file.read(n + 2)[:-2]
            return data.decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise AssertionError("not RESP: " + repr(line))

    def texts(self, room):
        """The texts of a room's stream, in its order."""
        out = []
        for _id, fields in self.run("XRANGE", "duplex:room:" + room, "-", "+"):
            f = dict(zip(fields[::2], fields[1::2]))
            out.append(f["text"])
        return out

    def close(self):
        self.file.close()
        self.sock.close()


class RedisServer:
    """redis-server on a free loopback port, its data in a temporary directory."""

    def __init__(self, *extra):
        self.dir = tempfile.mkdtemp(prefix="duplex-redis-")
        self.port = free_port()
        self.extra = extra
        self.password = extra[extra.index("--requirepass") + 1] if "--requirepass" in extra else None
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--appendonly", "yes", "--appendfsync", "always", "--save", "",
             "--daemonize", "no", *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def answers():
            try:
                c = Resp(self.port, self.password)
                ok = c.run("PING") == "PONG"
                c.close()
                return ok
            except (OSError, EOFError, RuntimeError):
                return False
        wait_for(answers, "redis-server to answer PING")

    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def client(self):
        return Resp(self.port, self.password)

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Lines:
    """A TCP chat client whose lines a thread collects (messages, notices and errors)."""

    def __init__(self, serve, name=None):
        self.client = serve.chat()
        m, _ = self.client.expect(r"^\* you are ([\w.-]+) in lobby$")
        self.name = m.group(1)
        if name:
            self.client.send("/nick " + name)
            self.client.expect(rf"^\* {self.name} is now {name}$")
            self.name = name
        self.lines = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self):
        while True:
            try:
                line = self.client.line()
            except OSError:
                line = None
            with self.cond:
                if line is None:
                    self.lines.append(None)
                    self.cond.notify_all()
                    return
                self.lines.append(line)
                self.cond.notify_all()

    def texts(self):
        with self.cond:
            return [m.group(2) for l in self.lines if l and (m := MESSAGE.match(l))]

    def wait(self, predicate, what):
        with self.cond:
            if not self.cond.wait_for(lambda: predicate(self.lines), timeout=TIMEOUT):
                raise AssertionError(f"{self.name}: timed out waiting for {what}; "
                                     f"last lines {self.lines[-5:]}")

    def send(self, line):
        self.client.send(line)

    def close(self):
        self.client.close()


class WsLines:
    """A /ws/chat client whose messages a thread collects."""

    def __init__(self, serve, name):
        self.ws = serve.websocket()
        self.ws.expect(type="welcome")
        self.ws.expect(type="history")
        self.ws.send({"type": "hello", "name": name})
        self.ws.expect(type="welcome", name=name)
        self.name = name
        self.msgs = []
        self.cond = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        while True:
            try:
                msg = self.ws.receive()
            except (OSError, EOFError):
                msg = None
            with self.cond:
                self.msgs.append(msg)
                self.cond.notify_all()
            if msg is None:
                return

    def texts(self):
        with self.cond:
            return [m["text"] for m in self.msgs if m and m.get("type") == "message"]

    def wait_texts(self, n):
        with self.cond:
            if not self.cond.wait_for(lambda: len([m for m in self.msgs if m and m.get("type") == "message"]) >= n,
                                      timeout=TIMEOUT):
                raise AssertionError(f"ws {self.name}: {len(self.texts())} of {n} messages")

    def say(self, text, client_id):
        self.ws.send({"type": "say", "text": text, "client_id": client_id})

    def close(self):
        self.ws.close()


def status(serve):
    """GET /api/status of a node."""
    with urllib.request.urlopen(f"http://127.0.0.1:{serve.http_port}/api/status",
                                timeout=TIMEOUT) as r:
        return json.load(r)


def node(redis, *extra):
    """A serve node on `redis`; flood control off, since bursts are the point here."""
    return Serve("--redis", redis.url(), "--chat-rate", "0", *extra)


@requires(REDIS_SERVER, "needs redis-server (scripts/setup installs it)")
class ServeRedis(unittest.TestCase):
    def setUp(self):
        self.redis = RedisServer()
        self.nodes = []

    def tearDown(self):
        for n in self.nodes:
            n.close()
        self.redis.close()

    def start_node(self, *extra):
        n = node(self.redis, *extra)
        self.nodes.append(n)
        return n

    def test_three_nodes_deliver_every_message_once_in_one_order(self):
        nodes = [self.start_node() for _ in range(3)]
        self.assertIn("redis " + self.redis.url(), nodes[0].summary["history"])
        # Names of our choosing: guest names are given by each node, so two nodes can give
        # out one until their presence has been exchanged.
        tcp = [Lines(n, f"tcp{i}-{k}") for i, n in enumerate(nodes) for k in range(2)]
        ws = [WsLines(n, f"ws{i}") for i, n in enumerate(nodes)]
        # Presence: /who on the first node lists the members of every node.
        names = {c.name for c in tcp} | {w.name for w in ws}

        def who_lists_everyone():
            before = len(tcp[0].lines)
            tcp[0].send("/who")
            tcp[0].wait(lambda ls: any(l and l.startswith("* in lobby") for l in ls[before:]),
                        "/who")
            line = next(l for l in tcp[0].lines[before:] if l and l.startswith("* in lobby"))
            return names <= set(line.split(": ", 1)[1].split())
        wait_for(who_lists_everyone, "/who to list the members of all three nodes")
        # The dashboard's status names the feed and the other two nodes.
        wait_for(lambda: len(status(nodes[0])["history"]["nodes"]) == 2,
                 "/api/status to list the two other nodes")
        history = status(nodes[0])["history"]
        self.assertEqual((history["kind"], history["where"], history["connected"]),
                         ("redis", self.redis.url(), True))
        # Its own name is the one the other nodes list, and not among its own "nodes".
        others = status(nodes[1])["history"]["nodes"]
        self.assertIn(history["node"], others)
        self.assertNotIn(history["node"], history["nodes"])

        per_client = 15
        sent = []
        for i, c in enumerate(tcp):
            for k in range(per_client):
                sent.append(f"tcp{i}-{k}")
                c.send(sent[-1])
        for i, w in enumerate(ws):
            for k in range(per_client):
                sent.append(f"ws{i}-{k}")
                w.say(sent[-1], f"c{k}")
        total = len(sent)
        for c in tcp:
            c.wait(lambda ls: len([l for l in ls if l and MESSAGE.match(l)]) >= total,
                   f"{total} messages")
        for w in ws:
            w.wait_texts(total)

        r = self.redis.client()
        order = r.texts("lobby")
        r.close()
        self.assertEqual(sorted(order), sorted(sent), "the stream holds each post once")
        for c in tcp:
            self.assertEqual(c.texts(), order, f"{c.name}: not each message once, in order")
        for w in ws:
            self.assertEqual(w.texts(), order, f"ws {w.name}: not each message once, in order")

        # A node that stops takes its presence with it, without waiting for the expiry.
        r = self.redis.client()
        self.assertEqual(len(r.run("SMEMBERS", "duplex:nodes")), 3)
        self.assertEqual(nodes[2].stop(), 0)
        self.assertEqual(len(r.run("SMEMBERS", "duplex:nodes")), 2)
        r.close()

    def test_a_new_room_reaches_the_other_nodes_from_its_first_message(self):
        a, b = self.start_node(), self.start_node()
        alice, bob = Lines(a), Lines(b)
        bob.send("/join ops")
        bob.wait(lambda ls: "* you are " + bob.name + " in ops" in ls, "the join")
        alice.send("/join ops")
        alice.wait(lambda ls: "* you are " + alice.name + " in ops" in ls, "the join")
        alice.send("first in ops")
        bob.wait(lambda ls: any(l and l.endswith(": first in ops") for l in ls), "the message")
        self.assertEqual(bob.texts(), ["first in ops"])

    def test_kill_9_of_a_node_during_a_burst_loses_no_acknowledged_message(self):
        a, b = self.start_node(), self.start_node()
        sender, watcher = Lines(a), Lines(b)
        burst = 3000

        def send_burst():
            try:
                for i in range(burst):
                    sender.send(f"m-{i}")
            except OSError:
                pass  # the node died under us: expected
        threading.Thread(target=send_burst, daemon=True).start()
        # The sender's own line is its acknowledgement (chat_protocol.h).
        sender.wait(lambda ls: len([l for l in ls if l and MESSAGE.match(l)]) >= 300, "acks")
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(timeout=TIMEOUT)
        sender.wait(lambda ls: ls and ls[-1] is None, "the close")
        acked = sender.texts()
        self.assertGreaterEqual(len(acked), 300)

        r = self.redis.client()
        stored = r.texts("lobby")
        missing = [t for t in acked if t not in set(stored)]
        self.assertEqual(missing, [], f"{len(missing)} acknowledged messages not in the stream")
        # The other node delivered the stream as it is, each entry once.
        watcher.wait(lambda ls: len([l for l in ls if l and MESSAGE.match(l)]) >= len(stored),
                     "the whole stream")
        self.assertEqual(watcher.texts(), stored)
        # A client reconnecting (to a restarted node) gets the room's history.
        again = self.start_node()
        c = again.chat()
        _, seen = c.expect(r"^\* you are ")
        replay = [MESSAGE.match(l).group(2) for l in seen if MESSAGE.match(l)]
        self.assertEqual(replay, stored[-100:])
        c.close()
        r.close()

    def test_redis_restart_during_a_burst_refuses_then_resumes_without_gap(self):
        a, b = self.start_node(), self.start_node()
        sender, watcher = Lines(a), Lines(b)
        answers = {}  # text -> "ack" or the error line

        def post(text):
            """Sends one line and waits for its answer: its own line back, or '! ...'."""
            before = len(sender.lines)
            sender.send(text)
            sender.wait(lambda ls: any(l and (l.startswith("! ") or l.endswith(": " + text))
                                       for l in ls[before:]), "the answer to " + text)
            line = next(l for l in sender.lines[before:]
                        if l and (l.startswith("! ") or l.endswith(": " + text)))
            answers[text] = "ack" if line.endswith(": " + text) else line
            return answers[text]

        for i in range(50):
            post(f"before-{i}")
        # A burst from the other node, still going out when Redis dies.
        burster = Lines(b)
        burst = [f"burst-{i}" for i in range(2000)]
        threading.Thread(target=lambda: [burster.send(t) for t in burst], daemon=True).start()
        burster.wait(lambda ls: len([l for l in ls if l and MESSAGE.match(l)]) >= 100,
                     "100 acknowledgements of the burst")
        self.redis.kill()
        wait_for(lambda: not status(a)["history"]["connected"], "the status to say disconnected")
        self.assertRegex(status(a)["history"]["error"], r"\S")
        # Until the nodes notice, a post may go out on the dead connection and be refused
        # as not acknowledged; once they know, it is refused at once as not stored.
        i = 0
        deadline = time.monotonic() + TIMEOUT
        while not answers.get(f"down-{i - 1}", "").startswith("! not stored: Redis at"):
            self.assertLess(time.monotonic(), deadline, "posts were not refused while Redis "
                            "was down")
            post(f"down-{i}")
            i += 1
        down = [t for t in answers if t.startswith("down-")]
        self.assertTrue(all(answers[t] != "ack" for t in down), "a post was acknowledged "
                        "while Redis was down")
        self.redis.start()
        # Posts are taken again once the node has reconnected.
        i = 0
        deadline = time.monotonic() + TIMEOUT
        while answers.get(f"after-{i - 1}") != "ack":
            self.assertLess(time.monotonic(), deadline, "posts were still refused after Redis "
                            "came back")
            post(f"after-{i}")
            i += 1
        for k in range(50):
            post(f"more-{k}")
        # Every line of the burst got its answer: its own line back, or an error.
        burster.wait(lambda ls: len([l for l in ls if l and (MESSAGE.match(l) or
                                                             l.startswith("! "))]) >= len(burst),
                     "an answer to every line of the burst")
        acked = [t for t, v in answers.items() if v == "ack"] + burster.texts()
        self.assertGreaterEqual(len(burster.texts()), 100)

        r = self.redis.client()
        stored = r.texts("lobby")
        self.assertEqual([t for t in acked if t not in set(stored)], [],
                         "an acknowledged message did not survive the restart")
        self.assertEqual([t for t in down if answers[t].startswith("! not stored")
                          and t in set(stored)], [], "a refused post was stored")
        watcher.wait(lambda ls: len([l for l in ls if l and MESSAGE.match(l)]) >= len(stored),
                     "the whole stream")
        self.assertEqual(watcher.texts(), stored, "a gap or a duplicate in the delivery")
        r.close()


@requires(REDIS_SERVER, "needs redis-server (scripts/setup installs it)")
class ServeRedisRefusals(unittest.TestCase):
    def serve_fails(self, *args, env=None):
        p = subprocess.run([DUPLEX, "serve", "--port", "0", "--chat-port", "0",
                            "--no-discovery", "--db", os.devnull, *args],
                           capture_output=True, text=True, timeout=TIMEOUT, env=env)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        return p.returncode, lines[0]

    def test_unreachable_redis_at_start_is_one_line_and_exit_1(self):
        code, line = self.serve_fails("--redis", f"redis://127.0.0.1:{free_port()}")
        self.assertEqual(code, 1)
        self.assertRegex(line, r"cannot reach Redis at 127\.0\.0\.1:\d+ \(Connection refused\); "
                               r"start redis-server")

    def test_wrong_or_missing_password(self):
        redis = RedisServer("--requirepass", "s3cret")
        try:
            code, line = self.serve_fails("--redis", f"redis://:wrong@127.0.0.1:{redis.port}")
            self.assertEqual(code, 1)
            self.assertIn("refused the password", line)
            self.assertNotIn("wrong", line)  # the password is not echoed
            code, line = self.serve_fails("--redis", redis.url())
            self.assertEqual(code, 1)
            self.assertIn("needs a password", line)
            # The right one from the environment (kept out of ps): it starts.
            env = dict(os.environ, DUPLEX_REDIS_PASSWORD="s3cret")
            p = subprocess.Popen([DUPLEX, "serve", "--port", "0", "--chat-port", "0",
                                  "--no-discovery", "--redis", redis.url()],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env)
            try:
                first = p.stdout.readline()
                self.assertTrue(first.startswith("dashboard"), first)
            finally:
                p.kill()
                p.wait()
                p.stdout.close()
                p.stderr.close()
        finally:
            redis.close()

    def test_a_server_answering_garbage_is_not_taken_for_redis(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def answer():
            c, _ = listener.accept()
            c.recv(4096)
            c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            c.close()
        t = threading.Thread(target=answer, daemon=True)
        t.start()
        try:
            code, line = self.serve_fails(
                "--redis", f"redis://127.0.0.1:{listener.getsockname()[1]}")
            self.assertEqual(code, 1)
            self.assertIn("did not answer as Redis", line)
        finally:
            t.join(TIMEOUT)
            listener.close()

    def test_a_malformed_url_is_a_usage_error(self):
        for url, fragment in [("127.0.0.1:6379", "must start with redis://"),
                              ("redis://h:99999", "port '99999'"),
                              ("rediss://h:1", "TLS")]:
            code, line = self.serve_fails("--redis", url)
            self.assertEqual(code, 2, line)
            self.assertIn(fragment, line)
        code, line = self.serve_fails("--redis-maxlen", "5")
        self.assertEqual(code, 2)
        self.assertIn("needs --redis", line)


if __name__ == "__main__":
    unittest.main()
