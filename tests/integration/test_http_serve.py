#!/usr/bin/env python3
"""`duplex http serve` against real peers on loopback: curl for ranges, conditional
requests, HEAD and chunked uploads; curl --path-as-is and raw sockets for path traversal;
a slowloris client for the header timeout; refused clients that neither read nor close,
counted in the server's /proc/PID/fd. Every wait is bounded; nothing asserts timings.

The binary comes from $DUPLEX (ctest sets it)."""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from prerequisites import skip_or_fail  # noqa: E402

DUPLEX = os.environ.get("DUPLEX", "duplex")
TIMEOUT = 30
SECRET = "TOP-SECRET-OUTSIDE-THE-ROOT"


class Serve:
    """A running `duplex http serve --json`; knows its port. root None: no DIR given, the
    server's working directory is `cwd`."""

    def __init__(self, root, *args, cwd=None, prefix=()):
        """`prefix`: words before the command, e.g. setpriv to drop a capability."""
        dirs = [] if root is None else [root]
        self.proc = subprocess.Popen(
            [*prefix, DUPLEX, "http", "serve", *dirs, "--port", "0", "--bind", "127.0.0.1",
             "--json", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("http serve exited early: " + self.proc.stderr.read())
        self.listening = json.loads(line)
        self.port = self.listening["port"]
        self.base = f"http://127.0.0.1:{self.port}"

    def fds(self):
        """How many file descriptors the server holds now."""
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def curl(*args):
    """Runs curl; returns (status code, headers text, body bytes)."""
    with tempfile.NamedTemporaryFile() as h, tempfile.NamedTemporaryFile() as b:
        out = subprocess.run(["curl", "-s", "--max-time", str(TIMEOUT), "-D", h.name, "-o", b.name,
                              "-w", "%{http_code}", *args], capture_output=True, text=True,
                             timeout=TIMEOUT + 5)
        with open(h.name) as hf, open(b.name, "rb") as bf:
            return int(out.stdout or 0), hf.read(), bf.read()


def raw(port, request):
    """Sends raw bytes; returns everything until the server closes (or a timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(request)
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        return data


def wait_for(condition, timeout=60):
    """Polls `condition` until it holds or `timeout` seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return condition()
        time.sleep(0.05)
    return True


def read_until_closed(sock):
    """What the peer sent until it closed: (bytes, "eof" | "reset" | "open")."""
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data, "eof"
            data += chunk
    except ConnectionResetError:
        return data, "reset"
    except socket.timeout:
        return data, "open"


def header(headers, name):
    for line in headers.splitlines():
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None


class HttpServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        top = cls.tmp.name
        with open(os.path.join(top, "secret.txt"), "w") as f:
            f.write(SECRET)
        cls.root = os.path.join(top, "root")
        os.makedirs(os.path.join(cls.root, "sub", "deeper"))
        os.makedirs(os.path.join(cls.root, "noindex"))
        with open(os.path.join(cls.root, "index.html"), "w") as f:
            f.write("<h1>home</h1>\n")
        with open(os.path.join(cls.root, "sub", "index.html"), "w") as f:
            f.write("sub home\n")
        with open(os.path.join(cls.root, "noindex", "a&b<c>.txt"), "w") as f:
            f.write("x")
        cls.big = os.urandom(1 << 20) + b"tail"
        with open(os.path.join(cls.root, "big.bin"), "wb") as f:
            f.write(cls.big)
        os.symlink(os.path.join(top, "secret.txt"), os.path.join(cls.root, "escape"))
        os.symlink("../secret.txt", os.path.join(cls.root, "relescape"))
        os.symlink(top, os.path.join(cls.root, "dirlink"))
        os.symlink("big.bin", os.path.join(cls.root, "inside"))
        cls.server = Serve(cls.root, "--listing", "--echo")

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        cls.tmp.cleanup()

    def url(self, path):
        return self.server.base + path

    def test_get_sends_the_whole_file_byte_for_byte(self):
        code, headers, body = curl(self.url("/big.bin"))
        self.assertEqual(code, 200)
        self.assertEqual(body, self.big)
        self.assertEqual(header(headers, "content-type"), "application/octet-stream")

    def test_head_has_the_length_and_no_body(self):
        reply = raw(self.server.port, b"HEAD /big.bin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        head, _, body = reply.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 OK"))
        self.assertIn(f"Content-Length: {len(self.big)}".encode(), head)
        self.assertEqual(body, b"")

    def test_single_range_is_206_with_content_range(self):
        code, headers, body = curl("-r", "100-199", self.url("/big.bin"))
        self.assertEqual(code, 206)
        self.assertEqual(body, self.big[100:200])
        self.assertEqual(header(headers, "content-range"), f"bytes 100-199/{len(self.big)}")

    def test_suffix_range_is_the_last_bytes(self):
        code, _, body = curl("-r", "-4", self.url("/big.bin"))
        self.assertEqual(code, 206)
        self.assertEqual(body, b"tail")

    def test_multiple_ranges_are_multipart_byteranges(self):
        code, headers, body = curl("-r", "0-9,1000-1009", self.url("/big.bin"))
        self.assertEqual(code, 206)
        ctype = header(headers, "content-type")
        self.assertTrue(ctype.startswith("multipart/byteranges; boundary="))
        boundary = ctype.split("boundary=")[1].encode()
        parts = body.split(b"--" + boundary)
        self.assertEqual(len(parts), 4)  # "", part 1, part 2, "--\r\n"
        self.assertTrue(parts[1].endswith(b"\r\n\r\n" + self.big[0:10] + b"\r\n"))
        self.assertIn(f"Content-Range: bytes 1000-1009/{len(self.big)}".encode(), parts[2])
        self.assertTrue(parts[2].endswith(self.big[1000:1010] + b"\r\n"))

    def test_unsatisfiable_range_is_416(self):
        code, headers, _ = curl("-r", f"{len(self.big) + 10}-", self.url("/big.bin"))
        self.assertEqual(code, 416)
        self.assertEqual(header(headers, "content-range"), f"bytes */{len(self.big)}")

    def test_if_range_with_the_current_etag_gives_the_range_else_the_whole_file(self):
        _, headers, _ = curl("-I", self.url("/big.bin"))
        etag = header(headers, "etag")
        code, _, body = curl("-r", "0-3", "-H", f"If-Range: {etag}", self.url("/big.bin"))
        self.assertEqual((code, body), (206, self.big[:4]))
        code, _, body = curl("-r", "0-3", "-H", 'If-Range: "stale"', self.url("/big.bin"))
        self.assertEqual(code, 200)
        self.assertEqual(len(body), len(self.big))

    def test_if_none_match_with_the_etag_is_304(self):
        _, headers, _ = curl("-I", self.url("/index.html"))
        etag = header(headers, "etag")
        code, headers, body = curl("-H", f"If-None-Match: \"x\", {etag}", self.url("/index.html"))
        self.assertEqual((code, body), (304, b""))
        self.assertEqual(header(headers, "etag"), etag)
        code, _, _ = curl("-H", 'If-None-Match: "other"', self.url("/index.html"))
        self.assertEqual(code, 200)

    def test_if_modified_since_is_304_unless_the_file_is_newer(self):
        _, headers, _ = curl("-I", self.url("/index.html"))
        modified = header(headers, "last-modified")
        code, _, _ = curl("-H", f"If-Modified-Since: {modified}", self.url("/index.html"))
        self.assertEqual(code, 304)
        code, _, _ = curl("-H", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT",
                          self.url("/index.html"))
        self.assertEqual(code, 200)

    def validators(self, path="/index.html"):
        """The file's ETag and Last-Modified, from a HEAD."""
        _, headers, _ = curl("-I", self.url(path))
        return header(headers, "etag"), header(headers, "last-modified")

    def status_with(self, *fields, path="/index.html"):
        """The status of a GET sent with these header fields."""
        args = [a for f in fields for a in ("-H", f)]
        return curl(*args, self.url(path))[0]

    def test_if_match_is_412_unless_it_names_the_current_etag_strongly_or_is_a_star(self):
        etag, _ = self.validators()
        for value, expected in ((etag, 200), (f'"x", {etag}', 200), ("*", 200),
                                ('"other"', 412), ("W/" + etag, 412)):
            self.assertEqual(self.status_with(f"If-Match: {value}"), expected, value)
        self.assertEqual(self.status_with('If-Match: "other"', path="/no-such-file"), 404)

    def test_if_unmodified_since_is_412_when_the_file_is_newer(self):
        etag, modified = self.validators()
        old = "Sun, 06 Nov 1994 08:49:37 GMT"
        self.assertEqual(self.status_with(f"If-Unmodified-Since: {modified}"), 200)
        self.assertEqual(self.status_with(f"If-Unmodified-Since: {old}"), 412)
        # If-Match decides alone when both are sent (RFC 9110 13.2.2), and a date that is
        # not a date is ignored.
        self.assertEqual(self.status_with(f"If-Match: {etag}", f"If-Unmodified-Since: {old}"),
                         200)
        self.assertEqual(self.status_with("If-Unmodified-Since: yesterday"), 200)

    def test_preconditions_come_before_if_none_match(self):
        etag, _ = self.validators()
        self.assertEqual(self.status_with('If-Match: "other"', f"If-None-Match: {etag}"), 412)
        self.assertEqual(self.status_with(f"If-Match: {etag}", f"If-None-Match: {etag}"), 304)

    def test_a_file_named_with_a_trailing_slash_is_404(self):
        for path in ("/index.html/", "/big.bin/", "/sub/index.html/", "/index.html/.",
                     "/index.html//"):
            code, _, body = curl("--path-as-is", "-r", "0-3", self.url(path))
            self.assertEqual(code, 404, path)
            self.assertNotIn(b"home", body, path)
            code, _, _ = curl("--path-as-is", self.url(path))  # and not from the cache
            self.assertEqual(code, 404, path)
        self.assertEqual(curl(self.url("/index.html"))[0], 200)

    def test_directory_without_slash_is_301_and_with_slash_serves_index(self):
        code, headers, _ = curl(self.url("/sub?x=1"))
        self.assertEqual(code, 301)
        self.assertEqual(header(headers, "location"), "/sub/?x=1")
        code, headers, body = curl(self.url("/sub/"))
        self.assertEqual((code, body), (200, b"sub home\n"))
        self.assertTrue(header(headers, "content-type").startswith("text/html"))

    def test_listing_escapes_file_names(self):
        code, _, body = curl(self.url("/noindex/"))
        self.assertEqual(code, 200)
        self.assertIn(b"a&amp;b&lt;c&gt;.txt", body)
        self.assertIn(b'href="a%26b%3Cc%3E.txt"', body)
        self.assertNotIn(b"<c>", body)

    def test_symlink_inside_the_root_is_served(self):
        code, _, body = curl("-r", "0-9", self.url("/inside"))
        self.assertEqual((code, body), (206, self.big[:10]))

    def test_chunked_upload_is_echoed_back(self):
        payload = os.path.join(self.tmp.name, "upload.bin")
        with open(payload, "wb") as f:
            f.write(self.big[:300000])
        code, headers, body = curl("-H", "Transfer-Encoding: chunked", "--data-binary",
                                   "@" + payload, self.url("/_echo"))
        self.assertEqual(code, 200)
        self.assertEqual(header(headers, "transfer-encoding"), "chunked")
        self.assertEqual(hashlib.sha256(body).digest(), hashlib.sha256(self.big[:300000]).digest())

    def test_upload_above_the_limit_is_413(self):
        code, _, _ = curl("--data-binary", "@" + os.path.join(self.root, "big.bin"),
                          self.url("/_echo"))
        self.assertEqual(code, 200)  # 1 MiB is under the default 8 MiB limit
        server = Serve(self.root, "--echo", "--max-body", "1000")
        try:
            code, _, _ = curl("--data-binary", "@" + os.path.join(self.root, "big.bin"),
                              server.base + "/_echo")
            self.assertEqual(code, 413)
        finally:
            server.close()

    def test_directory_without_index_is_403_when_listing_is_off(self):
        server = Serve(self.root)
        try:
            code, _, _ = curl(server.base + "/noindex/")
            self.assertEqual(code, 403)
        finally:
            server.close()

    TRAVERSAL_CURL = [
        "/../secret.txt", "/../../../../../../etc/passwd", "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt", "/%2e%2e%2fsecret.txt", "/..%2fsecret.txt",
        "/%252e%252e/secret.txt", "/%252e%252e%252fsecret.txt", "/..%5csecret.txt",
        "/sub/../../secret.txt", "/sub/%2e%2e/%2e%2e/secret.txt", "/sub/deeper/../../../secret.txt",
        "/escape", "/relescape", "/dirlink/secret.txt", "/dirlink/root/../secret.txt",
        "/index.html%00.txt", "/%00", "/secret.txt%00/index.html", "/./../secret.txt",
        "/.%2e/secret.txt", "/%2e./secret.txt", "//../secret.txt", "/sub/..%2f..%2fsecret.txt",
        "/%c0%ae%c0%ae/secret.txt", "/..%c0%afsecret.txt", "/%u002e%u002e/secret.txt",
        "/sub/%5c..%5c..%5csecret.txt", "/..;/secret.txt", "/%2e%2e%5csecret.txt",
    ]
    TRAVERSAL_RAW = [
        b"GET /..\\secret.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        b"GET \\..\\secret.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        b"GET http://a/../secret.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        b"GET /../secret.txt HTTP/1.0\r\n\r\n",
        b"GET /sub/..\\..\\secret.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        b"GET /%2e%2e/%2e%2e/secret.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        b"GET /dirlink/secret.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    ]

    def test_no_traversal_payload_escapes_the_root(self):
        self.assertGreaterEqual(len(self.TRAVERSAL_CURL) + len(self.TRAVERSAL_RAW), 25)
        for path in self.TRAVERSAL_CURL:
            code, _, body = curl("--path-as-is", self.url(path))
            self.assertIn(code, (400, 403, 404), path)
            self.assertNotIn(SECRET.encode(), body, path)
            self.assertNotIn(b"root:", body, path)
        for request in self.TRAVERSAL_RAW:
            reply = raw(self.server.port, request)
            self.assertRegex(reply[:12], rb"^HTTP/1\.1 40[034]", request)
            self.assertNotIn(SECRET.encode(), reply, request)

    def test_smuggling_attempt_gets_400_and_the_connection_is_released(self):
        before = self.server.fds()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=TIMEOUT) as s:
            s.sendall(b"POST /_echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /big.bin "
                      b"HTTP/1.1\r\nHost: a\r\n\r\n")
            reply, end = read_until_closed(s)
            self.assertTrue(reply.startswith(b"HTTP/1.1 400 "), reply)
            self.assertEqual(reply.count(b"HTTP/1.1"), 1)  # the smuggled GET was never answered
            self.assertIn(end, ("eof", "reset"))
            # The client keeps its socket: the server must still let the connection go.
            self.assertTrue(wait_for(lambda: self.server.fds() <= before),
                            f"{self.server.fds()} fds, {before} before the request")


class DefaultDirectoryTest(unittest.TestCase):
    def test_without_dir_the_working_directory_is_served(self):
        with tempfile.TemporaryDirectory() as root:
            with open(os.path.join(root, "here.txt"), "w") as f:
                f.write("cwd\n")
            server = Serve(None, cwd=root)
            try:
                self.assertEqual(server.listening["root"], ".")
                code, _, body = curl(server.base + "/here.txt")
                self.assertEqual((code, body), (200, b"cwd\n"))
            finally:
                server.close()


class SmallFileCacheTest(unittest.TestCase):
    """Small files are answered from memory once served; the path must still lead to the
    same, unchanged file, or the server goes back to the file system."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        with open(os.path.join(self.tmp.name, "secret.txt"), "w") as f:
            f.write(SECRET)
        self.root = os.path.join(self.tmp.name, "root")
        os.mkdir(self.root)
        self.server = Serve(self.root)

    def tearDown(self):
        self.server.close()
        self.tmp.cleanup()

    def write(self, name, text):
        with open(os.path.join(self.root, name), "w") as f:
            f.write(text)

    def get(self, name):
        code, _, body = curl(self.server.base + "/" + name)
        return code, body

    def test_a_file_rewritten_after_being_served_is_served_anew(self):
        self.write("a.txt", "first\n")
        self.assertEqual(self.get("a.txt"), (200, b"first\n"))
        self.write("a.txt", "second version\n")
        self.assertEqual(self.get("a.txt"), (200, b"second version\n"))
        replacement = os.path.join(self.tmp.name, "new.txt")
        with open(replacement, "w") as f:
            f.write("third\n")
        os.replace(replacement, os.path.join(self.root, "a.txt"))  # a new inode
        self.assertEqual(self.get("a.txt"), (200, b"third\n"))
        os.remove(os.path.join(self.root, "a.txt"))
        self.assertEqual(self.get("a.txt")[0], 404)

    def test_a_served_file_replaced_by_a_symlink_out_of_the_root_is_refused(self):
        self.write("b.txt", "inside\n")
        self.assertEqual(self.get("b.txt"), (200, b"inside\n"))
        os.remove(os.path.join(self.root, "b.txt"))
        os.symlink(os.path.join(self.tmp.name, "secret.txt"), os.path.join(self.root, "b.txt"))
        code, body = self.get("b.txt")
        self.assertIn(code, (403, 404))
        self.assertNotIn(SECRET.encode(), body)
        self.assertNotIn(b"inside", body)

    def test_a_served_file_made_unreadable_is_refused(self):
        if os.geteuid() == 0:  # root reads files whatever their mode: drop that power
            if shutil.which("setpriv") is None:
                skip_or_fail(self, "setpriv is missing (util-linux), needed to test as root")
            self.server.close()
            drop = "-dac_override,-dac_read_search"
            self.server = Serve(self.root, prefix=["setpriv", f"--bounding-set={drop}",
                                                   f"--inh-caps={drop}", "--"])
        self.write("c.txt", "open\n")
        self.assertEqual(self.get("c.txt"), (200, b"open\n"))
        os.chmod(os.path.join(self.root, "c.txt"), 0)
        self.assertEqual(self.get("c.txt")[0], 403)


class SlowlorisTest(unittest.TestCase):
    def test_one_header_byte_a_second_is_cut_off_while_others_are_served(self):
        with tempfile.TemporaryDirectory() as root:
            with open(os.path.join(root, "f.txt"), "w") as f:
                f.write("fine\n")
            server = Serve(root, "--header-timeout", "2")
            try:
                outcome = {}

                def slow():
                    s = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
                    s.setblocking(False)
                    request = b"GET /f.txt HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"x" * 100
                    try:
                        for i, byte in enumerate(request):  # bounded: at most ~130 s
                            try:
                                data = s.recv(4096)
                                outcome["reply"] = data
                                outcome["bytes_sent"] = i
                                return
                            except BlockingIOError:
                                pass
                            try:
                                s.send(bytes([byte]))
                            except OSError:
                                outcome["reply"] = b"(reset)"
                                outcome["bytes_sent"] = i
                                return
                            time.sleep(1)
                    finally:
                        s.close()

                t = threading.Thread(target=slow)
                t.start()
                served = 0
                for _ in range(5):  # others are served while the slow client drips
                    code, _, body = curl(server.base + "/f.txt")
                    served += code == 200 and body == b"fine\n"
                    time.sleep(0.2)
                t.join(timeout=200)
                self.assertFalse(t.is_alive())
                self.assertEqual(served, 5)
                self.assertIn("reply", outcome)
                self.assertTrue(outcome["reply"].startswith(b"HTTP/1.1 408") or
                                outcome["reply"] in (b"", b"(reset)"), outcome["reply"])
                self.assertLess(outcome["bytes_sent"], 40)  # cut off long before the end
            finally:
                server.close()


class LingeringCloseTest(unittest.TestCase):
    """After a 400 or a 408 the server sends its answer and FIN, lingers a bounded time
    reading what still comes, then resets a peer that has not closed: clients that neither
    read nor close cannot hold the server's file descriptors."""

    CLIENTS = 200

    def test_refused_clients_that_neither_read_nor_close_are_released(self):
        with tempfile.TemporaryDirectory() as root:
            server = Serve(root, "--keep-alive", "2", "--header-timeout", "2")
            clients = []
            try:
                before = server.fds()
                for i in range(self.CLIENTS):
                    s = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
                    clients.append(s)
                    if i % 4 == 3:  # a head that never ends: 408 after --header-timeout
                        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")
                    else:  # two Content-Lengths: 400 at once
                        s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                                  b"Content-Length: 2\r\n\r\nab")
                peak = 0

                def held():
                    nonlocal peak
                    peak = max(peak, server.fds() - before)
                    return peak

                self.assertTrue(wait_for(lambda: held() >= self.CLIENTS), f"{peak} accepted")
                self.assertTrue(wait_for(lambda: server.fds() <= before),
                                f"{server.fds() - before} of {self.CLIENTS} connections still "
                                f"held by the server")
                # Each client still finds its answer, then the end of the connection (the
                # reset after our FIN reads as end-of-file).
                for i, s in enumerate(clients):
                    reply, end = read_until_closed(s)
                    status = b"HTTP/1.1 408 " if i % 4 == 3 else b"HTTP/1.1 400 "
                    self.assertTrue(reply.startswith(status), reply)
                    self.assertIn(end, ("reset", "eof"), i)
            finally:
                for s in clients:
                    s.close()
                server.close()


if __name__ == "__main__":
    unittest.main()
