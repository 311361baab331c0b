#!/usr/bin/env python3
"""In CI a skip is a failure: each kind of guarded test, run with its prerequisite missing
(simulated), skips on a developer's machine and fails under CI=true with one line naming
what is missing (tests/prerequisites.py and tests/prerequisites.mjs hold the rule)."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, TESTS)
from prerequisites import SKIP, requires  # noqa: E402

DUPLEX = os.environ.get("DUPLEX", "duplex")


def run(args, ci, **env):
    """Runs a test script with CI set or unset; returns (exit status, stdout + stderr)."""
    environment = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        environment["CI"] = "true"
    environment.update(env)
    r = subprocess.run(args, capture_output=True, text=True, timeout=120, env=environment)
    return r.returncode, r.stdout + r.stderr


GUARDED = """
import sys, unittest
sys.path.insert(0, sys.argv[1])
from prerequisites import requires

@requires(False, "frobnicator is not installed")
class Guarded(unittest.TestCase):
    def test_something(self):
        pass

class Method(unittest.TestCase):
    @requires(False, "widget is not installed")
    def test_other(self):
        pass

unittest.main(argv=["guarded"])
"""


class UnittestGuards(unittest.TestCase):
    def test_a_missing_prerequisite_skips_outside_ci(self):
        code, out = run([sys.executable, "-c", GUARDED, TESTS], ci=False)
        self.assertEqual(code, 0, out)
        self.assertIn("skipped=2", out)

    def test_a_missing_prerequisite_fails_under_ci_naming_it(self):
        code, out = run([sys.executable, "-c", GUARDED, TESTS], ci=True)
        self.assertNotIn(code, (0, SKIP), out)
        self.assertIn("missing prerequisite under CI=true (a skip here is a failure): "
                      "frobnicator is not installed", out)
        self.assertIn("widget is not installed", out)
        self.assertNotIn("skipped", out)

    def test_the_wrk_test_fails_under_ci_when_wrk_is_not_on_the_path(self):
        with tempfile.TemporaryDirectory() as empty:
            script = os.path.join(HERE, "test_http_wrk.py")
            code, out = run([sys.executable, script], ci=True, PATH=empty)
            self.assertNotIn(code, (0, SKIP), out)
            self.assertIn("wrk is not installed", out)
            code, out = run([sys.executable, script], ci=False, PATH=empty)
            self.assertEqual(code, 0, out)
            self.assertIn("skipped", out)


def as_non_root():
    """The words that run a command as nobody, or [] when we are not root anyway."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]


class ExitStatusGuards(unittest.TestCase):
    @requires(os.geteuid() != 0 or shutil.which("setpriv"), "setpriv is missing (util-linux)")
    def test_a_netns_test_run_without_root_exits_77_or_under_ci_1(self):
        script = os.path.join(TESTS, "netns", "test_arp_watch.py")
        code, out = run(as_non_root() + [sys.executable, script], ci=False)
        self.assertEqual(code, SKIP, out)
        code, out = run(as_non_root() + [sys.executable, script], ci=True)
        self.assertEqual(code, 1, out)
        self.assertEqual(out.strip().splitlines(), [
            "missing prerequisite under CI=true (a skip here is a failure): "
            "network namespace tests need root (CI runs them as root)"])

    @requires(shutil.which("node"), "node is missing: run scripts/setup")
    def test_a_browser_test_without_chromium_exits_77_or_under_ci_1(self):
        script = os.path.join(TESTS, "browser", "dashboard_test.mjs")
        env = {"CHROMIUM": "/nonexistent/chromium", "DUPLEX": DUPLEX}
        code, out = run(["node", script], ci=False, **env)
        self.assertEqual(code, SKIP, out)
        code, out = run(["node", script], ci=True, **env)
        self.assertEqual(code, 1, out)
        self.assertIn("missing prerequisite under CI=true", out)
        self.assertIn("is missing: run scripts/setup", out)


if __name__ == "__main__":
    unittest.main()
