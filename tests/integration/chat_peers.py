"""Shared by the chat tests: a running `duplex serve` with its real ports, and line readers
for processes whose stdout is read while they run. Every wait has a deadline."""
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time

DUPLEX = os.environ.get("DUPLEX", "duplex")
TIMEOUT = 30


class Lines:
    """Reads a pipe line by line on a thread, so a test can wait for a line with a deadline."""

    def __init__(self, pipe):
        self.queue = queue.Queue()
        self.seen = []
        self.thread = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self.thread.start()

    def _pump(self, pipe):
        for line in iter(pipe.readline, ""):
            self.queue.put(line.rstrip("\r\n"))
        self.queue.put(None)

    def expect(self, pattern, timeout=TIMEOUT):
        """The first line (from here on) matching the regex `pattern`; AssertionError with
        what was seen instead when the deadline passes or the pipe ends."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            try:
                line = self.queue.get(timeout=max(left, 0.001))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} within {timeout} s; "
                                     f"saw {self.seen[-10:]}")
            if line is None:
                self.queue.put(None)  # stays ended for the next call
                raise AssertionError(f"output ended before a line matching {pattern!r}; "
                                     f"saw {self.seen[-10:]}")
            self.seen.append(line)
            m = re.search(pattern, line)
            if m:
                return m

    def rest(self, timeout=TIMEOUT):
        """Every line until the pipe ends."""
        out = []
        end = time.monotonic() + timeout
        while True:
            try:
                line = self.queue.get(timeout=max(end - time.monotonic(), 0.001))
            except queue.Empty:
                raise AssertionError(f"output did not end within {timeout} s; saw {out[-10:]}")
            if line is None:
                self.queue.put(None)
                return out
            self.seen.append(line)
            out.append(line)


def serve_available():
    r = subprocess.run([DUPLEX, "serve", "--help"], capture_output=True, text=True)
    return r.returncode == 0


class Serve:
    """`duplex serve` on loopback with every port chosen by the kernel and a fresh SQLite
    file; the ports are read from its start-up summary ("chat  tcp 127.0.0.1:PORT", ...)."""

    def __init__(self, *extra, ns=None, db_in=None, preexec_fn=None):
        """`db_in`: the directory for the SQLite file (default: a new one in $TMPDIR);
        `preexec_fn`: run in the child before exec (resource limits)."""
        self.dir = tempfile.mkdtemp(prefix="duplex-chat-", dir=db_in)
        argv = [DUPLEX, "serve", "--port", "0", "--chat-port", "0", "--discovery-port", "0",
                "--db", os.path.join(self.dir, "chat.db"), *extra]
        if ns:
            argv = ["ip", "netns", "exec", ns] + argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, preexec_fn=preexec_fn)
        self.err = Lines(self.proc.stderr)
        self.out = Lines(self.proc.stdout)
        self.chat = self.http = self.discovery = None
        end = time.monotonic() + TIMEOUT
        while self.chat is None or self.http is None or self.discovery is None:
            left = end - time.monotonic()
            if left <= 0:
                self.close()
                raise AssertionError(f"duplex serve printed no ports; stdout {self.out.seen}, "
                                     f"stderr {self.err.seen}")
            try:
                line = self.out.queue.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                self.close()
                raise AssertionError(f"duplex serve exited early: {self.err.seen}")
            self.out.seen.append(line)
            if m := re.search(r"\bchat\s+tcp\s+(\[[^\]]+\]|[^\s:]+):(\d+)", line):
                self.chat = (m.group(1).strip("[]"), int(m.group(2)))
            if m := re.search(r"\bdiscovery\s+udp\s+\S+:(\d+)", line):
                self.discovery = int(m.group(1))
            elif re.search(r"\bdiscovery\s+off\b", line):
                self.discovery = 0
            if m := re.search(r"http://(\[[^\]]+\]|[^\s:/]+):(\d+)", line):
                self.http = (m.group(1).strip("[]"), int(m.group(2)))

    @property
    def chat_address(self):
        host, port = self.chat
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for lines, pipe in ((self.out, self.proc.stdout), (self.err, self.proc.stderr)):
            lines.thread.join(timeout=5)
            pipe.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def start(argv, stdin=subprocess.PIPE, env=None):
    """A process whose stdout and stderr are read line by line (.out, .err)."""
    p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, bufsize=1, env=env)
    p.out = Lines(p.stdout)
    p.err = Lines(p.stderr)
    return p


def stop(p):
    """Kills `p` if it still runs, and closes its pipes once their readers are done."""
    if p.poll() is None:
        p.kill()
    p.wait()
    for lines in (p.out, p.err):
        lines.thread.join(timeout=5)
    for pipe in (p.stdin, p.stdout, p.stderr):
        if pipe:
            try:
                pipe.close()
            except OSError:  # BrokenPipeError flushing what the dead process never read
                pass
