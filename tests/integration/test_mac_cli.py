"""`duplex mac` as a user runs it: JSON values, exit statuses, one-line errors, stdin.

The binary is $DUPLEX. Expected vendors are the ones the IEEE CSVs list (read by hand):
MA-L 00000C Cisco, MA-S 70B3D5F2F TELEPLATFORMS inside MA-L 70B3D5, MA-M 208593B.
"""

import json
import os
import subprocess
import unittest

DUPLEX = os.environ.get("DUPLEX", "duplex")


def run(*args, stdin=None):
    return subprocess.run(
        [DUPLEX, "mac", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "NO_COLOR": "1"},
    )


def json_lines(result):
    return [json.loads(line) for line in result.stdout.splitlines()]


class MacJson(unittest.TestCase):
    def test_cisco_oui_names_cisco_in_every_form(self):
        r = run("--json", "00-00-0C-12-34-56")
        self.assertEqual(r.returncode, 0, r.stderr)
        [j] = json_lines(r)
        self.assertEqual(j["vendor"], "Cisco Systems, Inc")
        self.assertEqual(j["registry"], "MA-L")
        self.assertEqual(j["block"], "00:00:0c:00:00:00/24")
        self.assertEqual(j["block_size"], 1 << 24)
        self.assertEqual(j["input"], "00-00-0C-12-34-56")
        self.assertEqual(j["mac"], "00:00:0c:12:34:56")
        self.assertEqual(j["hyphen"], "00-00-0C-12-34-56")
        self.assertEqual(j["cisco"], "0000.0c12.3456")
        self.assertEqual(j["bare"], "00000c123456")
        self.assertEqual(j["oui"], "00:00:0c")

    def test_eui64_and_link_local_follow_rfc4291_appendix_a(self):
        [j] = json_lines(run("--json", "00:00:0c:12:34:56"))
        self.assertEqual(j["eui64"], "02:00:0c:ff:fe:12:34:56")
        self.assertEqual(j["link_local"], "fe80::200:cff:fe12:3456")

    def test_ma_s_block_inside_ieee_ma_l_names_the_ma_s_owner(self):
        [j] = json_lines(run("--json", "70:b3:d5:f2:fa:bc"))
        self.assertEqual(j["vendor"], "TELEPLATFORMS")
        self.assertEqual(j["registry"], "MA-S")
        self.assertEqual(j["block"], "70:b3:d5:f2:f0:00/36")
        self.assertEqual(j["block_size"], 4096)

    def test_ma_m_block_has_a_28_bit_prefix(self):
        [j] = json_lines(run("--json", "208593b12345"))
        self.assertEqual(j["vendor"], "IOG Products LLC")
        self.assertEqual(j["registry"], "MA-M")
        self.assertEqual(j["block"], "20:85:93:b0:00:00/28")

    def test_locally_administered_address_has_no_vendor(self):
        [j] = json_lines(run("--json", "02:42:ac:11:00:02"))
        self.assertTrue(j["locally_administered"])
        self.assertFalse(j["group"])
        self.assertIsNone(j["vendor"])
        self.assertIsNone(j["registry"])
        self.assertIsNone(j["block"])

    def test_broadcast_is_a_group_address_without_interface_id(self):
        [j] = json_lines(run("--json", "ff:ff:ff:ff:ff:ff"))
        self.assertTrue(j["broadcast"])
        self.assertTrue(j["group"])
        self.assertFalse(j["multicast"])
        self.assertIsNone(j["eui64"])
        self.assertIsNone(j["link_local"])

    def test_multicast_names_the_owner_of_the_oui_it_derives_from(self):
        [j] = json_lines(run("--json", "01:00:0c:cc:cc:cc"))
        self.assertTrue(j["multicast"])
        self.assertEqual(j["vendor"], "Cisco Systems, Inc")
        self.assertTrue(j["vendor_from_group_oui"])

    def test_ipv4_multicast_note_names_the_group(self):
        [j] = json_lines(run("--json", "01:00:5e:00:00:fb"))
        self.assertTrue(any("224.0.0.251" in n for n in j["notes"]), j["notes"])


class MacErrors(unittest.TestCase):
    def assert_one_line_error(self, r, *fragments):
        self.assertEqual(r.returncode, 2)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        for f in fragments:
            self.assertIn(f, lines[0])

    def test_too_few_bytes_exits_2_with_one_line(self):
        r = run("00:11")
        self.assert_one_line_error(r, "'00:11' is not a MAC address: 2 of 6 bytes")
        self.assertEqual(r.stdout, "")

    def test_non_hex_exits_2_with_one_line(self):
        self.assert_one_line_error(run("zz:zz:zz:zz:zz:zz"), "'z' is not a hex digit")

    def test_six_dotted_groups_are_not_called_6_of_3(self):
        r = run("00.1a.2b.3c.4d.5e")
        self.assert_one_line_error(r, "6 groups, but the Cisco dot form has 3")
        self.assertNotIn("6 of 3", r.stderr)

    def test_non_ascii_character_is_quoted_whole_not_as_its_first_byte(self):
        r = run("00:1a:2b:3c:4d:\u00e9")
        self.assert_one_line_error(r, "'\u00e9' is not a hex digit")
        self.assertNotIn("0xc3", r.stderr)

    def test_error_line_repeats_at_most_forty_characters_of_a_huge_input(self):
        r = run("-", stdin="a" * 100_000 + "\n")
        self.assert_one_line_error(r, "...' (100000 bytes)")
        self.assertLess(len(r.stderr), 300)

    def test_no_argument_is_a_usage_error(self):
        self.assert_one_line_error(run(), "missing MAC address", "--help")

    def test_unknown_option_is_a_usage_error(self):
        self.assert_one_line_error(run("--colour", "00:00:0c:12:34:56"), "--colour")

    def test_one_bad_mac_among_good_ones_keeps_the_good_lines_and_exits_2(self):
        r = run("--json", "00:00:0c:12:34:56", "00:11", "70:b3:d5:f2:fa:bc")
        self.assert_one_line_error(r, "'00:11'")
        self.assertEqual([j["mac"] for j in json_lines(r)],
                         ["00:00:0c:12:34:56", "70:b3:d5:f2:fa:bc"])


class MacStdin(unittest.TestCase):
    def test_dash_reads_one_mac_per_line_skipping_blanks_and_comments(self):
        r = run("--json", "-", stdin="00:00:0c:12:34:56\n\n# a comment\n  0000.0c12.3457  \r\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([j["mac"] for j in json_lines(r)],
                         ["00:00:0c:12:34:56", "00:00:0c:12:34:57"])

    def test_bad_line_on_stdin_is_reported_and_the_rest_printed(self):
        r = run("--json", "-", stdin="00:00:0c:12:34:56\nnot-a-mac\n02:00:00:00:00:01\n")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(json_lines(r)), 2)
        self.assertEqual(r.stderr.splitlines(), [
            "duplex mac: line 2: 'not-a-mac' is not a MAC address: 'n' is not a hex digit (0-9, a-f)"])


class MacHuman(unittest.TestCase):
    def test_human_output_explains_the_bits_in_words(self):
        r = run("02:42:ac:11:00:02")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("locally administered: not from a vendor", r.stdout)
        self.assertIn("0 individual", r.stdout)
        self.assertNotIn("\x1b[", r.stdout)

    def test_help_states_how_many_blocks_the_index_holds(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"Vendor index: [\d,]+ MA-L, [\d,]+ MA-M, [\d,]+ MA-S")
        self.assertIn("Examples:", r.stdout)


if __name__ == "__main__":
    unittest.main()
