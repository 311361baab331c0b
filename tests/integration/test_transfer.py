#!/usr/bin/env python3
"""`duplex send` and `duplex receive`, the real binary on loopback: a tree with odd names
arrives byte for byte with its modes; a sender killed with SIGKILL mid-file leaves a part
that the next transfer resumes (the JSON says where); the roles reversed (send -l, receive
HOST PORT); over TLS with --pin, and refused without it; a file that exists with other
bytes is left alone without --overwrite. Real peers that do not speak the protocol: nc
sending text to `receive` gets one error line back, and `send` to an `nc -l` that never
answers gives up at --timeout. Bad input: one line and the documented exit status.

Every wait is bounded (a process timeout or a deadline on a condition); nothing sleeps.
The binary comes from $DUPLEX (ctest sets it). Under CI=true a missing nc fails."""
import filecmp
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from prerequisites import requires  # noqa: E402
from test_perf import wait_for  # noqa: E402

DUPLEX = os.environ.get("DUPLEX", "duplex")
TIMEOUT = 60


class Proc:
    """A duplex process whose stdout (JSON lines) and stderr go to files in `tmp`."""

    count = 0

    def __init__(self, test, argv, env=None):
        Proc.count += 1
        self.out_path = os.path.join(test.tmp, f"p{Proc.count}.out")
        self.err_path = os.path.join(test.tmp, f"p{Proc.count}.err")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([DUPLEX, *argv], stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL, env=env or test.env)
        test.addCleanup(self.stop)

    def events(self):
        with open(self.out_path) as f:
            return [json.loads(line) for line in f if line.startswith("{")]

    def stderr(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def port(self):
        """The port of a --json listener, once it says it listens."""
        found = wait_for(lambda: [e for e in self.events() if e.get("event") == "listening"]
                         or self.proc.poll() is not None, "the listening line")
        if found is True:
            raise AssertionError("it ended first: " + self.stderr())
        return found[0]["port"]

    def wait(self):
        return self.proc.wait(TIMEOUT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def run(test, argv, env=None):
    return subprocess.run([DUPLEX, *argv], capture_output=True, text=True, timeout=TIMEOUT,
                          env=env or test.env)


class Transfer(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="duplex-transfer-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.env = dict(os.environ, XDG_DATA_HOME=os.path.join(self.tmp, "data"))
        self.src = os.path.join(self.tmp, "src")
        self.dst = os.path.join(self.tmp, "dst")
        os.makedirs(self.dst)

    def write(self, rel, data, mode=None):
        path = os.path.join(self.src, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        if mode is not None:
            os.chmod(path, mode)
        return path

    def receiver(self, *flags):
        return Proc(self, ["receive", "-p", "0", "--bind", "127.0.0.1", "--json", "--dir",
                           self.dst, *flags])

    def assert_same_tree(self, left, right):
        cmp = filecmp.dircmp(left, right)
        self.assertEqual((cmp.left_only, cmp.right_only, cmp.diff_files), ([], [], []))
        for name in cmp.common_files:
            self.assertTrue(filecmp.cmp(os.path.join(left, name), os.path.join(right, name),
                                        shallow=False), name)
        for sub in cmp.common_dirs:
            self.assert_same_tree(os.path.join(left, sub), os.path.join(right, sub))

    def test_a_tree_arrives_byte_for_byte_with_its_modes(self):
        self.write("tree/big.bin", os.urandom(24 << 20))
        self.write("tree/with space/ünïcödé.txt", "héllo\n".encode())
        self.write("tree/run.sh", b"#!/bin/sh\necho hi\n", 0o750)
        self.write("tree/empty", b"")
        recv = self.receiver()
        sent = run(self, ["send", "--json", "127.0.0.1", str(recv.port()),
                          os.path.join(self.src, "tree")])
        self.assertEqual(sent.returncode, 0, sent.stderr)
        self.assertEqual(recv.wait(), 0, recv.stderr())
        self.assert_same_tree(os.path.join(self.src, "tree"), os.path.join(self.dst, "tree"))
        self.assertEqual(os.stat(os.path.join(self.dst, "tree/run.sh")).st_mode & 0o777, 0o750)
        end = [e for e in recv.events() if e["event"] == "end"][0]
        self.assertEqual((end["ok"], end["files"]), (True, 4))
        files = [json.loads(line) for line in sent.stdout.splitlines()]
        self.assertEqual(sorted(e["path"] for e in files if e["event"] == "file"),
                         ["tree/big.bin", "tree/empty", "tree/run.sh",
                          "tree/with space/ünïcödé.txt"])

    def test_a_sender_killed_mid_file_is_resumed_by_the_next_transfer(self):
        data = os.urandom(16 << 20)
        path = self.write("movie.bin", data)
        part = os.path.join(self.dst, ".movie.bin.duplex-part")
        recv = self.receiver()
        port = recv.port()
        sender = Proc(self, ["send", "--limit-rate", "4M", "--json", "127.0.0.1", str(port), path])
        wait_for(lambda: os.path.exists(part) and os.path.getsize(part) > (1 << 20),
                 "a megabyte in the part file")
        sender.proc.send_signal(signal.SIGKILL)
        sender.wait()
        self.assertEqual(recv.wait(), 1)
        self.assertIn("kept and resumed next time", recv.stderr() + json.dumps(recv.events()))
        kept = os.path.getsize(part)
        self.assertGreater(kept, 1 << 20)

        recv = self.receiver()
        sent = run(self, ["send", "--json", "127.0.0.1", str(recv.port()), path])
        self.assertEqual(sent.returncode, 0, sent.stderr)
        self.assertEqual(recv.wait(), 0, recv.stderr())
        got = [e for e in recv.events() if e["event"] == "file"][0]
        self.assertEqual(got["resumed_at"], kept)
        with open(os.path.join(self.dst, "movie.bin"), "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertFalse(os.path.exists(part))

        # Once more: the receiver has the same bytes, nothing crosses.
        recv = self.receiver()
        sent = run(self, ["send", "127.0.0.1", str(recv.port()), path])
        self.assertEqual(sent.returncode, 0, sent.stderr)
        self.assertIn("nothing to move", sent.stdout)
        self.assertEqual(recv.wait(), 0, recv.stderr())

    def test_without_k_a_second_connection_is_refused_and_the_first_goes_on(self):
        data = os.urandom(3 << 20)
        path = self.write("slow.bin", data)
        part = os.path.join(self.dst, ".slow.bin.duplex-part")
        recv = self.receiver()
        port = recv.port()
        sender = Proc(self, ["send", "--limit-rate", "2M", "127.0.0.1", str(port), path])
        wait_for(lambda: os.path.exists(part), "the transfer under way")
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as stray:
            stray.settimeout(TIMEOUT)
            self.assertEqual(stray.recv(100), b"", "the second connection is closed")
        self.assertEqual(sender.wait(), 0, sender.stderr())
        self.assertEqual(recv.wait(), 0, recv.stderr())
        self.assertIn("one transfer at a time", recv.stderr())
        with open(os.path.join(self.dst, "slow.bin"), "rb") as f:
            self.assertEqual(f.read(), data)

    def test_the_sender_can_listen_and_the_receiver_connect(self):
        path = self.write("a.txt", b"from a listening sender\n")
        sender = Proc(self, ["send", "-l", "-p", "0", "--bind", "127.0.0.1", "--json", path])
        got = run(self, ["receive", "127.0.0.1", str(sender.port()), "--dir", self.dst])
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertIn("received a.txt", got.stdout)
        self.assertEqual(sender.wait(), 0, sender.stderr())
        self.assertTrue(filecmp.cmp(path, os.path.join(self.dst, "a.txt"), shallow=False))

    @requires(shutil.which("openssl"), "openssl is missing: run scripts/setup")
    def test_tls_with_the_receivers_pin_and_refused_without_it(self):
        path = self.write("secret.txt", b"over TLS\n")
        recv = self.receiver("--tls", "-k")
        port = recv.port()
        pin = wait_for(lambda: [e for e in recv.events() if "sha256" in e], "the fingerprint")
        fingerprint = pin[0]["sha256"]
        refused = run(self, ["send", "--tls", "127.0.0.1", str(port), path])
        self.assertEqual(refused.returncode, 1)
        self.assertEqual(len(refused.stderr.strip().splitlines()), 1, refused.stderr)
        sent = run(self, ["send", "--tls", "--pin", fingerprint, "127.0.0.1", str(port), path])
        self.assertEqual(sent.returncode, 0, sent.stderr)
        wait_for(lambda: os.path.exists(os.path.join(self.dst, "secret.txt")), "the file")
        with open(os.path.join(self.dst, "secret.txt"), "rb") as f:
            self.assertEqual(f.read(), b"over TLS\n")

    def test_other_bytes_under_the_same_name_are_left_alone_without_overwrite(self):
        path = self.write("notes.txt", b"new notes\n")
        with open(os.path.join(self.dst, "notes.txt"), "wb") as f:
            f.write(b"old notes\n")
        recv = self.receiver()
        sent = run(self, ["send", "127.0.0.1", str(recv.port()), path])
        self.assertEqual(sent.returncode, 1)
        self.assertIn("--overwrite", sent.stderr)
        self.assertEqual(recv.wait(), 1)
        with open(os.path.join(self.dst, "notes.txt"), "rb") as f:
            self.assertEqual(f.read(), b"old notes\n")
        recv = self.receiver("--overwrite")
        sent = run(self, ["send", "127.0.0.1", str(recv.port()), path])
        self.assertEqual(sent.returncode, 0, sent.stderr)
        self.assertEqual(recv.wait(), 0, recv.stderr())
        with open(os.path.join(self.dst, "notes.txt"), "rb") as f:
            self.assertEqual(f.read(), b"new notes\n")

    @requires(shutil.which("nc"), "nc is missing: run scripts/setup")
    def test_nc_sending_text_is_told_in_one_line(self):
        recv = self.receiver()
        nc = subprocess.run(["nc", "-N", "127.0.0.1", str(recv.port())], input=b"hello\n",
                            capture_output=True, timeout=TIMEOUT)
        self.assertIn(b"does not speak duplex transfer", nc.stdout)
        self.assertEqual(recv.wait(), 1)
        end = [e for e in recv.events() if e["event"] == "end"][0]
        self.assertIn("does not speak duplex transfer (it began with 'hello", end["error"])
        self.assertEqual(os.listdir(self.dst), [])

    @requires(shutil.which("nc"), "nc is missing: run scripts/setup")
    def test_send_to_an_nc_that_never_answers_gives_up_at_the_timeout(self):
        path = self.write("x.txt", b"x")
        listener = subprocess.Popen(["nc", "-l", "127.0.0.1", "0"], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, stdin=subprocess.PIPE)
        self.addCleanup(listener.stdout.close)
        self.addCleanup(listener.stdin.close)
        self.addCleanup(listener.wait)
        self.addCleanup(listener.kill)
        # nc -l 0 picks a port; find it from /proc through ss.
        port = wait_for(lambda: nc_port(listener.pid), "nc's port")
        sent = run(self, ["send", "--timeout", "1", "127.0.0.1", str(port), path])
        self.assertEqual(sent.returncode, 1)
        self.assertIn("before it answered the offer (idle timeout)", sent.stderr)
        self.assertEqual(len(sent.stderr.strip().splitlines()), 1, sent.stderr)
        offer = listener.stdout.read1(65536)
        self.assertEqual(offer[:1], b"O")
        self.assertIn(b'"protocol":"duplex-transfer"', offer)

    def test_bad_input_gets_one_line_and_its_exit_status(self):
        cases = [
            (["receive", "--dir", os.path.join(self.tmp, "none")], 2, "is not a directory"),
            (["send", "127.0.0.1", "1", os.path.join(self.tmp, "missing")], 1, "cannot send"),
            (["send", "127.0.0.1", "99999", "x"], 2, "port"),
            (["send", "--limit-rate", "fast", "127.0.0.1", "9", "x"], 2, "--limit-rate"),
            (["receive", "-k", "127.0.0.1", "9"], 2, "-k is for listening"),
            (["send", "127.0.0.1"], 2, "HOST PORT"),
        ]
        for argv, status, text in cases:
            got = run(self, argv)
            self.assertEqual(got.returncode, status, (argv, got.stderr))
            self.assertIn(text, got.stderr, argv)
            self.assertEqual(len(got.stderr.strip().splitlines()), 1, (argv, got.stderr))
        path = self.write("y.txt", b"y")
        refused = run(self, ["send", "127.0.0.1", str(closed_port()), path])
        self.assertEqual(refused.returncode, 1)
        self.assertIn("cannot connect", refused.stderr)


def nc_port(pid):
    """The TCP port that process `pid` listens on, from `ss -ltnp`."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if f"pid={pid}," in line:
            return int(line.split()[3].rsplit(":", 1)[1])
    return None


def closed_port():
    """A loopback port that nothing listens on (bound, never listened, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    unittest.main(verbosity=2)
