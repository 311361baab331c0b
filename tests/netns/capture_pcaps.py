"""Makes the pcap files that the `duplex capture` tests read (issue 11):

  crafted.pcap    every frame of capture_frames.py (scapy), Ethernet
  truncated.pcap  the same frames cut short at several snap lengths (caplen < wire length)
  sll.pcap        some of them behind a Linux cooked header v1 (DLT_LINUX_SLL, 113)
  sll2.pcap       and v2 (DLT_LINUX_SLL2, 276), as `-i any` records
  live.pcap       real traffic between two network namespaces, recorded by tcpdump on a
                  veth: ARP, ping and ping -6 (with NDP), `duplex listen` and `duplex connect`
                  (handshake, data, FIN), curl against `duplex http serve`, openssl s_client
                  and s_server (TLS with SNI and ALPN), a raw-socket WebSocket client against
                  `duplex serve`'s /ws/chat (masked frames, a ping, the close), a DNS query
                  to a closed port and a UDP datagram to one over IPv6 (the ICMP and ICMPv6
                  port unreachables that quote them)
  live_any.pcap   the same traffic recorded by a second tcpdump on `any` (SLL2)

    /usr/bin/python3 capture_pcaps.py OUTDIR [--no-live] [--corpus DIR]

--corpus also writes every crafted frame as a libFuzzer seed for tests/fuzz/capture_fuzz.cc:
one byte naming the link type (0 Ethernet, 1 SLL, 2 SLL2, 3 raw IP; bit 7: cut by a snap
length), then the frame. The live part
needs root, tcpdump, curl, openssl and `duplex` ($DUPLEX); its namespaces are removed on exit.
Run with Debian's python (/usr/bin/python3), which has scapy.
"""

import argparse
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import Lab, reap_stale, wait_for  # noqa: E402

LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 = 1, 113, 276
# The snap lengths truncated.pcap cuts at: inside and just past the Ethernet, VLAN, IPv4,
# IPv6, TCP, UDP and ICMP headers, and inside the first bytes of DNS, HTTP and TLS.
SNAPLENS = (6, 13, 16, 20, 25, 34, 38, 42, 47, 54, 58, 62, 66, 70, 74, 80, 90, 100, 128)
BASE_TIME = 1796454000  # 2026-12-05T07:00:00Z: fixed, so the files are the same every run


def write_pcap(path, linktype, records, snaplen=262144):
    """Writes a classic pcap (microsecond, little-endian); records are (bytes, wire_length)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        for i, (data, wire_length) in enumerate(records):
            f.write(struct.pack("<IIII", BASE_TIME + i // 1000, (i % 1000) * 1000, len(data),
                                wire_length))
            f.write(data)


def sll(frame, packet_type=0):
    """The frame with its Ethernet header replaced by a Linux cooked v1 header."""
    header = struct.pack("!HHH", packet_type, 1, 6) + frame[6:12] + b"\0\0"
    return header + frame[12:14] + frame[14:]


def sll2(frame, packet_type=4, ifindex=2):
    """The frame with its Ethernet header replaced by a Linux cooked v2 header."""
    header = frame[12:14] + b"\0\0" + struct.pack("!IHBB", ifindex, 1, packet_type, 6)
    return header + frame[6:12] + b"\0\0" + frame[14:]


def write_labels(path, labels):
    """What each packet of a pcap is, one line per packet: the test names packets by it."""
    with open(path, "w") as f:
        f.write("".join(label + "\n" for label in labels))


def write_crafted(outdir):
    from capture_frames import frames  # scapy: only Debian's python has it
    labelled = list(frames())
    crafted = [data for _, data in labelled]
    write_pcap(os.path.join(outdir, "crafted.pcap"), LINKTYPE_ETHERNET,
               [(d, len(d)) for d in crafted])
    write_labels(os.path.join(outdir, "crafted.labels"), [label for label, _ in labelled])
    cut = [(label, d, n) for label, d in labelled for n in SNAPLENS if n < len(d)]
    write_pcap(os.path.join(outdir, "truncated.pcap"), LINKTYPE_ETHERNET,
               [(d[:n], len(d)) for _, d, n in cut], max(SNAPLENS))
    write_labels(os.path.join(outdir, "truncated.labels"),
                 [f"{label}, cut at {n} of {len(d)} bytes" for label, d, n in cut])
    # The cooked files need no VLAN or 802.3 frames: the tags and lengths are Ethernet's.
    plain = [d for d in crafted if d[12:14] in (b"\x08\x00", b"\x86\xdd", b"\x08\x06")]
    write_pcap(os.path.join(outdir, "sll.pcap"), LINKTYPE_LINUX_SLL,
               [(sll(d, i % 5), len(d) + 2) for i, d in enumerate(plain)])
    write_pcap(os.path.join(outdir, "sll2.pcap"), LINKTYPE_LINUX_SLL2,
               [(sll2(d, i % 5), len(d) + 6) for i, d in enumerate(plain)])


def write_corpus(directory):
    from capture_frames import frames
    os.makedirs(directory, exist_ok=True)
    for i, (label, data) in enumerate(frames()):
        name = f"{i:03d}-" + "".join(c if c.isalnum() else "_" for c in label.lower())[:48]
        seeds = [(0, data)]
        if i % 4 == 0:
            seeds += [(1, sll(data)), (2, sll2(data))]
        if i % 4 == 1 and data[12:14] in (b"\x08\x00", b"\x86\xdd"):
            seeds.append((3, data[14:]))  # DLT_RAW: the IP packet alone
        if i % 4 == 2:
            seeds.append((0x80, data[:len(data) * 2 // 3]))  # cut by a snap length
        for link, seed in seeds:
            with open(os.path.join(directory, f"{name}-{link}"), "wb") as f:
                f.write(bytes([link]) + seed)


# --- Live traffic -----------------------------------------------------------------------------

MARKER = b"duplex-capture-pcaps: end of traffic"


class Recorder:
    """tcpdump writing every packet at once (-U, --immediate-mode) inside a namespace."""

    def __init__(self, host, interface, path, extra=()):
        self.path = path
        self.proc = host.popen(["tcpdump", "-i", interface, "-U", "--immediate-mode", "-n",
                                "-s", "262144", "-w", path] + list(extra))
        ready = read_until(self.proc.stderr, b"listening on", 10)
        if not ready:
            self.proc.kill()
            raise AssertionError(f"tcpdump on {interface} did not start")

    def holds(self, needle):
        try:
            with open(self.path, "rb") as f:
                return needle in f.read()
        except FileNotFoundError:
            return False

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=10)


def read_until(stream, needle, seconds):
    """Reads `stream` (binary) until `needle` appears or `seconds` pass."""
    deadline, seen = time.monotonic() + seconds, b""
    fd = stream.fileno()
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return False
        chunk = os.read(fd, 4096)
        if not chunk:
            return False
        seen += chunk
    return True


def make_certificate(directory):
    key, cert = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=b.test"], check=True, capture_output=True)
    return key, cert


def listening(host, port):
    return f":{port} " in host.sh(["ss", "-Hltn"]).stdout


def send_udp(host, address, port, payload):
    code = ("import socket,sys;s=socket.socket(socket.AF_INET6 if ':' in sys.argv[2] else "
            "socket.AF_INET,socket.SOCK_DGRAM);"
            "s.sendto(bytes.fromhex(sys.argv[1]),(sys.argv[2],int(sys.argv[3])))")
    host.sh([sys.executable, "-c", code, payload.hex(), address, str(port)])


def talk(lab, duplex, scratch):
    """The traffic between a and b that the recorders see."""
    a, b = lab["a"], lab["b"]
    a.sh(["ping", "-c", "2", "-i", "0.2", b.ip])
    a.sh(["ping", "-6", "-c", "2", "-i", "0.2", "fd00:99::2"])

    # duplex listen and duplex connect: handshake, data both ways, FIN both ways.
    listener = b.popen([duplex, "listen", "41000"], stdin=subprocess.PIPE)
    listener.stdin.write("hello from b\n")
    listener.stdin.close()
    if not wait_for(lambda: listening(b, 41000), 10):
        raise AssertionError("duplex listen did not start")
    a.sh([duplex, "connect", b.ip, "41000"], input="hello from a\n")
    listener.wait(timeout=10)

    # curl against duplex http serve: a page, a 404, a HEAD.
    root = os.path.join(scratch, "www")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("<h1>duplex capture</h1>\n")
    server = b.popen([duplex, "http", "serve", root, "--port", "80"])
    try:
        if not wait_for(lambda: listening(b, 80), 10):
            raise AssertionError("duplex http serve did not start")
        a.sh(["curl", "-s", "-o", "/dev/null", f"http://{b.ip}/index.html",
              f"http://{b.ip}/missing"])
        a.sh(["curl", "-s", "-I", "-o", "/dev/null", f"http://{b.ip}/"])
    finally:
        server.terminate()
        server.wait(timeout=10)

    # TLS: a ClientHello with SNI and ALPN, the server's answer, the close.
    key, cert = make_certificate(scratch)
    tls = b.popen(["openssl", "s_server", "-accept", "443", "-key", key, "-cert", cert,
                   "-alpn", "h2,http/1.1", "-naccept", "1", "-quiet"], stdin=subprocess.PIPE)
    try:
        if not wait_for(lambda: listening(b, 443), 10):
            raise AssertionError("openssl s_server did not start")
        a.sh(["openssl", "s_client", "-connect", f"{b.ip}:443", "-servername", "b.test",
              "-alpn", "h2,http/1.1"], input="", check=False)
    finally:
        tls.kill()
        tls.wait(timeout=10)

    websocket_exchange(a, b, duplex, scratch)

    # A DNS query to a port where nobody listens: the reply is ICMP port unreachable.
    query = (struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x06duplex\x04test\x00"
             + b"\x00\x01\x00\x01")
    send_udp(a, b.ip, 53, query)
    # And over IPv6 to a closed port: ICMPv6 port unreachable, quoting the datagram.
    send_udp(a, "fd00:99::2", 9, b"nobody here")


# A WebSocket client made of raw socket calls (no library between the test and the bytes):
# the Upgrade, then masked text frames (one of them and a ping in one segment), the server's
# frames read back, and the close handshake.
WS_CLIENT = r"""
import base64, os, socket, struct, sys, time
host, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET /ws/chat?token={token} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(4096)
assert head.startswith(b"HTTP/1.1 101"), head
def frame(opcode, payload):
    mask = os.urandom(4)
    body = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body
s.sendall(frame(1, b'{"type":"join","room":"capture","name":"a"}'))
time.sleep(0.3)
s.sendall(frame(1, b'{"type":"say","text":"hello over websocket"}') + frame(9, b"are you there"))
time.sleep(0.3)
s.sendall(frame(8, struct.pack("!H", 1000) + b"bye"))
s.settimeout(5)
try:
    while s.recv(4096):
        pass
except OSError:
    pass
s.close()
"""


def websocket_exchange(a, b, duplex, scratch):
    """A WebSocket conversation with `duplex serve`'s /ws/chat, on port 8080 (where tshark
    reads HTTP, and so sees the Upgrade that makes the rest WebSocket)."""
    server = b.popen([duplex, "serve", "--bind", "0.0.0.0", "--no-tls", "--port", "8080", "--token",
                      "capture", "--chat-port", "0", "--no-discovery", "--db",
                      os.path.join(scratch, "chat.db")])
    try:
        if not wait_for(lambda: listening(b, 8080), 10):
            raise AssertionError("duplex serve did not start")
        a.sh([sys.executable, "-c", WS_CLIENT, b.ip, "8080", "capture"], timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=10)


def enable_ipv6(lab):
    """The lab turns IPv6 off; ping -6 and NDP need it back: a gets fd00:99::1, b ::2."""
    for i, host in enumerate((lab["a"], lab["b"]), 1):
        host.sh(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0",
                 "net.ipv6.conf.eth0.disable_ipv6=0"])
        host.sh(["ip", "-6", "addr", "add", f"fd00:99::{i}/64", "dev", "eth0", "nodad"])


def record_live(outdir, duplex):
    reap_stale()
    with Lab({"a": "10.99.0.1/24", "b": "10.99.0.2/24"}) as lab, \
            tempfile.TemporaryDirectory() as scratch:
        enable_ipv6(lab)
        recorders = [Recorder(lab["a"], "eth0", os.path.join(outdir, "live.pcap")),
                     Recorder(lab["b"], "any", os.path.join(outdir, "live_any.pcap"))]
        try:
            talk(lab, duplex, scratch)
            send_udp(lab["a"], lab["b"].ip, 9, MARKER)
            for r in recorders:
                if not wait_for(lambda: r.holds(MARKER), 10):
                    raise AssertionError(f"{r.path} never saw the last datagram")
        finally:
            for r in recorders:
                r.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir")
    parser.add_argument("--no-live", action="store_true", help="crafted files only")
    parser.add_argument("--corpus", help="also write the fuzz seeds to this directory")
    parser.add_argument("--duplex", default=os.environ.get("DUPLEX", "duplex"))
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    write_crafted(args.outdir)
    if args.corpus:
        write_corpus(args.corpus)
    if not args.no_live:
        missing = [t for t in ("tcpdump", "curl", "openssl", "ss", "ping", args.duplex)
                   if not shutil.which(t)]
        if missing:
            sys.exit(f"capture_pcaps.py: {', '.join(missing)} missing; run scripts/setup "
                     "(and give the duplex binary with --duplex or $DUPLEX)")
        record_live(args.outdir, args.duplex)
    for name in sorted(os.listdir(args.outdir)):
        if name.endswith(".pcap"):
            print(os.path.join(args.outdir, name))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
