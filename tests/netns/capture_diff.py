"""Decodes one pcap with tshark and with `duplex capture --json`, and compares the two packet
by packet, field by field (the differential test of issue 11; test_capture_tshark.py runs it).

Both decodes become {key: [values]} per packet, keys as Wireshark's display-filter names
(duplex's Field::key), values in the order the tree shows them (an ICMP error's own ip.src
first, then the quoted datagram's). Three rules make a pass mean something:

  * every key that both decode must agree, after the normalisation below;
  * for every protocol tshark finds in a packet, the MINIMUM keys that tshark shows must be
    in duplex's decode too, so that a packet cannot pass by having nothing in common;
  * every protocol tshark names is either checked (MINIMUM), or not decoded by duplex yet
    (EXPECTED_MISSING, which fails once duplex does decode it, so that the list is kept
    honest), or outside issue 11 (NOT_COMPARED). An unknown one fails.
"""

import ipaddress
import json
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field

# tshark's defaults are for a human reading a whole conversation; these make it decode each
# packet on its own and show the values on the wire, as duplex (a per-packet decoder) does.
TSHARK_OPTIONS = [
    "-n",  # no name resolution
    "-o", "tcp.relative_sequence_numbers:FALSE",  # the raw seq/ack, as on the wire
    # No reassembly: a fragment, a segment or a TLS record is shown as the packet holds it.
    "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
    "-o", "tcp.desegment_tcp_streams:FALSE", "-o", "http.desegment_headers:FALSE",
    "-o", "http.desegment_body:FALSE", "-o", "tls.desegment_ssl_records:FALSE",
    "-o", "dns.desegment_dns_messages:FALSE",
    # tshark leaves these checksums "unverified" unless asked (ICMP's it always checks).
    "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
    "-o", "udp.check_checksum:TRUE",
]

# The keys that must be in duplex's decode whenever tshark shows them, per protocol (tshark's
# frame.protocols names). Header fields only: nothing tshark computes from other packets.
MINIMUM = {
    "eth": ["eth.dst", "eth.src", "eth.type"],
    "vlan": ["vlan.priority", "vlan.dei", "vlan.id", "vlan.etype"],
    "ieee8021ad": ["ieee8021ad.priority", "ieee8021ad.dei", "ieee8021ad.id", "ieee8021ah.etype"],
    "sll": ["sll.pkttype", "sll.hatype", "sll.halen", "sll.src.eth", "sll.etype", "sll.ifindex"],
    "arp": ["arp.hw.type", "arp.proto.type", "arp.hw.size", "arp.proto.size", "arp.opcode",
            "arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.hw_mac", "arp.dst.proto_ipv4"],
    "ip": ["ip.version", "ip.hdr_len", "ip.dsfield.dscp", "ip.dsfield.ecn", "ip.len", "ip.id",
           "ip.flags.rb", "ip.flags.df", "ip.flags.mf", "ip.frag_offset", "ip.ttl", "ip.proto",
           "ip.checksum", "ip.checksum.status", "ip.src", "ip.dst"],
    "ipv6": ["ipv6.version", "ipv6.tclass.dscp", "ipv6.tclass.ecn", "ipv6.flow", "ipv6.plen",
             "ipv6.nxt", "ipv6.hlim", "ipv6.src", "ipv6.dst"],
    "ipv6.hopopts": ["ipv6.hopopts.nxt", "ipv6.hopopts.len", "ipv6.opt.type"],
    "ipv6.dstopts": ["ipv6.dstopts.nxt", "ipv6.dstopts.len"],
    "ipv6.routing": ["ipv6.routing.nxt", "ipv6.routing.len", "ipv6.routing.type",
                     "ipv6.routing.segleft"],
    "ipv6.fraghdr": ["ipv6.fraghdr.nxt", "ipv6.fraghdr.offset", "ipv6.fraghdr.more",
                     "ipv6.fraghdr.ident"],
    "icmp": ["icmp.type", "icmp.code", "icmp.checksum", "icmp.checksum.status", "icmp.ident",
             "icmp.seq", "icmp.mtu"],
    "icmpv6": ["icmpv6.type", "icmpv6.code", "icmpv6.checksum", "icmpv6.checksum.status",
               "icmpv6.echo.identifier", "icmpv6.echo.sequence_number", "icmpv6.mtu",
               "icmpv6.nd.ns.target_address", "icmpv6.nd.na.target_address",
               "icmpv6.nd.na.flag.s", "icmpv6.nd.ra.cur_hop_limit",
               "icmpv6.nd.ra.router_lifetime", "icmpv6.opt.type", "icmpv6.opt.length",
               "icmpv6.opt.linkaddr", "icmpv6.opt.prefix", "icmpv6.opt.mtu"],
    "tcp": ["tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.hdr_len",
            "tcp.flags.fin",
            "tcp.flags.syn", "tcp.flags.reset", "tcp.flags.push", "tcp.flags.ack",
            "tcp.flags.urg", "tcp.flags.ece", "tcp.flags.cwr", "tcp.window_size_value",
            "tcp.checksum", "tcp.checksum.status", "tcp.urgent_pointer",
            "tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.options.sack_le",
            "tcp.options.sack_re", "tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr"],
    "udp": ["udp.srcport", "udp.dstport", "udp.length", "udp.checksum", "udp.checksum.status"],
    "dns": ["dns.id", "dns.flags.response", "dns.flags.opcode", "dns.flags.rcode",
            "dns.count.queries", "dns.count.answers", "dns.count.auth_rr", "dns.count.add_rr",
            "dns.qry.name", "dns.qry.type", "dns.qry.class", "dns.resp.name", "dns.resp.type",
            "dns.resp.ttl", "dns.a", "dns.aaaa", "dns.cname", "dns.ns", "dns.mx.mail_exchange",
            "dns.ptr.domain_name", "dns.srv.port", "dns.srv.target", "dns.soa.mname"],
    "http": ["http.request.method", "http.request.uri", "http.request.version",
             "http.response.version", "http.response.code", "http.response.phrase",
             "http.host", "http.content_length_header"],
    "tls": ["tls.handshake.type", "tls.handshake.version", "tls.handshake.extensions_server_name",
            "tls.handshake.extensions_alpn_str"],
    "websocket": ["websocket.fin", "websocket.opcode", "websocket.mask",
                  "websocket.payload_length", "websocket.masking_key",
                  "websocket.payload_length_ext_16"],
}

# Protocols that duplex on main does not decode yet, and why. Remove an entry when its codec
# lands: the test fails while a protocol listed here is in fact decoded.
EXPECTED_MISSING = {}

# Protocols that duplex decodes, but not inside an ICMP or ICMPv6 error: the chain decodes
# the quoted IP header and the start of its TCP or UDP header, and stops there (tshark goes
# on). The same rule: remove an entry when the chain decodes it, or the test fails.
NOT_DECODED_IN_QUOTES = {
    "dns": "apps/capture stops after an ICMP error's quoted TCP or UDP header",
}

# What tshark decodes that issue 11 does not ask of duplex (or that is no header at all).
NOT_COMPARED = {
    "frame": "tshark's own record of the packet (time, lengths), not a header",
    "ethertype": "tshark's step between a link header and its payload, no fields",
    "data": "undecoded payload bytes",
    "data-text-lines": "the body of an HTTP message, shown as lines",
    "llc": "IEEE 802.2 LLC after an 802.3 length: not in issue 11",
    "stp": "spanning tree: not in issue 11",
    "igmp": "IGMP (the kernel's multicast reports in the live capture): not in issue 11",
    "wg": "tshark's heuristic guess (WireGuard) at the payload of a cut UDP datagram",
    "wol": "tshark's heuristic guess (Wake-on-LAN) at the payload of a cut UDP datagram",
}

# tshark's checksum status numbers (proto_checksum_enum_e) and duplex's words for them.
CHECKSUM_STATUS = {"0": "bad", "1": "good", "2": "unverified", "3": "none"}
# duplex's word for a TCP or UDP checksum that the sender left to the NIC (see offloaded()).
PARTIAL = "unverified (partial, offloaded)"

KEY = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")


def normal(value):
    """One value in a form both sides share: numbers (decimal or 0x) as int, IPv6 addresses
    compressed, the rest lower case. tshark prints ip.id as "0x0001" and a port as "443";
    duplex may print either, and both mean the same number. Up to 4 bytes as colon hex
    are a number too: tshark shows a few integer fields as bytes (ipv6.routing.srh.tag
    "00:00"), duplex as the number."""
    v = str(value).strip().lower()
    if re.fullmatch(r"-?\d+", v):
        return int(v)
    if re.fullmatch(r"0x[0-9a-f]+", v):
        return int(v, 16)
    if re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){0,3}", v):
        return int(v.replace(":", ""), 16)
    if ":" in v and "::" in v or v.count(":") == 7:
        try:
            return ipaddress.ip_address(v).compressed
        except ValueError:
            pass
    return v


def normal_tshark(key, value):
    if key.endswith(".checksum.status"):
        return CHECKSUM_STATUS.get(value, value)
    return normal(value)


def source_routed(fields):
    """tshark's view of an IPv4 source route (LSRR, SSRR) with hops left, as on the wire.
    Wireshark shows the header's destination as ip.cur_rt and the route's last address as
    ip.dst (where the packet is finally going), and leaves that address out of ip.src_rt;
    duplex shows the header as it is (ip.dst the destination field) and every route address
    as ip.src_rt. Only a packet with one such header is rewritten."""
    if len(fields.get("ip.cur_rt", [])) != 1 or len(fields.get("ip.dst", [])) != 1:
        return fields
    fields = dict(fields)
    final = fields["ip.dst"]
    fields["ip.dst"] = fields.pop("ip.cur_rt")
    fields["ip.src_rt"] = fields.get("ip.src_rt", []) + final
    return fields


def srv_owners(fields):
    """tshark shows an SRV record's owner name as dns.srv.service, .proto and .name
    (_sip, _tcp, example.com) where any other record has dns.resp.name; duplex shows every
    owner as dns.resp.name. The SRV owners are put back in their records' places."""
    services = fields.get("dns.srv.service", [])
    if not services or len(fields.get("dns.resp.type", [])) != len(fields.get("dns.resp.name",
                                                                           [])) + len(services):
        return fields
    fields = dict(fields)
    parts = zip(services, fields.get("dns.srv.proto", []), fields.get("dns.srv.name", []))
    names, others = [], iter(fields["dns.resp.name"])
    for kind in fields["dns.resp.type"]:
        names.append(".".join(next(parts)) if kind == "33" else next(others))
    fields["dns.resp.name"] = names
    return fields


def quoted_checksums(key, ours, theirs, protocols):
    """Inside an ICMP or ICMPv6 error, tshark does not verify the quoted datagram's
    checksums (it shows them unverified); duplex verifies one whose bytes were all quoted.
    The quoted values (those after the ICMP header) take duplex's status when tshark's is
    unverified."""
    protocol = key.split(".")[0]
    errors = [i for i, p in enumerate(protocols) if p in ("icmp", "icmpv6")]
    if not errors or not key.endswith(".checksum.status"):
        return theirs
    outer = protocols[:errors[0]].count(protocol)
    return [o if i >= outer and i < len(ours) and t == "unverified" else t
            for i, (t, o) in enumerate(zip(theirs, ours + [None] * len(theirs)))]


def pseudo_header_sum(fields, protocols, protocol):
    """The folded one's complement sum of the pseudo-header of the packet's first TCP or UDP
    header, from tshark's own fields (addresses, protocol, the segment's length): what the
    checksum field holds when the sender left the checksum to the NIC. None when a field is
    missing."""
    family = next((p for p in protocols if p in ("ip", "ipv6")), None)
    try:
        source = ipaddress.ip_address(fields[f"{family}.src"][0]).packed
        destination = ipaddress.ip_address(fields[f"{family}.dst"][0]).packed
        if protocol == "udp":
            length, number = int(fields["udp.length"][0]), 17
        else:
            length, number = int(fields["tcp.hdr_len"][0]) + int(fields["tcp.len"][0]), 6
    except (KeyError, IndexError, ValueError):
        return None
    return folded_pseudo_sum(source, destination, number, length)


def folded_pseudo_sum(source, destination, protocol, length):
    """The pseudo-header's folded sum (addresses as bytes), not complemented: what Linux
    leaves in the field for the NIC (~csum_tcpudp_magic(source, destination, length,
    protocol, 0)). capture_frames.py crafts such frames with it."""
    words = source + destination
    total = sum(int.from_bytes(words[i:i + 2], "big") for i in range(0, len(words), 2))
    total += protocol + (length >> 16) + (length & 0xFFFF)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def offloaded(key, ours, theirs, packet):
    """A packet captured on lo, a veth or its sender's NIC carries TCP and UDP checksums that
    the sender left to the NIC (CHECKSUM_PARTIAL): the field holds the pseudo-header's sum
    only. tshark (checking on) calls that bad, with an expert note that offload may be the
    cause; duplex calls it partial. The two agree only when duplex says partial, tshark says
    bad, AND the field holds exactly the pseudo-header's sum as computed here from tshark's
    fields, so a wrong partial claim (or a partial one tshark calls good) still disagrees.
    Only the first header is judged so: a quoted one (in an ICMP error) is left as it is."""
    protocol = key.split(".")[0]
    if (protocol not in ("tcp", "udp") or not key.endswith(".checksum.status") or not ours
            or ours[0] != PARTIAL or not theirs or theirs[0] != "bad"):
        return theirs
    stored = normal(packet.tshark.get(f"{protocol}.checksum", [None])[0])
    if stored != pseudo_header_sum(packet.tshark, packet.protocols, protocol):
        return theirs
    return [PARTIAL] + theirs[1:]


# Keys that tshark names differently for the same bytes, as duplex names them. The first
# byte of a TLS record is tls.record.content_type to both, until tshark has seen a
# ServerHello choose TLS 1.3 earlier in the conversation: from then on it names that byte
# tls.record.opaque_type (RFC 8446's TLSCiphertext.opaque_type, always 23), the real type
# being encrypted. duplex reads each packet on its own and cannot know the version a
# conversation chose, so it names the byte as the record header defines it. Not TCP
# reassembly: TSHARK_OPTIONS turns that off, and the values are the same bytes.
SAME_BYTES = {"tls.record.opaque_type": "tls.record.content_type"}


def flatten_tshark(pairs, out):
    """tshark -T json's tree as {key: [values]}: subtrees (x_tree, text items such as
    "Queries" or "Timestamps", expert info) are walked in order, their keys kept. tshark
    writes a key twice when a tree has it twice (two NOP options), so the tree is read as
    lists of (key, value) pairs: in a dict the second would replace the first, and
    --no-duplicate-keys would gather them out of the packet's order."""
    for k, v in pairs:
        for item in [v] if isinstance(v, Pairs) or not isinstance(v, list) else v:
            if isinstance(item, Pairs):
                flatten_tshark(item, out)
            elif KEY.match(k):
                out.setdefault(SAME_BYTES.get(k, k), []).append(item)
    return out


class Pairs(list):
    """A JSON object as json.loads(object_pairs_hook=Pairs) gives it: its (key, value) pairs
    in order, duplicates kept; told apart from a JSON array, which stays a plain list."""


def flatten_duplex(layers):
    out = {}

    def walk(fields):
        for f in fields:
            out.setdefault(f["key"], []).append(f["value"])
            walk(f.get("children", []))

    for layer in layers:
        walk(layer["fields"])
    return out


@dataclass
class Packet:
    number: int
    label: str
    protocols: list
    tshark: dict
    duplex: dict
    malformed: set = field(default_factory=set)  # protocols duplex found malformed ("tcp")


def malformed_protocols(layers):
    """The protocols whose header duplex found malformed, named by their keys' prefix. Such
    a header stops duplex's decode where tshark may read on (a DNS name that loops: tshark
    still reads the type and class after it), and a TCP header with a data offset past the
    segment gets no checksum check ("not TCP"): for these the MINIMUM check and the
    checksum status are left out. The values both show must still agree."""
    return {layer["fields"][0]["key"].split(".")[0] for layer in layers
            if layer.get("problem", "").startswith("malformed") and layer["fields"]}


def decode(path, duplex, labels=None):
    """Both decodes of the pcap at `path`, as Packets."""
    t = subprocess.run(["tshark", "-r", path, "-T", "json"] + TSHARK_OPTIONS,
                       capture_output=True, text=True, timeout=300)
    if t.returncode != 0:
        raise AssertionError(f"tshark -r {path} exited {t.returncode}: {t.stderr.strip()}")
    d = subprocess.run([duplex, "capture", "-r", path, "--json"], capture_output=True,
                       text=True, timeout=300)
    if d.returncode != 0:
        raise AssertionError(f"duplex capture -r {path} --json exited {d.returncode}: "
                             f"{d.stderr.strip()}")
    ours = [json.loads(line) for line in d.stdout.splitlines() if line.strip()]
    theirs = json.loads(t.stdout, object_pairs_hook=Pairs)
    if len(ours) != len(theirs):
        raise AssertionError(f"{path}: duplex printed {len(ours)} packets, tshark "
                             f"{len(theirs)}")
    packets = []
    for i, (o, t) in enumerate(zip(ours, theirs)):
        layers = dict(dict(t)["_source"])["layers"]
        fields = srv_owners(source_routed(flatten_tshark(layers, {})))
        label = labels[i] if labels and i < len(labels) else ""
        packets.append(Packet(i + 1, label, fields.pop("frame.protocols", [""])[0].split(":"),
                              fields, flatten_duplex(o["layers"]),
                              malformed_protocols(o["layers"])))
    return packets


@dataclass
class Findings:
    """What compare() found over one or more files."""
    disagree: list = field(default_factory=list)  # (where, key, duplex, tshark)
    missing: list = field(default_factory=list)  # (where, protocol, key): a MINIMUM key
    unknown: Counter = field(default_factory=Counter)  # protocols in no list
    stale: Counter = field(default_factory=Counter)  # EXPECTED_MISSING, yet decoded
    agreed: Counter = field(default_factory=Counter)  # key -> packets where it agreed

    def problems(self, limit=25):
        """One line per problem (at most `limit` of each kind), empty when all is well."""
        lines = [f"disagree {w}: {k}: duplex {d} tshark {t}" for w, k, d, t in
                 self.disagree[:limit]]
        lines += [f"missing {w}: duplex lacks {k} ({p})" for w, p, k in self.missing[:limit]]
        lines += [f"tshark decoded {p} ({n} packets), which is in no list of capture_diff.py"
                  for p, n in self.unknown.items()]
        lines += [f"duplex decodes {p} now ({n} packets): remove it from "
                  + ("NOT_DECODED_IN_QUOTES" if p.startswith("quoted ") else "EXPECTED_MISSING")
                  for p, n in self.stale.items()]
        extra = len(self.disagree) + len(self.missing) - 2 * limit
        if extra > 0:
            lines.append(f"... and more ({len(self.disagree)} disagreements, "
                         f"{len(self.missing)} missing keys in all)")
        return lines


def compare(name, packets, findings):
    """Adds what the packets of the file `name` show to `findings`."""
    for p in packets:
        where = f"{name} #{p.number}" + (f" ({p.label})" if p.label else "")
        # Under a protocol duplex does not decode yet (an ICMPv6 error's quoted IPv6 header),
        # tshark has more values of a key than duplex: the first ones must still agree.
        cut_short = any(protocol in EXPECTED_MISSING for protocol in p.protocols)
        for key in p.tshark.keys() & p.duplex.keys():
            if key.endswith(".checksum.status") and key.split(".")[0] in p.malformed:
                continue
            ours = [normal(v) for v in p.duplex[key]]
            theirs = quoted_checksums(key, ours, [normal_tshark(key, v) for v in p.tshark[key]],
                                      p.protocols)
            theirs = offloaded(key, ours, theirs, p)
            if cut_short and len(ours) < len(theirs):
                theirs = theirs[:len(ours)]
            if ours == theirs:
                findings.agreed[key] += 1
            else:
                findings.disagree.append((where, key, p.duplex[key], p.tshark[key]))
        for i, protocol in enumerate(p.protocols):
            if protocol in p.protocols[:i] or any(q in EXPECTED_MISSING for q in p.protocols[:i]):
                continue  # seen, or inside a protocol duplex does not decode yet
            if protocol.split(".")[0] in p.malformed:
                continue
            quoted = any(q in ("icmp", "icmpv6") for q in p.protocols[:i])
            if quoted and protocol in NOT_DECODED_IN_QUOTES:
                keys = MINIMUM[protocol]
                if any(len(p.duplex.get(k, [])) >= len(p.tshark.get(k, [])) > 0 for k in keys):
                    findings.stale["quoted " + protocol] += 1
                continue
            if protocol in EXPECTED_MISSING:
                if any(k in p.duplex for k in MINIMUM.get(protocol, [])):
                    findings.stale[protocol] += 1
            elif protocol in MINIMUM:
                for key in MINIMUM[protocol]:
                    if key in p.tshark and key not in p.duplex:
                        findings.missing.append((where, protocol, key))
            elif protocol not in NOT_COMPARED:
                findings.unknown[protocol] += 1
    return findings


def never_compared(findings):
    """The MINIMUM keys (of protocols duplex decodes) that agreed in no packet at all: the
    pcaps must hold every one, or the test would check less than it says."""
    return [k for p, keys in MINIMUM.items() if p not in EXPECTED_MISSING for k in keys
            if findings.agreed[k] == 0]
