#!/usr/bin/env python3
"""`duplex ip` as a user runs it: real binary, JSON parsed, exit statuses and stderr checked.

The binary comes from $DUPLEX (ctest sets it)."""
import json
import os
import subprocess
import unittest

DUPLEX = os.environ.get("DUPLEX", "duplex")


def run(*args, stdin=None):
    p = subprocess.run([DUPLEX, "ip", *args], input=stdin, capture_output=True, text=True,
                       timeout=30, env={**os.environ, "NO_COLOR": "1"})
    return p.returncode, p.stdout, p.stderr


def run_json(*args, stdin=None):
    code, out, err = run(*args, "--json", stdin=stdin)
    if code not in (0, 1):
        raise AssertionError(f"duplex ip {' '.join(args)} exited {code}: {err}")
    return code, [json.loads(line) for line in out.splitlines()]


class Report(unittest.TestCase):
    def test_ipv4_prefix_gives_every_field(self):
        _, [j] = run_json("192.168.1.10/24")
        expected = {
            "family": "ipv4", "address": "192.168.1.10", "decimal": "3232235786",
            "hex": "0xC0A8010A", "binary": "11000000.10101000.00000001.00001010",
            "prefix": "192.168.1.0/24", "prefix_length": 24, "mask_notation": "length",
            "mask": "255.255.255.0", "mask_hex": "0xFFFFFF00", "wildcard": "0.0.0.255",
            "network": "192.168.1.0", "broadcast": "192.168.1.255",
            "first_address": "192.168.1.0", "last_address": "192.168.1.255",
            "first_host": "192.168.1.1", "last_host": "192.168.1.254",
            "address_count": "256", "host_count": "254", "class": "C",
            "type": "private_use", "type_rfc": "RFC 1918", "globally_reachable": False,
            "reverse_dns": "10.1.168.192.in-addr.arpa",
        }
        for key, value in expected.items():
            self.assertEqual(j[key], value, key)

    def test_every_documented_key_is_present_for_both_families(self):
        _, [v4] = run_json("10.0.0.1")
        _, [v6] = run_json("2001:db8::1/64")
        self.assertEqual(list(v4.keys()), list(v6.keys()))

    def test_slash31_has_two_hosts_and_no_broadcast(self):
        _, [j] = run_json("10.0.0.1/31")
        self.assertEqual((j["first_host"], j["last_host"], j["host_count"]),
                         ("10.0.0.0", "10.0.0.1", "2"))
        self.assertIsNone(j["broadcast"])

    def test_slash32_human_output_says_one_address_in_the_singular(self):
        code, out, _ = run("10.0.0.1/32")
        self.assertEqual(code, 0)
        self.assertIn("(1 address)", out)
        self.assertNotIn("1 addresses", out)

    def test_slash32_is_one_host(self):
        _, [j] = run_json("10.0.0.1/32")
        self.assertEqual((j["first_host"], j["last_host"], j["host_count"]),
                         ("10.0.0.1", "10.0.0.1", "1"))

    def test_slash0_counts_the_whole_space(self):
        _, [j] = run_json("0.0.0.0/0")
        self.assertEqual(j["address_count"], "4294967296")
        _, [j] = run_json("::/0")
        self.assertEqual(j["address_count"], "340282366920938463463374607431768211456")
        self.assertEqual(j["last_address"], "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")

    def test_ipv6_prefix_gives_expanded_forms_and_range(self):
        _, [j] = run_json("2001:DB8:0:0::1/64")
        self.assertEqual(j["address"], "2001:db8::1")
        self.assertEqual(j["expanded"], "2001:0db8:0000:0000:0000:0000:0000:0001")
        self.assertEqual(j["network"], "2001:db8::")
        self.assertEqual(j["last_address"], "2001:db8::ffff:ffff:ffff:ffff")
        self.assertEqual(j["host_count"], "18446744073709551616")
        self.assertIsNone(j["broadcast"])
        self.assertIsNone(j["class"])
        self.assertEqual(j["type"], "documentation")

    def test_ipv4_mapped_address_is_named(self):
        _, [j] = run_json("::ffff:1.2.3.4")
        self.assertEqual(j["address"], "::ffff:1.2.3.4")
        self.assertEqual(j["ipv4_mapped"], "1.2.3.4")

    def test_bare_ipv4_address_shows_the_classful_default_only(self):
        _, [j] = run_json("172.16.5.4")
        self.assertEqual((j["class"], j["classful_mask"], j["classful_prefix_length"]),
                         ("B", "255.255.0.0", 16))
        self.assertIsNone(j["prefix_length"])
        self.assertIsNone(j["network"])
        code, out, _ = run("172.16.5.4")
        self.assertEqual(code, 0)
        self.assertIn("classful default", out)

    def test_every_address_notation_reads_the_same(self):
        for text in ["192.168.1.10", "3232235786", "0xC0A8010A",
                     "11000000.10101000.00000001.00001010"]:
            _, [j] = run_json(text)
            self.assertEqual(j["address"], "192.168.1.10", text)

    def test_address_and_mask_as_two_arguments_form_one_prefix(self):
        _, [j] = run_json("10.1.2.3", "255.255.255.252")
        self.assertEqual((j["prefix"], j["mask_notation"]), ("10.1.2.0/30", "dotted"))
        _, [j] = run_json("10.1.2.3", "0xffffff00")
        self.assertEqual((j["prefix"], j["mask_notation"]), ("10.1.2.0/24", "hex"))

    def test_wildcard_mask_is_recognised_and_reported(self):
        _, [j] = run_json("172.16.5.4", "0.0.255.255")
        self.assertEqual((j["prefix_length"], j["mask_notation"]), (16, "wildcard"))
        _, out, _ = run("172.16.5.4", "0.0.255.255")
        self.assertIn("wildcard", out)

    def test_human_output_marks_the_network_host_boundary(self):
        _, out, _ = run("192.168.1.10/24")
        self.assertIn("11000000.10101000.00000001. 00001010", out)

    def test_dash_reads_items_from_stdin(self):
        _, items = run_json("-", stdin="10.0.0.1/8\n# a comment\n\n192.168.0.1/30\n")
        self.assertEqual([j["network"] for j in items], ["10.0.0.0", "192.168.0.0"])


class BadInput(unittest.TestCase):
    def assert_bad(self, *args, says, stdin=None):
        code, out, err = run(*args, stdin=stdin)
        self.assertEqual(code, 2, err)
        self.assertEqual(out, "")
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn(says, err)

    def test_octet_above_255(self):
        self.assert_bad("300.1.1.1", says="octet 300 is above 255")

    def test_length_above_32(self):
        self.assert_bad("10.0.0.0/33", says="prefix length 33 is above 32")

    def test_leading_zero(self):
        self.assert_bad("010.1.1.1", says="leading zero")

    def test_non_contiguous_mask(self):
        self.assert_bad("10.0.0.0/255.0.255.0", says="not contiguous")

    def test_same_with_one_address_names_the_one_given_not_two_missing(self):
        self.assert_bad("same", "1.2.3.4",
                        says="expected two addresses A B, but only '1.2.3.4' was given")
        _, _, err = run("same", "1.2.3.4")
        self.assertNotIn("missing two", err)

    def test_same_with_no_address(self):
        self.assert_bad("same", says="missing two addresses A B")

    def test_mask_written_as_dotted_but_not_contiguous_is_refused_not_read_as_an_address(self):
        self.assert_bad("10.0.0.1", "255.0.255.0",
                        says="'255.0.255.0' is not a netmask: its one bits are not contiguous")
        self.assert_bad("10.0.0.1", "0xff00ff00", says="not contiguous")

    def test_two_addresses_are_still_two_items(self):
        code, items = run_json("10.0.0.1", "10.0.0.2")
        self.assertEqual([j["address"] for j in items], ["10.0.0.1", "10.0.0.2"])

    def test_mask_without_an_address_names_the_missing_address(self):
        self.assert_bad("/24", says="'/24' is not a prefix: no address before the mask")
        _, _, err = run("/24")
        self.assertNotIn("empty string", err)

    def test_non_ascii_character_is_quoted_whole(self):
        self.assert_bad("1.2.3.\u00e9", says="unexpected character '\u00e9'")

    def test_error_line_repeats_at_most_forty_characters_of_a_huge_input(self):
        code, out, err = run("-", stdin="1" * 100_000 + "\n")
        self.assertEqual(code, 2)
        self.assertLess(len(err), 300, err[:300])
        self.assertIn("...' (100000 bytes)", err)

    def test_same_without_a_mask(self):
        self.assert_bad("same", "1.2.3.4", "1.2.3.5", says="no mask")

    def test_unknown_option(self):
        self.assert_bad("1.2.3.4", "--bogus", says="unknown option --bogus")

    def test_bad_line_on_stdin_is_named_by_number_and_the_rest_still_printed(self):
        code, out, err = run("-", "--json", stdin="10.0.0.1\n# note\n10.0.0.300\n10.0.0.2\n")
        self.assertEqual(code, 2)
        self.assertEqual([json.loads(l)["address"] for l in out.splitlines()],
                         ["10.0.0.1", "10.0.0.2"])
        self.assertEqual(err.splitlines(), [
            "duplex ip: line 3: '10.0.0.300' is not an IPv4 address: octet 300 is above 255"])

    def test_aggregate_reports_a_bad_line_and_aggregates_the_rest(self):
        code, out, err = run("aggregate", "-", stdin="10.0.0.0/24\nnope\n10.0.1.0/24\n")
        self.assertEqual(code, 2)
        self.assertEqual(out, "10.0.0.0/23\n")
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn("duplex ip aggregate: line 2: 'nope'", err)

    def test_range_reports_a_bad_line_and_goes_on(self):
        code, out, err = run("range", "-", stdin="10.0.0.0-10.0.0.1\n10.0.0.9-10.0.0.1\n"
                                                 "10.0.1.0-10.0.1.3\n")
        self.assertEqual(code, 2)
        self.assertEqual(out, "10.0.0.0/31\n10.0.1.0/30\n")
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn("line 2: ", err)
        self.assertIn("backwards", err)

    def test_split_too_large_says_how_to_narrow(self):
        self.assert_bad("split", "10.0.0.0/8", "--prefix", "30", says="split a longer prefix")

    def test_split_that_does_not_fit(self):
        self.assert_bad("split", "10.0.0.0/24", "--hosts", "200,100", says="has only 256")

    def test_backwards_range(self):
        self.assert_bad("range", "10.0.0.9", "10.0.0.1", says="backwards")


class Same(unittest.TestCase):
    def test_same_subnet_exits_0_and_shows_the_and(self):
        code, out, _ = run("same", "172.16.10.1", "172.16.10.2", "--mask", "255.255.255.0")
        self.assertEqual(code, 0)
        results = [l.split()[1] for l in out.splitlines() if l.strip().startswith("=")]
        self.assertEqual(results, ["172.16.10.0", "172.16.10.0"])  # each address AND the mask
        self.assertIn("10101100.00010000.00001010. 00000000", out)
        self.assertIn("yes", out)

    def test_different_subnets_exit_1(self):
        code, [j] = run_json("same", "172.16.10.1/24", "172.16.11.1")
        self.assertEqual(code, 1)
        self.assertFalse(j["same_subnet"])
        self.assertIsNone(j["network"])
        self.assertEqual([a["network"] for a in j["addresses"]], ["172.16.10.0", "172.16.11.0"])

    def test_json_gives_both_networks_bit_by_bit(self):
        code, [j] = run_json("same", "10.1.2.3", "10.1.200.4", "--mask", "16")
        self.assertEqual(code, 0)
        self.assertEqual(j["network"], "10.1.0.0/16")
        self.assertEqual(j["mask_binary"], "11111111.11111111.00000000.00000000")
        self.assertEqual(j["addresses"][1]["network_binary"],
                         "00001010.00000001.00000000.00000000")

    def test_ipv6(self):
        code, [j] = run_json("same", "2001:db8::1", "2001:db8::ff:1", "--mask", "64")
        self.assertEqual((code, j["network"]), (0, "2001:db8::/64"))

    def test_addresses_from_stdin(self):
        code, _, _ = run("same", "-", "--mask", "24", stdin="192.0.2.1\n192.0.2.200\n")
        self.assertEqual(code, 0)


class SubnetMaths(unittest.TestCase):
    def test_split_by_count_rounds_up(self):
        _, [j] = run_json("split", "192.168.1.0/24", "--count", "3")
        self.assertEqual((j["requested_count"], j["count"], j["new_prefix_length"]), (3, 4, 26))
        self.assertEqual(j["subnets"][3]["subnet"], "192.168.1.192/26")
        self.assertEqual(j["subnets"][3]["broadcast"], "192.168.1.255")
        self.assertEqual(j["subnets"][0]["host_count"], "62")

    def test_split_by_prefix_in_ipv6(self):
        _, [j] = run_json("split", "2001:db8::/48", "--prefix", "/50")
        self.assertEqual([s["subnet"] for s in j["subnets"]],
                         ["2001:db8::/50", "2001:db8:0:4000::/50", "2001:db8:0:8000::/50",
                          "2001:db8:0:c000::/50"])

    def test_split_by_hosts(self):
        _, [j] = run_json("split", "192.168.0.0/24", "--hosts", "20,100,50,2")
        self.assertEqual([(s["requested_hosts"], s["subnet"]) for s in j["subnets"]],
                         [(100, "192.168.0.0/25"), (50, "192.168.0.128/26"),
                          (20, "192.168.0.192/27"), (2, "192.168.0.224/31")])
        self.assertEqual(j["free"][0], "192.168.0.226/31")

    def test_aggregate_from_stdin(self):
        _, [j] = run_json("aggregate", "-",
                          stdin="10.0.1.0/24\n10.0.0.0/24\n10.0.2.0/23\n2001:db8::/33\n"
                                "2001:db8:8000::/33\n")
        self.assertEqual(j["prefixes"], ["10.0.0.0/22", "2001:db8::/32"])
        self.assertEqual((j["input_count"], j["count"]), (5, 2))

    def test_range_two_forms(self):
        _, [j] = run_json("range", "10.0.0.5", "10.0.0.20")
        self.assertEqual(j["prefixes"],
                         ["10.0.0.5/32", "10.0.0.6/31", "10.0.0.8/29", "10.0.0.16/30",
                          "10.0.0.20/32"])
        self.assertEqual(j["address_count"], "16")
        _, items = run_json("range", "-", stdin="10.0.0.0-10.0.0.9\n::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n")
        self.assertEqual(items[0]["prefixes"], ["10.0.0.0/29", "10.0.0.8/31"])
        self.assertEqual(items[1]["prefixes"], ["::/0"])


class Help(unittest.TestCase):
    def test_every_subcommand_has_help_with_examples(self):
        for sub in ([], ["same"], ["split"], ["aggregate"], ["range"]):
            code, out, _ = run(*sub, "--help")
            self.assertEqual(code, 0, sub)
            self.assertIn("Examples:", out)
            self.assertIn("--json", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
