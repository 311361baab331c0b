"""`duplex arp` options as a user types them, without privileges: each subcommand accepts
only its own options, and a stray one is a usage error (exit 2) naming it, never ignored.
The changes themselves are tested in namespaces (tests/netns/test_arp_neigh.py)."""

import os
import subprocess
import unittest

DUPLEX = os.environ.get("DUPLEX", "duplex")


def run(*args):
    return subprocess.run([DUPLEX, "arp", *args], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "NO_COLOR": "1"})


class ArpOptions(unittest.TestCase):
    def test_an_option_of_another_subcommand_is_refused_with_its_name(self):
        for args, option in [(["show", "--temp"], "--temp"),
                             (["del", "192.0.2.9", "--dev", "lo", "--temp"], "--temp"),
                             (["add", "192.0.2.9", "02:00:00:00:00:01", "--dev", "lo", "--json"],
                              "--json"),
                             (["flush", "--dev", "lo", "--json"], "--json")]:
            with self.subTest(args=args):
                r = run(*args)
                self.assertEqual(r.returncode, 2, r)
                self.assertIn("unknown option " + option, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)

    def test_show_takes_its_own_options(self):
        r = run("show", "--all", "--json", "--dev", "lo")
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
