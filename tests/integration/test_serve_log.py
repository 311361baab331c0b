#!/usr/bin/env python3
"""`duplex serve`'s log on stderr (docs/architecture.md, Errors): a chat commit that fails
and the HTTP 500 it causes are each one error line with a UTC timestamp to the
millisecond; a refused request is one warn line; --log-level error keeps only errors.
The commit is made to fail by a file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored so that
write(2) returns EFBIG): SQLite's next write past it fails. Loopback only; every wait has a
deadline.

The binary comes from $DUPLEX (ctest sets it)."""
import json
import os
import re
import resource
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chat_peers import DUPLEX, TIMEOUT, Serve  # noqa: E402

STAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
FSIZE = 256 * 1024  # bytes: room for the new database, not for 100 posts of 4 KiB


def small_files():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE, FSIZE))


def request(serve, path, body=None, headers=None):
    host, port = serve.http
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://{host}:{port}{path}", data=data,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class ServeLog(unittest.TestCase):
    def post_until_500(self, serve):
        for i in range(200):
            status, body = request(serve, "/api/chat/messages",
                                   {"name": "filler", "text": f"{i} " + "x" * 4000})
            if status == 500:
                return body
            self.assertEqual(status, 201, body)
        self.fail(f"no commit failed under a {FSIZE}-byte file size limit")

    def test_a_failed_commit_and_its_500_are_each_one_timestamped_error_line(self):
        serve = Serve(preexec_fn=small_files)
        try:
            body = self.post_until_500(serve)
            commit = serve.err.expect(STAMP + r"error chat: commit of 1 message failed: (.+)$")
            self.assertIn(commit.group(1), body)  # the client was told the same cause
            serve.err.expect(STAMP + r"error http: 127\.0\.0\.1:\d+ POST /api/chat/messages: "
                                     r"500 .+$")
        finally:
            serve.close()
        everything = serve.err.seen + serve.err.rest()
        self.assertEqual(len([line for line in everything if "error chat:" in line]), 1,
                         everything)

    def test_a_refused_request_is_a_warn_line_unless_the_level_is_error(self):
        for level, logged in (("warn", True), ("error", False)):
            serve = Serve("--log-level", level)
            try:
                status, _ = request(serve, "/api/status", headers={"Host": "evil.example"})
                self.assertEqual(status, 403)
                if logged:
                    serve.err.expect(STAMP + r"warn http: refused GET /api/status "
                                             r"\(Host evil\.example\): 403 ")
            finally:
                serve.close()
            everything = serve.err.seen + serve.err.rest()
            refusals = [line for line in everything if "refused" in line]
            self.assertEqual(len(refusals), 1 if logged else 0, everything)

    def test_an_unknown_log_level_is_a_usage_error(self):
        r = subprocess.run([DUPLEX, "serve", "--log-level", "loud"], capture_output=True,
                           text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--log-level 'loud' must be error, warn, info or debug", r.stderr)


if __name__ == "__main__":
    unittest.main()
