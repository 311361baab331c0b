"""Packets and pcap files built by hand for the capture tests: every byte is written here
(checksums included), so that what duplex decodes does not come from another decoder.

frame() and the header builders return bytes; write_pcap() writes the classic format
(little-endian, microseconds) with a chosen link type and snap length."""

import struct

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")
BROADCAST = b"\xff" * 6


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip_bytes(text):
    return bytes(int(x) for x in text.split("."))


def ethernet(dst, src, ethertype, payload, vlan=None):
    tag = struct.pack("!HH", 0x8100, vlan) if vlan is not None else b""
    return dst + src + tag + struct.pack("!H", ethertype) + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + ip_bytes(spa) + tha + ip_bytes(tpa)


def ipv4(src, dst, proto, payload, ident=1, ttl=64, flags_frag=0, ihl=5, total=None):
    total = 20 + len(payload) if total is None else total
    header = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, 0, total, ident, flags_frag, ttl,
                         proto, 0, ip_bytes(src), ip_bytes(dst))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def icmp_echo(ident, seq, data, kind=8):
    body = struct.pack("!BBHHH", kind, 0, 0, ident, seq) + data
    return body[:2] + struct.pack("!H", checksum(body)) + body[4:]


def icmp_error(kind, code, quoted):
    body = struct.pack("!BBHI", kind, code, 0, 0) + quoted
    return body[:2] + struct.pack("!H", checksum(body)) + body[4:]


def udp_plain(sport, dport, data):
    """A UDP header with checksum 0 (none, over IPv4): for quoting inside ICMP errors."""
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", window=64240, options=b""):
    """A TCP segment with its checksum over the IPv4 pseudo-header; flags as "S", "SA", "PA"..."""
    bits = sum({"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}[c] for c in flags)
    offset = (20 + len(options)) // 4
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4, bits, window, 0, 0)
    segment = header + options + payload
    pseudo = ip_bytes(src) + ip_bytes(dst) + struct.pack("!BBH", 0, 6, len(segment))
    return segment[:16] + struct.pack("!H", checksum(pseudo + segment)) + segment[18:]


def tcp_conversation():
    """10.0.0.1:40000 talks to 10.0.0.2:7000, as Ethernet frames: ARP, the three-way
    handshake (MSS and window scale), "hello\n" and its ACK, the same data sent again (a
    retransmission), "world\n" back, then the FIN exchange."""
    a, b = "10.0.0.1", "10.0.0.2"
    seg = []

    def to_b(seq, ack, flags, data=b"", options=b""):
        seg.append(ethernet(MAC_B, MAC_A, 0x0800, ipv4(a, b, 6, tcp(
            a, b, 40000, 7000, seq, ack, flags, data, options=options), ident=len(seg))))

    def to_a(seq, ack, flags, data=b"", options=b""):
        seg.append(ethernet(MAC_A, MAC_B, 0x0800, ipv4(b, a, 6, tcp(
            b, a, 7000, 40000, seq, ack, flags, data, options=options), ident=len(seg))))

    seg.append(ethernet(BROADCAST, MAC_A, 0x0806,
                        arp(1, MAC_A, a, b"\0" * 6, b) + b"\0" * 18))
    seg.append(ethernet(MAC_A, MAC_B, 0x0806, arp(2, MAC_B, b, MAC_A, a) + b"\0" * 18))
    mss = struct.pack("!BBH", 2, 4, 1460) + b"\x01" + struct.pack("!BBB", 3, 3, 7)
    to_b(1000, 0, "S", options=mss)
    to_a(5000, 1001, "SA", options=mss)
    to_b(1001, 5001, "A")
    to_b(1001, 5001, "PA", b"hello\n")
    to_b(1001, 5001, "PA", b"hello\n")  # the retransmission
    to_a(5001, 1007, "A")
    to_a(5001, 1007, "PA", b"world\n")
    to_b(1007, 5007, "A")
    to_b(1007, 5007, "FA")
    to_a(5007, 1008, "FA")
    to_b(1008, 5008, "A")
    return seg


def dns_exchange():
    """A query for example.com A over UDP and its answer, as Ethernet frames."""
    question = b"\x07example\x03com\x00" + struct.pack("!HH", 1, 1)
    query = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + question
    answer = (struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0) + question +
              struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + ip_bytes("93.184.216.34"))
    return [
        ethernet(MAC_B, MAC_A, 0x0800, ipv4("10.0.0.1", "10.0.0.53", 17,
                                            udp_plain(5000, 53, query), ident=20)),
        ethernet(MAC_A, MAC_B, 0x0800, ipv4("10.0.0.53", "10.0.0.1", 17,
                                            udp_plain(53, 5000, answer), ident=21)),
    ]


def write_pcap(path, packets, linktype=LINKTYPE_ETHERNET, snaplen=65535, start=1796454000):
    """packets: bytes, or (bytes, wire_length) to write a record cut by the snap length."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        for i, p in enumerate(packets):
            data, wire = p if isinstance(p, tuple) else (p, len(p))
            f.write(struct.pack("<IIII", start + i, 1000 * i, len(data), wire))
            f.write(data)


def sample_packets():
    """One of each kind the chain decodes at L2/L3: ARP request and reply, ping and its
    reply, a VLAN-tagged ping, a port unreachable quoting a UDP datagram, a later fragment,
    an unknown IP protocol."""
    ping = ipv4("10.0.0.1", "10.0.0.2", 1, icmp_echo(7, 1, b"x" * 56))
    pong = ipv4("10.0.0.2", "10.0.0.1", 1, icmp_echo(7, 1, b"x" * 56, kind=0), ident=2)
    lost = ipv4("10.0.0.1", "10.0.0.2", 17, udp_plain(40000, 9, b"hi"), ident=9)
    unreachable = ipv4("10.0.0.2", "10.0.0.1", 1, icmp_error(3, 3, lost), ident=3)
    return [
        ethernet(BROADCAST, MAC_A, 0x0806,
                 arp(1, MAC_A, "10.0.0.1", b"\0" * 6, "10.0.0.2") + b"\0" * 18),
        ethernet(MAC_A, MAC_B, 0x0806, arp(2, MAC_B, "10.0.0.2", MAC_A, "10.0.0.1")),
        ethernet(MAC_B, MAC_A, 0x0800, ping),
        ethernet(MAC_A, MAC_B, 0x0800, pong),
        ethernet(MAC_B, MAC_A, 0x0800, ping, vlan=100),
        ethernet(MAC_A, MAC_B, 0x0800, unreachable),
        ethernet(MAC_B, MAC_A, 0x0800,
                 ipv4("10.0.0.1", "10.0.0.2", 17, b"y" * 16, ident=11, flags_frag=3)),
        ethernet(MAC_B, MAC_A, 0x0800, ipv4("10.0.0.1", "10.0.0.2", 99, b"abc", ident=12)),
    ]
