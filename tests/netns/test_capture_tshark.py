"""`duplex capture --json` against tshark, field by field (issue 11's differential test).

capture_pcaps.py makes the pcaps: crafted frames (scapy) of every header duplex decodes, the
same frames cut short, Linux cooked captures, and real traffic between two network
namespaces (ARP, ping, ping -6 and NDP, `duplex connect`/`listen`, curl against `duplex
http serve`, openssl s_client/s_server, DNS to a closed port). capture_diff.py decodes each
with both tools and compares them: the rules, the minimum keys per protocol and the list
of protocols duplex does not decode yet are there.

A disagreement is printed as
    disagree crafted.pcap #26 (ICMP port unreachable quoting UDP): ip.ttl: duplex [...] ...
and found again with `tshark -r FILE -Y frame.number==26 -V` beside `duplex capture -r FILE
-V` (capture_pcaps.py OUTDIR keeps the files).
"""

import atexit
import os
import shutil
import subprocess
import tempfile
from collections import Counter

import capture_diff
from capture_diff import Findings, compare, decode, never_compared
from netns import DUPLEX, main
from prerequisites import exit_skipped

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, which has scapy
FILES = ["crafted.pcap", "truncated.pcap", "sll.pcap", "sll2.pcap", "live.pcap",
         "live_any.pcap"]

_made = {}


def pcap_dir():
    """Makes the pcaps once per run (about 5 seconds), in a directory removed at exit."""
    if "dir" not in _made:
        d = tempfile.mkdtemp(prefix="duplex-capture-pcaps-")
        atexit.register(shutil.rmtree, d, True)
        r = subprocess.run([SYSTEM_PYTHON, os.path.join(HERE, "capture_pcaps.py"), d,
                            "--duplex", DUPLEX], capture_output=True, text=True, timeout=180)
        if r.returncode != 0:
            raise AssertionError(f"capture_pcaps.py exited {r.returncode}: {r.stderr.strip()}")
        _made["dir"] = d
    return _made["dir"]


def decoded(name):
    """The Packets of one pcap, decoded by both tools once per run."""
    if name not in _made:
        path = os.path.join(pcap_dir(), name)
        labels = None
        if os.path.exists(path.replace(".pcap", ".labels")):
            with open(path.replace(".pcap", ".labels")) as f:
                labels = f.read().splitlines()
        _made[name] = decode(path, DUPLEX, labels)
    return _made[name]


def check(*names):
    findings = Findings()
    for name in names:
        compare(name, decoded(name), findings)
    problems = findings.problems()
    assert not problems, "\n  " + "\n  ".join(problems)
    return findings


def test_crafted_frames_agree_with_tshark():
    f = check("crafted.pcap")
    assert f.agreed["ip.src"] >= 50 and f.agreed["eth.type"] >= 90, f.agreed


def test_truncated_frames_agree_with_tshark():
    # A cut frame must show only the fields whose bytes were captured, as tshark does, and
    # checksums it cannot verify as unverified.
    check("truncated.pcap")


def test_cooked_captures_agree_with_tshark():
    check("sll.pcap", "sll2.pcap")


def test_live_traffic_agrees_with_tshark():
    f = check("live.pcap", "live_any.pcap")
    assert f.agreed["arp.opcode"] >= 2 and f.agreed["icmp.type"] >= 4, f.agreed
    # The WebSocket exchange with duplex serve: frames both ways, masked and not, a ping, a
    # pong and the close, each compared (tshark knows them from the Upgrade, as duplex does).
    assert f.agreed["websocket.opcode"] >= 16 and f.agreed["websocket.masking_key"] >= 6, \
        (f.agreed["websocket.opcode"], f.agreed["websocket.masking_key"])


def test_offloaded_checksums_are_partial_not_bad():
    # A veth leaves TCP and UDP checksums to "the NIC": every segment the capture saw holds
    # the pseudo-header's sum only. duplex says so (tshark says bad; check() above made sure
    # that each field holds that sum); real traffic has no wrong checksum at all.
    for name in ("live.pcap", "live_any.pcap"):
        statuses = Counter(v for p in decoded(name) for k in ("tcp.checksum.status",
                                                               "udp.checksum.status")
                           for v in p.duplex.get(k, [])[:1])
        assert statuses[capture_diff.PARTIAL] >= 20 and statuses["bad"] == 0, (name, statuses)
    labels = {p.label: p for p in decoded("crafted.pcap")}
    for label in ("TCP checksum left to the NIC (partial)",
                  "UDP checksum left to the NIC (partial)",
                  "UDP over IPv6, checksum left to the NIC (partial)"):
        p = labels[label]
        key = ("udp" if "udp" in p.protocols else "tcp") + ".checksum.status"
        assert p.duplex[key] == [capture_diff.PARTIAL], (label, p.duplex[key])


def test_every_minimum_key_was_compared_somewhere():
    # Otherwise the pcaps would lack a case and the test would check less than MINIMUM says.
    findings = Findings()
    for name in FILES:
        compare(name, decoded(name), findings)
    missing = never_compared(findings)
    assert not missing, f"no packet compared {missing}; add a frame to capture_frames.py"
    print(f"  compared {sum(findings.agreed.values())} values of {len(findings.agreed)} keys; "
          "not decoded by duplex yet: "
          f"{', '.join(sorted(capture_diff.EXPECTED_MISSING)) or 'none'}",
          flush=True)


def first_packet_with(key):
    for p in decoded("crafted.pcap"):
        if key in p.duplex and key in p.tshark:
            return p
    raise AssertionError(f"no crafted packet where both decode {key}")


def test_self_test_a_wrong_value_is_caught():
    p = first_packet_with("ip.ttl")
    wrong = capture_diff.Packet(p.number, p.label, p.protocols, p.tshark,
                                dict(p.duplex, **{"ip.ttl": [str(int(p.duplex["ip.ttl"][0]) + 1)]
                                                  + p.duplex["ip.ttl"][1:]}))
    f = compare("self-test", [wrong], Findings())
    assert [d[1] for d in f.disagree] == ["ip.ttl"], f.problems()


def test_self_test_a_missing_minimum_key_is_caught():
    p = first_packet_with("ip.src")
    lacking = capture_diff.Packet(p.number, p.label, p.protocols, p.tshark,
                                  {k: v for k, v in p.duplex.items() if k != "ip.src"})
    f = compare("self-test", [lacking], Findings())
    assert [(m[1], m[2]) for m in f.missing] == [("ip", "ip.src")], f.problems()


def test_self_test_an_unlisted_protocol_is_caught():
    p = first_packet_with("ip.src")
    odd = capture_diff.Packet(p.number, p.label, p.protocols + ["quic"], p.tshark, p.duplex)
    f = compare("self-test", [odd], Findings())
    assert list(f.unknown) == ["quic"], f.problems()


def test_self_test_a_protocol_listed_missing_but_decoded_is_caught():
    p = first_packet_with("ip.src")
    saved = dict(capture_diff.EXPECTED_MISSING)
    capture_diff.EXPECTED_MISSING["ip"] = "pretend"
    try:
        f = compare("self-test", [p], Findings())
    finally:
        capture_diff.EXPECTED_MISSING.clear()
        capture_diff.EXPECTED_MISSING.update(saved)
    assert list(f.stale) == ["ip"], f.problems()


def test_self_test_a_wrong_partial_checksum_claim_is_caught():
    # "TCP bad checksum" holds 0xbeef, not the pseudo-header's sum: partial would be a lie.
    p = next(p for p in decoded("crafted.pcap") if p.label == "TCP bad checksum")
    lying = capture_diff.Packet(p.number, p.label, p.protocols, p.tshark,
                                dict(p.duplex, **{"tcp.checksum.status": [capture_diff.PARTIAL]}))
    f = compare("self-test", [lying], Findings())
    assert [d[1] for d in f.disagree] == ["tcp.checksum.status"], f.problems()


def prerequisites():
    for tool in ("tshark", "tcpdump", "curl", "openssl", "ping", "ss"):
        if shutil.which(tool) is None:
            exit_skipped(f"`{tool}` is missing; run scripts/setup")
    r = subprocess.run([SYSTEM_PYTHON, "-c", "import scapy"], capture_output=True)
    if r.returncode != 0:
        exit_skipped(f"{SYSTEM_PYTHON} has no scapy (Debian's python3-scapy); run scripts/setup")


if __name__ == "__main__":
    prerequisites()
    main([test_self_test_a_wrong_value_is_caught,
          test_self_test_a_missing_minimum_key_is_caught,
          test_self_test_an_unlisted_protocol_is_caught,
          test_self_test_a_protocol_listed_missing_but_decoded_is_caught,
          test_self_test_a_wrong_partial_checksum_claim_is_caught,
          test_crafted_frames_agree_with_tshark,
          test_truncated_frames_agree_with_tshark,
          test_cooked_captures_agree_with_tshark,
          test_live_traffic_agrees_with_tshark,
          test_offloaded_checksums_are_partial_not_bad,
          test_every_minimum_key_was_compared_somewhere])
