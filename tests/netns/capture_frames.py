"""Crafted Ethernet frames for the `duplex capture` tests: one or more of every header the
capture decodes (issue 11), built with scapy so that the bytes do not come from duplex.

frames() yields (label, bytes) in a fixed order: the same run makes the same pcap, so that a
disagreement found by the tshark differential test can be found again by its packet number.
Needs Debian's scapy, so run it with /usr/bin/python3 (capture_pcaps.py does).
"""

import ipaddress
import struct

from scapy.all import (  # noqa: F401 (scapy's names)
    ARP, DNS, DNSQR, DNSRR, ICMP, ICMPv6DestUnreach,
    ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_RS,
    ICMPv6NDOptDstLLAddr, ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr,
    ICMPv6PacketTooBig, ICMPv6TimeExceeded, IP, IPOption_LSRR, IPOption_NOP, IPOption_RR,
    IPOption_Router_Alert, IPOption_SSRR, IPOption_Timestamp, IPv6, IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPv6ExtHdrSegmentRouting, LLC,
    STP, TCP, UDP, Dot1AD, Dot1Q, Dot3, Ether, PadN, RouterAlert, fragment, fragment6)

from capture_diff import folded_pseudo_sum  # noqa: E402

A_MAC, B_MAC, BROADCAST = "02:00:00:00:00:01", "02:00:00:00:00:02", "ff:ff:ff:ff:ff:ff"
A4, B4 = "10.99.0.1", "10.99.0.2"
A6, B6 = "fd00:99::1", "fd00:99::2"
A_LL, B_LL = "fe80::1", "fe80::2"


def partial_checksum(src, dst, protocol, length):
    """A TCP or UDP checksum field as Linux leaves it for the NIC (checksum offload)."""
    return folded_pseudo_sum(ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed,
                             protocol, length)


def eth(src=A_MAC, dst=B_MAC):
    return Ether(src=src, dst=dst)


def v4(src=A4, dst=B4, **kw):
    return eth() / IP(src=src, dst=dst, **kw)


def v6(src=A6, dst=B6, **kw):
    return eth() / IPv6(src=src, dst=dst, **kw)


def link():
    yield "ethernet ipv4 udp", v4() / UDP(sport=40000, dport=9) / b"hello"
    yield "802.1Q priority 5", eth() / Dot1Q(vlan=100, prio=5) / IP(src=A4, dst=B4) / UDP(
        sport=40000, dport=9) / b"tagged"
    yield "802.1Q drop eligible", eth() / Dot1Q(vlan=4094, id=1) / IP(src=A4, dst=B4) / ICMP()
    yield "QinQ 802.1ad outer, 802.1Q inner", eth() / Dot1AD(vlan=200, prio=3) / Dot1Q(
        vlan=100) / IP(src=A4, dst=B4) / ICMP(id=1, seq=1)
    yield "802.1Q ARP", Ether(src=A_MAC, dst=BROADCAST) / Dot1Q(vlan=7) / ARP(
        op=1, hwsrc=A_MAC, psrc=A4, pdst=B4)
    yield "ARP request", Ether(src=A_MAC, dst=BROADCAST) / ARP(op=1, hwsrc=A_MAC, psrc=A4,
                                                             hwdst="00:00:00:00:00:00", pdst=B4)
    yield "ARP reply", eth(B_MAC, A_MAC) / ARP(op=2, hwsrc=B_MAC, psrc=B4, hwdst=A_MAC, pdst=A4)
    yield "ARP gratuitous", Ether(src=A_MAC, dst=BROADCAST) / ARP(
        op=1, hwsrc=A_MAC, psrc=A4, hwdst="00:00:00:00:00:00", pdst=A4)
    yield "IEEE 802.3 LLC STP", Dot3(src=A_MAC, dst="01:80:c2:00:00:00") / LLC() / STP()
    yield "IPv6 over 802.1Q", eth() / Dot1Q(vlan=10) / IPv6(src=A6, dst=B6) / UDP(
        sport=40500, dport=40501) / b"v6 tagged"


def ipv4():
    yield "IPv4 options RR and router alert", v4(options=[
        IPOption_RR(routers=["0.0.0.0"] * 3), IPOption_Router_Alert()]) / UDP(
            sport=1, dport=2)
    yield "IPv4 options LSRR, NOP, timestamp", v4(options=[
        IPOption_LSRR(routers=["10.99.0.3"]), IPOption_NOP(),
        IPOption_Timestamp(flg=0, timestamp=1)]) / ICMP()
    yield "IPv4 option SSRR", v4(options=[IPOption_SSRR(routers=["10.99.0.3", "10.99.0.4"])]) / (
        UDP(sport=1, dport=2))
    yield "IPv4 DSCP EF, ECN CE, TTL 1", v4(tos=0xb8 | 3, ttl=1) / UDP(sport=1, dport=2)
    yield "IPv4 don't fragment", v4(flags="DF", id=0) / UDP(sport=1, dport=2)
    yield "IPv4 reserved flag", v4(flags="evil", id=77) / UDP(sport=1, dport=2)
    datagram = IP(src=A4, dst=B4, id=0x1234) / UDP(sport=4000, dport=4001) / (b"f" * 1200)
    for i, f in enumerate(fragment(datagram, fragsize=512)):
        yield f"IPv4 fragment {i}", eth() / f
    yield "IPv4 bad header checksum", v4(chksum=0x1234) / UDP(sport=1, dport=2)
    yield "IPv4 IHL 4 (malformed)", v4(ihl=4) / UDP(sport=1, dport=2)
    yield "IPv4 total length past the frame", v4(len=200) / UDP(sport=1, dport=2)
    yield "IPv4 protocol 253 (experimental)", v4(proto=253) / b"\x01\x02\x03\x04"


def quoted_udp(src=A4, dst=B4):
    return IP(src=src, dst=dst, ttl=1, id=99) / UDP(sport=33000, dport=33434) / b"probe"


def icmp():
    yield "ICMP echo request", v4() / ICMP(type=8, id=0x1d, seq=1) / (b"\x00" * 16)
    yield "ICMP echo reply", v4(B4, A4) / ICMP(type=0, id=0x1d, seq=1) / (b"\x00" * 16)
    yield "ICMP port unreachable quoting UDP", v4(B4, A4) / ICMP(type=3, code=3) / quoted_udp()
    yield "ICMP fragmentation needed, MTU 1400", v4(B4, A4) / ICMP(
        type=3, code=4, nexthopmtu=1400) / quoted_udp()
    yield "ICMP time exceeded quoting UDP", v4("10.99.0.254", A4) / ICMP(type=11) / quoted_udp()
    yield "ICMP redirect", v4("10.99.0.254", A4) / ICMP(type=5, code=1,
                                                         gw="10.99.0.3") / quoted_udp()
    yield "ICMP timestamp request", v4() / ICMP(type=13, id=5, seq=6, ts_ori=1000, ts_rx=0,
                                                ts_tx=0)
    yield "ICMP parameter problem", v4(B4, A4) / ICMP(type=12, ptr=9) / quoted_udp()
    yield "ICMP bad checksum", v4() / ICMP(type=8, id=1, seq=2, chksum=0xdead) / b"x"
    # As routers quote: the IP header and the first 8 bytes of the TCP header (ports, seq).
    syn = bytes(IP(src=A4, dst=B4, ttl=1, id=7) / TCP(sport=40000, dport=443, flags="S",
                                                     seq=123456789))[:28]
    yield "ICMP host unreachable quoting 8 bytes of TCP", v4(B4, A4) / ICMP(type=3,
                                                                            code=1) / syn


def icmpv6():
    yield "ICMPv6 echo request", v6() / ICMPv6EchoRequest(id=0x42, seq=1, data=b"ping6")
    yield "ICMPv6 echo reply", v6(B6, A6) / ICMPv6EchoReply(id=0x42, seq=1, data=b"ping6")
    yield "ICMPv6 neighbour solicitation", eth(A_MAC, "33:33:ff:00:00:02") / IPv6(
        src=A_LL, dst="ff02::1:ff00:2", hlim=255) / ICMPv6ND_NS(tgt=B6) / ICMPv6NDOptSrcLLAddr(
            lladdr=A_MAC)
    yield "ICMPv6 neighbour advertisement", eth(B_MAC, A_MAC) / IPv6(
        src=B_LL, dst=A_LL, hlim=255) / ICMPv6ND_NA(tgt=B6, R=0, S=1, O=1) / (
            ICMPv6NDOptDstLLAddr(lladdr=B_MAC))
    yield "ICMPv6 router solicitation", eth(A_MAC, "33:33:00:00:00:02") / IPv6(
        src=A_LL, dst="ff02::2", hlim=255) / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=A_MAC)
    yield "ICMPv6 router advertisement", eth(B_MAC, "33:33:00:00:00:01") / IPv6(
        src=B_LL, dst="ff02::1", hlim=255) / ICMPv6ND_RA(chlim=64, O=1, routerlifetime=1800) / (
            ICMPv6NDOptPrefixInfo(prefix="fd00:99::", prefixlen=64)) / ICMPv6NDOptMTU(
                mtu=1500) / ICMPv6NDOptSrcLLAddr(lladdr=B_MAC)
    inner = IPv6(src=A6, dst=B6, hlim=1) / UDP(sport=33000, dport=33434) / b"probe"
    yield "ICMPv6 packet too big", v6(B6, A6) / ICMPv6PacketTooBig(mtu=1280) / inner
    yield "ICMPv6 port unreachable", v6(B6, A6) / ICMPv6DestUnreach(code=4) / inner
    yield "ICMPv6 time exceeded", v6("fd00:99::fe", A6) / ICMPv6TimeExceeded() / inner
    syn6 = bytes(IPv6(src=A6, dst=B6, hlim=1) / TCP(sport=40000, dport=443, flags="S",
                                                      seq=987654321))[:48]
    yield "ICMPv6 time exceeded quoting 8 bytes of TCP", v6("fd00:99::fe", A6) / (
        ICMPv6TimeExceeded()) / syn6
    yield "ICMPv6 bad checksum", v6() / ICMPv6EchoRequest(id=1, seq=1, cksum=0x1234)


def ipv6():
    udp = UDP(sport=40500, dport=40501) / b"ext"
    yield "IPv6 flow label, traffic class", v6(tc=0xb8, fl=0x12345, hlim=7) / udp
    yield "IPv6 hop-by-hop router alert, PadN", v6() / IPv6ExtHdrHopByHop(
        options=[RouterAlert(), PadN(optdata=b"\x00\x00")]) / udp
    yield "IPv6 routing type 0", v6() / IPv6ExtHdrRouting(
        addresses=["fd00:99::3", "fd00:99::4"], segleft=2) / udp
    yield "IPv6 segment routing header", v6() / IPv6ExtHdrSegmentRouting(
        addresses=["fd00:99::5", "fd00:99::6"], segleft=1) / udp
    yield "IPv6 destination options, TCP", v6() / IPv6ExtHdrDestOpt(
        options=[PadN(optdata=b"\x00\x00\x00\x00")]) / TCP(sport=40502, dport=80, flags="S")
    yield "IPv6 chain HBH, dest opts, routing, atomic fragment", v6() / IPv6ExtHdrHopByHop() / (
        IPv6ExtHdrDestOpt()) / IPv6ExtHdrRouting(addresses=[B6]) / IPv6ExtHdrFragment(
            id=9, offset=0, m=0) / udp
    big = IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment(id=0xabcd) / UDP(
        sport=40500, dport=40501) / (b"g" * 1300)
    for i, f in enumerate(fragment6(big, 600)):
        yield f"IPv6 fragment {i}", eth() / f


TCP_OPTIONS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None),
               ("WScale", 7)]


def tcp():
    def seg(flags, src=A4, dst=B4, sport=40000, dport=80, **kw):
        return v4(src, dst) / TCP(sport=sport, dport=dport, flags=flags, **kw)

    yield "TCP SYN with MSS, SACK-permitted, timestamps, window scale", seg(
        "S", seq=1000, window=64240, options=TCP_OPTIONS)
    yield "TCP SYN-ACK", seg("SA", B4, A4, 80, 40000, seq=5000, ack=1001, window=65160,
                             options=[("MSS", 1400), ("NOP", None), ("NOP", None),
                                      ("SAckOK", b""), ("NOP", None), ("WScale", 2)])
    yield "TCP ACK with two SACK blocks", seg("A", seq=1001, ack=5001, options=[
        ("NOP", None), ("NOP", None), ("SAck", (6000, 7000, 8000, 9000)),
        ("NOP", None), ("NOP", None), ("Timestamp", (1001, 77))])
    for flag in "FSRPAUECN":
        yield f"TCP flag {flag} alone", seg(flag, seq=1, ack=0)
    yield "TCP every flag", seg("FSRPAUECN", seq=2, ack=3, urgptr=4)
    yield "TCP urgent data", seg("PAU", seq=10, ack=20, urgptr=3) / b"urgent"
    yield "TCP data", seg("PA", seq=1001, ack=5001) / b"some data"
    yield "TCP bad checksum", seg("A", seq=1, ack=1, chksum=0xbeef)
    # What a capture on lo or a veth holds (checksum offload): the pseudo-header's sum only.
    yield "TCP checksum left to the NIC (partial)", seg(
        "PA", seq=1, ack=1, chksum=partial_checksum(A4, B4, 6, 20 + 7)) / b"offload"
    yield "TCP data offset past the segment", seg("S", dataofs=15)
    yield "TCP data offset below 5", seg("S", dataofs=3)
    yield "TCP over IPv6", v6() / TCP(sport=40001, dport=443, flags="S", seq=7,
                                      options=TCP_OPTIONS)
    yield "TCP FIN-ACK", seg("FA", seq=1010, ack=5001)
    yield "TCP RST-ACK", seg("RA", B4, A4, 80, 40000, seq=5001, ack=1011)


def udp():
    yield "UDP", v4() / UDP(sport=12345, dport=9999) / b"datagram"
    yield "UDP checksum 0 over IPv4", v4() / UDP(sport=12345, dport=9999, chksum=0) / b"nock"
    yield "UDP bad checksum", v4() / UDP(sport=12345, dport=9999, chksum=0x1111) / b"bad"
    yield "UDP checksum left to the NIC (partial)", v4() / UDP(
        sport=12345, dport=9999, chksum=partial_checksum(A4, B4, 17, 8 + 7)) / b"offload"
    yield "UDP over IPv6, checksum left to the NIC (partial)", v6() / UDP(
        sport=12345, dport=9999, chksum=partial_checksum(A6, B6, 17, 8 + 7)) / b"offload"
    yield "UDP length past the datagram", v4() / UDP(sport=12345, dport=9999, len=100) / b"x"
    yield "UDP over IPv6", v6() / UDP(sport=12345, dport=9999) / b"v6 datagram"


def dns_name(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"


def mx_txt_soa_srv():
    """An answer to ANY? example.com with MX, TXT, SOA and SRV records, written out by hand
    (scapy 2.5 builds DNSRRMX with the wrong type), names compressed to the question's."""
    here = b"\xc0\x0c"  # a pointer to "example.com" at byte 12

    def rr(name, kind, data, ttl=300):
        return name + struct.pack("!HHIH", kind, 1, ttl, len(data)) + data

    soa = (b"\x03ns1" + here + b"\x0ahostmaster" + here
           + struct.pack("!IIIII", 2026120501, 7200, 3600, 1209600, 300))
    srv = struct.pack("!HHH", 1, 5, 5060) + b"\x03sip" + here
    answers = [rr(here, 15, struct.pack("!H", 10) + b"\x04mail" + here),
               rr(here, 16, b"\x0bv=spf1 -all"),
               rr(here, 6, soa),
               rr(b"\x04_sip\x04_tcp" + here, 33, srv)]
    return (struct.pack("!HHHHHH", 0x2002, 0x8180, 1, len(answers), 0, 0)
            + dns_name("example.com") + struct.pack("!HH", 255, 1) + b"".join(answers))


def dns():
    def over_udp(payload, query=True):
        if query:
            return v4() / UDP(sport=53000, dport=53) / payload
        return v4(B4, A4) / UDP(sport=53, dport=53000) / payload

    yield "DNS query A", over_udp(DNS(id=0x1001, rd=1, qd=DNSQR(qname="www.example.com")))
    yield "DNS query AAAA over IPv6", v6() / UDP(sport=53001, dport=53) / DNS(
        id=0x1002, rd=1, qd=DNSQR(qname="example.org", qtype="AAAA"))
    answer = DNS(id=0x1001, qr=1, aa=1, rd=1, ra=1, qd=DNSQR(qname="www.example.com"),
                 an=DNSRR(rrname="www.example.com", type="CNAME", rdata="web.example.com")
                 / DNSRR(rrname="web.example.com", type="A", ttl=300, rdata="192.0.2.10")
                 / DNSRR(rrname="web.example.com", type="AAAA", rdata="2001:db8::10"),
                 ns=DNSRR(rrname="example.com", type="NS", rdata="ns1.example.com"),
                 ar=DNSRR(rrname="ns1.example.com", type="A", rdata="192.0.2.53"))
    yield "DNS answer CNAME, A, AAAA, NS with compression", over_udp(answer.compress(), False)
    yield "DNS answer MX, TXT, SOA, SRV", over_udp(mx_txt_soa_srv(), False)
    yield "DNS PTR answer", over_udp(DNS(
        id=0x3003, qr=1, qd=DNSQR(qname="10.2.0.192.in-addr.arpa", qtype="PTR"),
        an=DNSRR(rrname="10.2.0.192.in-addr.arpa", type="PTR", rdata="web.example.com"))
        .compress(), False)
    yield "DNS NXDOMAIN", over_udp(DNS(id=0x4004, qr=1, rcode=3, qd=DNSQR(
        qname="missing.example.com")), False)
    loop = struct.pack("!HHHHHH", 0x5005, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c" + b"\x00\x01\x00\x01"
    yield "DNS compression loop (malformed)", over_udp(loop)
    query = bytes(DNS(id=0x6006, rd=1, qd=DNSQR(qname="tcp.example.com")))
    yield "DNS query over TCP", v4() / TCP(sport=53002, dport=53, flags="PA", seq=1, ack=1) / (
        struct.pack("!H", len(query)) + query)


def http():
    def seg(payload, request=True, sport=40100, **kw):
        if request:
            return v4() / TCP(sport=sport, dport=80, flags="PA", **kw) / payload
        return v4(B4, A4) / TCP(sport=80, dport=sport, flags="PA", **kw) / payload

    yield "HTTP GET", seg(b"GET /index.html HTTP/1.1\r\nHost: b.test\r\n"
                          b"User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n", seq=1, ack=1)
    body = b"<h1>hello</h1>\n"
    yield "HTTP 200 response", seg(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                                   b"Content-Length: %d\r\n\r\n" % len(body) + body, False,
                                   seq=1, ack=80)
    yield "HTTP POST with a body", seg(b"POST /_echo HTTP/1.1\r\nHost: b.test\r\n"
                                       b"Content-Length: 5\r\n"
                                       b"Content-Type: text/plain\r\n\r\nhello", sport=40101)
    yield "HTTP 404 response", seg(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", False,
                                   sport=40101)
    yield "HTTP/1.0 HEAD", seg(b"HEAD / HTTP/1.0\r\n\r\n", sport=40102)


def websocket():
    def seg(payload, request, seq, ack):
        if request:
            return v4() / TCP(sport=40200, dport=80, flags="PA", seq=seq, ack=ack) / payload
        return v4(B4, A4) / TCP(sport=80, dport=40200, flags="PA", seq=seq, ack=ack) / payload

    upgrade = (b"GET /ws HTTP/1.1\r\nHost: b.test\r\nUpgrade: websocket\r\n"
               b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               b"Sec-WebSocket-Version: 13\r\n\r\n")
    yield "WebSocket upgrade request", seg(upgrade, True, 1, 1)
    switching = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\n"
                 b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRrK+xOo=\r\n\r\n")
    yield "WebSocket 101 Switching Protocols", seg(switching, False, 1, 1 + len(upgrade))
    key = b"\x37\xfa\x21\x3d"
    masked = bytes(c ^ key[i % 4] for i, c in enumerate(b"Hello"))
    yield "WebSocket masked text frame", seg(b"\x81\x85" + key + masked, True, 1 + len(upgrade),
                                             1 + len(switching))
    yield "WebSocket text frame", seg(b"\x81\x05Hello", False, 1 + len(switching),
                                      12 + len(upgrade))
    yield "WebSocket ping", seg(b"\x89\x00", False, 8 + len(switching), 12 + len(upgrade))
    yield "WebSocket close 1000", seg(b"\x88\x02\x03\xe8", False, 10 + len(switching),
                                      12 + len(upgrade))


def tls_client_hello(server_name, alpn):
    def ext(kind, body):
        return struct.pack("!HH", kind, len(body)) + body

    name = server_name.encode()
    sni = struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
    protocols = b"".join(bytes([len(p)]) + p.encode() for p in alpn)
    extensions = ext(0, sni) + ext(16, struct.pack("!H", len(protocols)) + protocols)
    extensions += ext(43, b"\x04\x03\x04\x03\x03")  # supported_versions: TLS 1.3, 1.2
    extensions += ext(10, b"\x00\x04\x00\x1d\x00\x17")  # supported_groups: x25519, P-256
    suites = b"\x13\x01\x13\x02\xc0\x2f"
    hello = b"\x03\x03" + bytes(range(32)) + b"\x20" + bytes(range(32, 64))
    hello += struct.pack("!H", len(suites)) + suites + b"\x01\x00"
    hello += struct.pack("!H", len(extensions)) + extensions
    handshake = b"\x01" + struct.pack("!I", len(hello))[1:] + hello
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


def tls():
    yield "TLS ClientHello with SNI and ALPN", v4() / TCP(
        sport=40300, dport=443, flags="PA", seq=1, ack=1) / tls_client_hello(
            "www.example.com", ["h2", "http/1.1"])
    yield "TLS ClientHello over IPv6", v6() / TCP(sport=40301, dport=443, flags="PA") / (
        tls_client_hello("duplex.test", ["http/1.1"]))


def frames():
    """Every crafted frame, as (label, bytes)."""
    for group in (link, ipv4, icmp, ipv6, icmpv6, tcp, udp, dns, http, websocket, tls):
        for label, packet in group():
            yield label, bytes(packet)
