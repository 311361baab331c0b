"""Shared by the test_serve_* tests: a running `duplex serve` on free ports with its summary
parsed, line-oriented TCP chat clients (a socket, nc), and a minimal WebSocket client
(RFC 6455, text frames only). Every wait has a deadline; nothing asserts timings.

The binary comes from $DUPLEX (ctest sets it)."""
import base64
import json
import os
import queue
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

DUPLEX = os.environ.get("DUPLEX", "duplex")
TIMEOUT = 30


def free_port():
    """A TCP port of 127.0.0.1 that nothing listens on now (for a server the test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, what, timeout=TIMEOUT):
    """Polls `condition` until it returns something true, and returns that; AssertionError
    naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)  # a poll interval, not a wait for an event: the condition decides


class Serve:
    """`duplex serve` on free ports with its own database in a temporary directory."""

    def __init__(self, *args, db=None, bind=None, prefix=()):
        """prefix: a command that runs serve (e.g. setpriv dropping a capability)."""
        self.dir = tempfile.mkdtemp(prefix="duplex-serve-")
        self.db = db or os.path.join(self.dir, "chat.db")
        cmd = [*prefix, DUPLEX, "serve", "--port", "0", "--chat-port", "0", "--db", self.db]
        if "--discovery-port" not in args:
            cmd += ["--discovery-port", "0"]
        if bind:
            cmd += ["--bind", bind]
        self.proc = subprocess.Popen(cmd + list(args), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.summary = {}
        self.lines = []  # the summary as printed (a wildcard bind lists several URLs)
        deadline = time.monotonic() + TIMEOUT
        while "access" not in self.summary:
            line = self.proc.stdout.readline()
            if not line or time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError("serve did not start: " + self.proc.stderr.read())
            self.lines.append(line.rstrip("\n"))
            key, _, value = line.rstrip("\n").partition(" ")
            self.summary[key] = value.strip()
        m = re.match(r"https?://(.+):(\d+)/\?token=([0-9A-Za-z_.~-]+)$", self.summary["dashboard"])
        self.http_port = int(m.group(2))
        self.token = m.group(3)
        m = re.match(r"(?:tcp|tls) (.+?):(\d+) ", self.summary["chat"])
        self.chat_port = int(m.group(2))
        m = re.match(r"udp .+:(\d+)", self.summary["discovery"])
        self.discovery_port = int(m.group(1)) if m else None

    def chat(self):
        return ChatClient(("127.0.0.1", self.chat_port))

    def websocket(self, path="/ws/chat", headers=None):
        return WebSocket(("127.0.0.1", self.http_port), path, headers or {})

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("serve did not stop on " + signal.Signals(sig).name)
        return self.proc.returncode

    def close(self, keep_db=False):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        if not keep_db:
            shutil.rmtree(self.dir, ignore_errors=True)


class ChatClient:
    """A TCP chat client that reads whole lines."""

    def __init__(self, address, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(address)
        self.buf = b""
        self.eof = False

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n" if isinstance(line, str) else line)

    def line(self):
        """The next line (without its newline), or None at EOF."""
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                self.eof = True
                return None
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode("utf-8", "replace")

    def expect(self, pattern):
        """Lines until one matches the regex; AssertionError with what came instead."""
        seen = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            line = self.line()
            if line is None:
                break
            seen.append(line)
            m = re.search(pattern, line)
            if m:
                return m, seen
        raise AssertionError(f"no line matching {pattern!r}; saw {seen[-10:]}")

    def close(self):
        self.sock.close()


class NcLines:
    """nc as a chat client (to 127.0.0.1): lines in on stdin, lines out read on a thread.
    command: another netcat and its options, e.g. ("ncat", "--ssl")."""

    def __init__(self, port, command=("nc",)):
        self.name = command[0]
        self.proc = subprocess.Popen([*command, "127.0.0.1", str(port)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in iter(self.proc.stdout.readline, ""):
            self.lines.put(line.rstrip("\n"))

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def expect(self, pattern):
        seen = []
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                raise AssertionError(f"{self.name} saw no line matching {pattern!r}; saw {seen[-10:]}")
            seen.append(line)
            if re.search(pattern, line):
                return seen

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


class WebSocket:
    """A minimal client: handshake, masked text frames out, text frames in."""

    def __init__(self, address, path, headers):
        self.sock = socket.create_connection(address, timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n{extra}\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise AssertionError("connection closed during the handshake: " + repr(self.buf))
            self.buf += data
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1])

    def _read(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buf += data
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, obj):
        payload = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def receive(self):
        """The next text message as JSON; None on a Close frame."""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(n)
            opcode = b0 & 0x0F
            if opcode == 0x8:
                return None
            if opcode == 0x1:
                return json.loads(payload)

    def receive_all(self):
        """Every text message up to the Close frame, as JSON."""
        messages = []
        while (msg := self.receive()) is not None:
            messages.append(msg)
        return messages

    def expect(self, **fields):
        """Messages until one has all these fields; AssertionError with what came instead."""
        seen = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            msg = self.receive()
            if msg is None:
                break
            seen.append(msg)
            if all(msg.get(k) == v for k, v in fields.items()):
                return msg, seen
        raise AssertionError(f"no message with {fields}; saw {seen[-10:]}")

    def close(self):
        self.sock.close()
