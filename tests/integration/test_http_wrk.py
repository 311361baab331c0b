#!/usr/bin/env python3
"""A wrk smoke run against `duplex http serve`: a short bounded load, with and without
16-deep pipelining; every response must be a 2xx and no socket may fail. It measures
nothing (the numbers belong to bench/http); it checks that the server holds up."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from prerequisites import requires  # noqa: E402

DUPLEX = os.environ.get("DUPLEX", "duplex")
TIMEOUT = 60

PIPELINE_LUA = """
init = function(args)
  local r = {}
  for i = 1, 16 do r[i] = wrk.format(nil, "/hello.txt") end
  req = table.concat(r)
end
request = function() return req end
"""


@requires(shutil.which("wrk"), "wrk is not installed (scripts/setup installs it)")
class WrkSmokeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        with open(os.path.join(self.tmp.name, "hello.txt"), "w") as f:
            f.write("hello, world\n")
        self.proc = subprocess.Popen(
            [DUPLEX, "http", "serve", self.tmp.name, "--port", "0", "--bind", "127.0.0.1",
             "--threads", "1", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.port = json.loads(self.proc.stdout.readline())["port"]

    def tearDown(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.tmp.cleanup()

    def wrk(self, *extra):
        out = subprocess.run(["wrk", "-t1", "-c16", "-d2s", *extra,
                              f"http://127.0.0.1:{self.port}/hello.txt"],
                             capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def check(self, report):
        self.assertNotIn("Non-2xx", report, report)
        self.assertNotIn("Socket errors", report, report)
        requests = int(re.search(r"(\d+) requests in", report).group(1))
        self.assertGreater(requests, 0, report)
        self.assertIsNone(self.proc.poll(), "the server died under load")

    def test_keep_alive_load_gets_only_2xx_and_no_socket_errors(self):
        self.check(self.wrk())

    def test_pipelined_load_gets_only_2xx_and_no_socket_errors(self):
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
            script.write(PIPELINE_LUA)
            script.flush()
            self.check(self.wrk("-s", script.name))


if __name__ == "__main__":
    unittest.main()
