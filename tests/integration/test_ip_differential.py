#!/usr/bin/env python3
"""Differential test of `duplex ip` against Debian's sipcalc and ipcalc, the oracles.

A few hundred random IPv4 and IPv6 prefixes (fixed seed, printed; DUPLEX_SEED overrides)
go through `duplex ip - --json` in one run, through sipcalc in batches and through ipcalc
(IPv4 only, one process each, so it takes the first N_IPCALC of them, edge cases first). Every field a tool shares with duplex must agree; each
disagreement prints the input, the field and both values.

Where a tool is known to differ, the field is compared against the RFC instead, never
skipped. The exceptions, with the reason for each:
  * /31 and /32 broadcast: duplex reports none (RFC 3021: a /31 is a point-to-point link
    without broadcast; a /32 is a host route). sipcalc prints the last address as
    "Broadcast"; that must equal duplex's last_address. ipcalc agrees with duplex.
  * /31 and /32 usable range: sipcalc prints none; ipcalc's HostMin/HostMax are checked.
  * /0 "Addresses in network": sipcalc prints 4294967295 (its 32-bit counter wraps);
    the RFC count is 2^32, so duplex must say 4294967296 and sipcalc 2^32 - 1.
  * /32 of 255.255.255.255: sipcalc's usable range wraps to "0.0.0.0 - 255.255.255.254";
    duplex must give the one address (a host route), and sipcalc exactly that wrap.
  * Classful class E (240.0.0.0/4, RFC 1112 reserved): sipcalc prints "E" or, from an
    uninitialised buffer, "\0Nonexistant". ipcalc takes class E as 11110 (240.0.0.0/5) and
    prints "invalid" from 248.0.0.0; duplex must say "E" for all of 240.0.0.0/4 and ipcalc
    "E" or "invalid" as above. Classful masks exist for A to C only.
  * ipcalc's own split (-s) is not used: 0.42 gives 50 hosts a /27 (30 hosts); sipcalc's
    -s/-S splits by length are the oracle for `duplex ip split --prefix`.
  * ipcalc classifies the network address, not the host: its class is compared with
    duplex's class of the network (10.1.2.3/0 is class A there, via 0.0.0.0).
  * IPv4-mapped IPv6 (::ffff:a.b.c.d): RFC 5952 section 5 recommends the dotted form,
    which duplex prints; sipcalc's "Compressed address" uses hex (::ffff:102:304), so
    duplex is compared with sipcalc's "Compr. v4inv6 address" instead.
  * IPv6 "Address type": sipcalc uses the RFC 2373 table (1998), so ULA fc00::/7
    (RFC 4193, 2005) is "Unassigned" there. Only the types both know are compared:
    link-local, multicast, site-local (fec0::/10), loopback, unspecified, and
    "Aggregatable Global Unicast" = 2000::/3.
"""
import ipaddress
import json
import os
import random
import re
import subprocess
import sys
import unittest
from concurrent.futures import ThreadPoolExecutor

DUPLEX = os.environ.get("DUPLEX", "duplex")
SEED = int(os.environ.get("DUPLEX_SEED", "20261130"))
N4, N6 = 250, 200
N_SPLIT = 40  # splits per family, checked against sipcalc -s / -S
N_IPCALC = 120  # ipcalc starts a perl interpreter per prefix: it checks the first 120

V4_BLOCKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
             "100.64.0.0/10", "224.0.0.0/4", "240.0.0.0/4", "192.0.2.0/24", "0.0.0.0/8"]
V6_BLOCKS = ["2000::/3", "2001:db8::/32", "fe80::/10", "fc00::/7", "ff00::/8", "fec0::/10",
             "::/96", "2002::/16"]
V4_EDGES = ["0.0.0.0/0", "255.255.255.255/32", "10.0.0.1/31", "10.0.0.0/31", "192.168.1.10/24",
            "1.2.3.4/30", "172.16.0.1/12", "240.0.0.1/4", "224.0.0.1/32"]
V6_EDGES = ["::/0", "::/128", "::1/128", "2001:db8::1/64", "fe80::1/10", "::ffff:1.2.3.4/96",
            "2001:db8:0:1:1:1:1:1/128", "2001:db8:0:0:1:0:0:1/127", "ff02::1:ff00:1/104"]


def random_in(rng, block):
    net = ipaddress.ip_network(block)
    return net[rng.randrange(net.num_addresses)]


def random_v6(rng):
    addr = int(random_in(rng, rng.choice(V6_BLOCKS))) if rng.random() < 0.5 else rng.getrandbits(128)
    groups = [(addr >> (16 * (7 - i))) & 0xFFFF for i in range(8)]
    for i in range(8):  # zero runs, so that compression has work to do
        if rng.random() < 0.3:
            groups[i] = 0
    return ipaddress.IPv6Address(sum(g << (16 * (7 - i)) for i, g in enumerate(groups)))


def make_inputs(rng):
    v4 = list(V4_EDGES)
    while len(v4) < N4:
        a = random_in(rng, rng.choice(V4_BLOCKS)) if rng.random() < 0.4 else \
            ipaddress.IPv4Address(rng.getrandbits(32))
        v4.append(f"{a}/{rng.randint(0, 32)}")
    v6 = list(V6_EDGES)
    while len(v6) < N6:
        v6.append(f"{random_v6(rng).compressed}/{rng.randint(0, 128)}")
    return v4, v6


def ours(inputs):
    p = subprocess.run([DUPLEX, "ip", "-", "--json"], input="\n".join(inputs) + "\n",
                       capture_output=True, text=True, timeout=60, check=True)
    out = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(out) == len(inputs), p.stderr
    return out


def sipcalc(flags, inputs):
    """sipcalc's sections, one dict {section: {key: value}} per input, in order."""
    results = []
    for i in range(0, len(inputs), 100):
        text = subprocess.run(["sipcalc", *flags, *inputs[i:i + 100]], capture_output=True,
                              text=True, timeout=60, check=True).stdout
        sections = None
        current = key = None
        for line in text.splitlines():
            if line.startswith("-[ip"):
                sections = {}
                results.append(sections)
                continue
            if sections is None or not line.strip() or line == "-":
                continue
            if line.startswith("["):
                current = sections.setdefault(line.strip("[]"), {})
                key = None
                continue
            m = re.match(r"^([^\t]+?)\t+-\s?(.*)$", line)
            if m:
                key = m.group(1)
                current[key] = m.group(2).strip()
            elif key:  # a value continued on the next line
                current[key] = (current[key] + " " + line.strip()).strip()
    assert len(results) == len(inputs), f"sipcalc gave {len(results)} sections for {len(inputs)}"
    return results


def ipcalc_one(prefix):
    text = subprocess.run(["ipcalc", "-n", prefix], capture_output=True, text=True,
                          timeout=30, check=True).stdout
    fields = {}
    for line in text.splitlines():
        m = re.match(r"^(\w[\w/]*):\s+(\S+(?: = \d+)?)\s*(.*)$", line)
        if m:
            fields[m.group(1)] = (m.group(2), m.group(3).strip())
    return fields


def num(text):
    return int(ipaddress.ip_address(text))


class Differential(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        print(f"differential seed {SEED} (set DUPLEX_SEED to rerun another)", file=sys.stderr)
        cls.v4, cls.v6 = make_inputs(random.Random(SEED))

    def setUp(self):
        self.failures = []

    def check(self, prefix, field, duplex_value, tool, tool_value):
        if duplex_value != tool_value:
            self.failures.append(f"{prefix}: {field}: duplex {duplex_value!r} != {tool} "
                                 f"{tool_value!r}")

    def tearDown(self):
        if self.failures:
            print("\n".join(self.failures), file=sys.stderr)
        self.assertEqual(self.failures, [], f"{len(self.failures)} disagreements (seed {SEED})")

    def test_ipv4_against_sipcalc(self):
        for prefix, j, s in zip(self.v4, ours(self.v4), sipcalc(["-c", "-i", "-b"], self.v4)):
            cidr, bits, classful = s["CIDR"], s["CIDR bitmaps"], s["Classful"]
            length = j["prefix_length"]
            c = lambda f, d, t: self.check(prefix, f, d, "sipcalc", t)
            c("address", j["address"], cidr["Host address"])
            c("decimal", j["decimal"], cidr["Host address (decimal)"])
            c("hex", int(j["hex"], 16), int(cidr["Host address (hex)"], 16))
            c("network", j["network"], cidr["Network address"])
            c("mask", j["mask"], cidr["Network mask"])
            c("prefix_length", str(length), cidr["Network mask (bits)"])
            c("mask_hex", int(j["mask_hex"], 16), int(cidr["Network mask (hex)"], 16))
            c("wildcard", j["wildcard"], cidr["Cisco wildcard"])
            if length <= 30:
                c("broadcast", j["broadcast"], cidr["Broadcast address"])
            else:  # RFC 3021 / host route: no broadcast; sipcalc's is the last address
                c("broadcast", None, j["broadcast"])
                c("last_address", j["last_address"], cidr["Broadcast address"])
            if length == 0:  # sipcalc's counter wraps at 2^32
                c("address_count", j["address_count"], "4294967296")
                c("sipcalc wrapped count", "4294967295", cidr["Addresses in network"])
            else:
                c("address_count", j["address_count"], cidr["Addresses in network"])
            c("range", f'{j["first_address"]} - {j["last_address"]}', cidr["Network range"])
            if length <= 30:
                c("usable", f'{j["first_host"]} - {j["last_host"]}', cidr["Usable range"])
            else:  # RFC 3021 /31: both addresses; /32: the one address
                c("usable (RFC 3021)", (j["first_host"], j["last_host"]),
                  (j["first_address"], j["last_address"]))
                if prefix == "255.255.255.255/32":  # sipcalc's wrap, see the docstring
                    c("sipcalc wrapped usable", "0.0.0.0 - 255.255.255.254", cidr["Usable range"])
                else:
                    c("sipcalc usable range", None, cidr.get("Usable range"))
            c("binary", j["binary"], bits["Host address"])
            c("mask_binary", j["mask"], str(ipaddress.IPv4Address(int(bits["Network mask"].replace(".", ""), 2))))
            cls = j["class"]
            tool_class = classful["Network class"].strip("\0 ").split()[0]
            if cls == "E":  # see the docstring
                c("class E (RFC 1112)", True, tool_class in ("E", "Nonexistant"))
            else:
                c("class", cls, tool_class)
            if cls in ("A", "B", "C"):
                c("classful_mask", j["classful_mask"], classful["Network mask"])
                mask = num(j["classful_mask"])
                net = num(j["address"]) & mask
                c("classful network", str(ipaddress.IPv4Address(net)), classful["Network address"])
                c("classful broadcast", str(ipaddress.IPv4Address(net | (~mask & 0xFFFFFFFF))),
                  classful["Broadcast address"])

    def test_ipv4_against_ipcalc(self):
        with ThreadPoolExecutor(max_workers=4) as pool:
            tool = list(pool.map(ipcalc_one, self.v4[:N_IPCALC]))
        mine = ours(self.v4[:N_IPCALC])
        networks = ours([j["network"] for j in mine])
        for prefix, j, n, t in zip(self.v4, mine, networks, tool):
            length = j["prefix_length"]
            c = lambda f, d, v: self.check(prefix, f, d, "ipcalc", v)
            c("address", j["address"], t["Address"][0])
            c("address binary", j["binary"], t["Address"][1].replace(" ", ""))
            c("netmask", f'{j["mask"]} = {length}', t["Netmask"][0])
            c("wildcard", j["wildcard"], t["Wildcard"][0])
            if length == 32:  # ipcalc prints a host route instead of a network
                c("host route", j["address"], t["Hostroute"][0])
                c("first_host", j["first_host"], j["address"])
            else:
                c("network", j["prefix"], t["Network"][0])
                if length > 0:  # the boundary ipcalc marks with a space is the prefix length
                    c("boundary", length, t["Network"][1].replace(".", "").find(" "))
                c("first_host", j["first_host"], t["HostMin"][0])
                c("last_host", j["last_host"], t["HostMax"][0])
            c("broadcast", j["broadcast"], t["Broadcast"][0] if "Broadcast" in t else None)
            hosts, label = t["Hosts/Net"]
            c("host_count", j["host_count"], hosts)
            m = re.match(r"Class (\w+)(?:, (.*))?", label)
            tool_class, notes = m.group(1), set((m.group(2) or "").split(", ")) - {""}
            if n["class"] == "E" and tool_class == "invalid":  # see the docstring
                c("class E from 248.0.0.0", True, num(n["address"]) >= num("248.0.0.0"))
            else:
                c("class of the network", n["class"], tool_class)
            c("/31 note", length == 31, "PtP Link RFC 3021" in notes)
            c("multicast note", n["type"] == "multicast" and length >= 4, "Multicast" in notes)
            note = " ".join(sorted(notes - {"PtP Link RFC 3021", "Multicast"}))
            net = ipaddress.ip_network(j["prefix"])
            for block, name, category in [("10.0.0.0/8", "Private Internet", "private_use"),
                                          ("172.16.0.0/12", "Private Internet", "private_use"),
                                          ("192.168.0.0/16", "Private Internet", "private_use"),
                                          ("169.254.0.0/16", "APIPA", "link_local"),
                                          ("127.0.0.0/8", "Loopback", "loopback")]:
                if net.subnet_of(ipaddress.ip_network(block)):
                    c("type", j["type"], category)
                    c("ipcalc note", name, note.replace("In Part ", ""))
            if note in ("Private Internet", "APIPA", "Loopback"):
                c("type for " + note, j["type"],
                  {"Private Internet": "private_use", "APIPA": "link_local",
                   "Loopback": "loopback"}[note])

    def test_ipv6_against_sipcalc(self):
        for prefix, j, s in zip(self.v6, ours(self.v6), sipcalc(["-t", "-e", "-r"], self.v6)):
            info = s["IPV6 INFO"]
            c = lambda f, d, t: self.check(prefix, f, d, "sipcalc", t)
            c("expanded", j["expanded"], info["Expanded Address"])
            if j["ipv4_mapped"]:  # RFC 5952 section 5: dotted form for IPv4-mapped
                c("address (v4-mapped)", j["address"], s["V4INV6"]["Compr. v4inv6 address"])
            else:
                c("address", j["address"], info["Compressed address"])
            net, length = info["Subnet prefix (masked)"].split("/")
            c("network", num(j["network"]), num(net))
            c("prefix_length", str(j["prefix_length"]), length)
            c("mask", num(j["mask"]), num(info["Prefix address"]))
            host_id = info["Address ID (masked)"].split("/")[0]
            c("address & ~mask", int(j["decimal"]) & ~num(j["mask"]) & (2**128 - 1), num(host_id))
            first, last = [x.strip() for x in info["Network range"].split(" - ")]
            c("first_address", num(j["first_address"]), num(first))
            c("last_address", num(j["last_address"]), num(last))
            c("host range", (j["first_host"], j["last_host"]), (j["first_address"], j["last_address"]))
            c("reverse_dns", j["reverse_dns"] + ".", s["IPV6 DNS"]["Reverse DNS (ip6.arpa)"])
            kind = info["Address type"]
            comment = info.get("Comment", "")
            expected = {"Link-Local Unicast Addresses": "link_local",
                        "Multicast Addresses": "multicast"}.get(kind)
            if comment in ("Loopback", "Unspecified"):
                expected = comment.lower()
            if expected or j["type"] in ("link_local", "multicast", "loopback", "unspecified"):
                c("type", j["type"], expected)
            site_local = kind == "Site-Local Unicast Addresses"
            c("site-local", j["type_block"] == "fec0::/10", site_local)
            in_2000_3 = (num(j["address"]) >> 125) == 1
            c("2000::/3", in_2000_3, kind == "Aggregatable Global Unicast Addresses")
            if j["type"] == "global":
                c("global is in 2000::/3", True, in_2000_3)

    def test_split_against_sipcalc(self):
        rng = random.Random(SEED + 1)
        cases = []
        for family, bits, flag in (("v4", 32, "-s"), ("v6", 128, "-S")):
            for _ in range(N_SPLIT):
                length = rng.randint(0, bits)
                new = rng.randint(length, min(length + 8, bits))
                addr = ipaddress.IPv4Address(rng.getrandbits(32)) if family == "v4" \
                    else random_v6(rng)
                cases.append((f"{addr}/{length}", new, flag))
        for prefix, new, flag in cases:
            p = subprocess.run([DUPLEX, "ip", "split", prefix, "--prefix", str(new), "--json"],
                               capture_output=True, text=True, timeout=30, check=True)
            mine = [(num(x["network"]), num(x["last_address"]))
                    for x in json.loads(p.stdout)["subnets"]]
            text = subprocess.run(["sipcalc", flag, str(new), prefix], capture_output=True,
                                  text=True, timeout=30, check=True).stdout
            ranges = re.findall(r"Network\t+- (\S+)\s+-\s+(\S+)", text)
            theirs = [(num(a), num(b)) for a, b in ranges]
            self.check(f"{prefix} split /{new}", "subnets", mine, "sipcalc", theirs)


if __name__ == "__main__":
    unittest.main(verbosity=2)
