"""`duplex capture` on a live veth: host a (10.99.0.1) runs `duplex connect` to `duplex
listen` on host b (10.99.0.2) across the lab's bridge, while a capture on a's eth0 writes
JSON lines. The test then finds, layer by layer, the ARP request and reply, the three-way
handshake (SYN, SYN-ACK, ACK with their ports and options), the data both ways, and the FIN
exchange; and checks that -w wrote the same packets that tcpdump reads back.

Everything runs in namespaces the lab makes and removes (netns.py)."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading

from netns import DUPLEX, Lab, main, wait_for

PORT = 7000


def fields(layer):
    return {f["key"]: f["value"] for f in layer["fields"]}


def layer(packet, protocol):
    for l in packet["layers"]:
        if l["protocol"] == protocol:
            return l
    return None


def flags(packet):
    tcp = layer(packet, "TCP")
    if tcp is None:
        return None
    f = {c["key"]: c["value"] for c in next(x for x in tcp["fields"]
                                            if x["key"] == "tcp.flags")["children"]}
    return "".join(name for key, name in (("tcp.flags.syn", "S"), ("tcp.flags.fin", "F"),
                                          ("tcp.flags.reset", "R"), ("tcp.flags.push", "P"),
                                          ("tcp.flags.ack", "A")) if f.get(key) == "1")


class Capture:
    """`duplex capture` in a host's namespace, its stdout read line by line by a thread."""

    def __init__(self, host, args):
        self.proc = host.popen([DUPLEX, "capture", "-i", host.dev, "-l", *args])
        ready = self.proc.stderr.readline()
        assert f"listening on {host.dev}" in ready, ready + self.proc.stderr.read()
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=30)
        self.reader.join(timeout=30)
        assert self.proc.returncode == 0, err
        return err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def converse(lab):
    """b listens and answers "world"; a connects, says "hello", and both close."""
    a, b = lab["a"], lab["b"]
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as answer:
        answer.write("world\n")
        answer.flush()
        listener = b.popen([DUPLEX, "listen", b.ip, str(PORT)], stdin=open(answer.name))
        try:
            listening = wait_for(lambda: f":{PORT:04X} 00000000:0000 0A" in
                                 b.sh(["cat", "/proc/net/tcp"]).stdout, seconds=10)
            assert listening, "duplex listen did not listen"
            r = a.sh([DUPLEX, "connect", b.ip, str(PORT)], input="hello\n", timeout=30)
            assert r.stdout == "world\n", r
            out, err = listener.communicate(timeout=30)
            assert listener.returncode == 0, err
            assert out == "hello\n", out
        finally:
            if listener.poll() is None:
                listener.kill()
                listener.wait()


def test_handshake_data_and_fin_exchange_are_found_layer_by_layer():
    with Lab({"a": "10.99.0.1/24", "b": "10.99.0.2/24"}) as lab:
        cap = Capture(lab["a"], ["--json", f"arp or tcp port {PORT}"])
        try:
            converse(lab)
            # The last segment is a's ACK of b's FIN: wait until it was captured.
            def final_ack_seen():
                packets = [json.loads(line) for line in list(cap.lines)]
                fins = [i for i, p in enumerate(packets) if "F" in (flags(p) or "")]
                return len(fins) >= 2 and any(flags(p) == "A" for p in packets[fins[1] + 1:])
            assert wait_for(final_ack_seen, seconds=10), cap.lines
            err = cap.stop()
        finally:
            cap.kill()
        assert "packets captured" in err, err
        packets = [json.loads(line) for line in cap.lines]

        arp = [p for p in packets if layer(p, "ARP")]
        ops = [fields(layer(p, "ARP"))["arp.opcode"] for p in arp]
        assert ops[:2] == ["1", "2"], (ops, packets)
        request = fields(layer(arp[0], "ARP"))
        assert request["arp.src.proto_ipv4"] == "10.99.0.1", request
        assert request["arp.dst.proto_ipv4"] == "10.99.0.2", request
        assert layer(arp[0], "ARP")["layer"] == "link"

        tcp = [p for p in packets if layer(p, "TCP")]
        for p in tcp:
            assert [(l["osi"], l["protocol"]) for l in p["layers"]][:3] == \
                [(2, "Ethernet II"), (3, "IPv4"), (4, "TCP")], p["layers"]
            # A veth leaves checksums to "the NIC" (offload): what the capture sees is the
            # pseudo-header's sum only, which tcpdump -vv and tshark call bad; duplex says so.
            assert fields(layer(p, "TCP"))["tcp.checksum.status"] in (
                "good", "unverified (partial, offloaded)"), layer(p, "TCP")
        seen = [flags(p) for p in tcp]
        assert seen[:3] == ["S", "SA", "A"], seen
        syn = fields(layer(tcp[0], "TCP"))
        assert syn["tcp.dstport"] == str(PORT), syn
        ip = fields(layer(tcp[0], "IPv4"))
        assert (ip["ip.src"], ip["ip.dst"], ip["ip.proto"]) == ("10.99.0.1", "10.99.0.2", "6")
        assert "tcp.options.mss_val" in json.dumps(layer(tcp[0], "TCP")), syn

        data = [p for p in tcp if int(fields(layer(p, "TCP"))["tcp.len"]) > 0]
        sent = {(fields(layer(p, "IPv4"))["ip.src"], int(fields(layer(p, "TCP"))["tcp.len"]))
                for p in data}
        assert sent == {("10.99.0.1", 6), ("10.99.0.2", 6)}, sent

        fins = [(fields(layer(p, "IPv4"))["ip.src"], flags(p)) for p in tcp if "F" in flags(p)]
        assert {src for src, _ in fins} == {"10.99.0.1", "10.99.0.2"}, fins
        assert flags(tcp[-1]) == "A", seen


def test_written_file_reads_back_and_draws_the_flow():
    if shutil.which("tcpdump") is None:
        raise AssertionError("tcpdump is missing: run scripts/setup")
    with Lab({"a": "10.99.0.1/24", "b": "10.99.0.2/24"}) as lab, \
            tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "live.pcap")
        # Without immediate mode the kernel hands packets over in blocks (at the latest after
        # libpcap's 1 s timeout): stop by count, on a filter whose count is known (the ARP
        # request and reply, both SYNs and both FINs), rather than by a signal that could
        # come before the last block.
        cap = lab["a"].popen([DUPLEX, "capture", "-i", "eth0", "-w", path, "-c", "6",
                              f"arp or (tcp port {PORT} and tcp[tcpflags] & (tcp-syn|tcp-fin) != 0)"])
        try:
            assert "listening on eth0" in cap.stderr.readline()
            converse(lab)
            _, err = cap.communicate(timeout=30)
            assert cap.returncode == 0, err
            assert "6 packets captured" in err, err
        finally:
            if cap.poll() is None:
                cap.kill()
                cap.wait()
        r = subprocess.run(["tcpdump", "-nn", "-r", path], capture_output=True, text=True,
                           env={**os.environ, "TZ": "UTC"}, timeout=30)
        theirs = r.stdout.splitlines()
        ours = subprocess.run([DUPLEX, "capture", "-r", path], capture_output=True, text=True,
                              env={**os.environ, "TZ": "UTC"}, timeout=30).stdout.splitlines()
        assert len(ours) == 6 and ours == theirs, (ours, theirs)
        flow = subprocess.run([DUPLEX, "capture", "-r", path, "--flow"], capture_output=True,
                              text=True, timeout=30).stdout
        assert "ARP who-has 10.99.0.2" in flow, flow
        assert f"\u2192{PORT} [SYN] seq=0" in flow, flow
        assert "[FIN, ACK]" in flow, flow
        stats = subprocess.run([DUPLEX, "capture", "-r", path, "--stats"], capture_output=True,
                               text=True, timeout=30).stdout
        assert f"10.99.0.1:" in stats and f"<-> 10.99.0.2:{PORT}" in stats, stats
        assert "packets, 0 bytes of data, FIN" in stats, stats


if __name__ == "__main__":
    main([test_handshake_data_and_fin_exchange_are_found_layer_by_layer,
          test_written_file_reads_back_and_draws_the_flow])
