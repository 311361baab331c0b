"""nmap as the oracle of `duplex scan`: both run on the same target and ports, and each
one's states come back as {port: state}, so a test compares two dicts.

Shared by tests/integration/test_scan.py (loopback) and tests/netns/test_scan.py
(namespaces with nftables rules)."""
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

DUPLEX = os.environ.get("DUPLEX", "duplex")
NMAP = shutil.which("nmap")
NEED_NMAP = "nmap is missing: run scripts/setup (apt-get install nmap)"


def nmap_states(target, ports, udp=False, syn=False, wrap=(), timeout=300):
    """nmap -sT (or -sU, or -sS) -Pn on `target`: {port: state}. A state nmap folded into
    <extraports> is given to every port it did not list."""
    kind = "-sU" if udp else "-sS" if syn else "-sT"
    args = list(wrap) + [NMAP, kind, "-Pn", "-n", "-T4", "-oX", "-",
                         "-p", ",".join(map(str, ports))]
    if ":" in target:
        args.append("-6")
    r = subprocess.run(args + [target], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"nmap exited {r.returncode}: {r.stderr.strip()}"
    root = ET.fromstring(r.stdout)
    states = {}
    for port in root.iter("port"):
        states[int(port.get("portid"))] = port.find("state").get("state")
    extra = list(root.iter("extraports"))
    assert len(extra) <= 1, "nmap folded two states; use fewer ports per state"
    for p in ports:
        if p not in states:
            assert extra, f"nmap said nothing about port {p}"
            states[p] = extra[0].get("state")
    return states


def duplex_scan(*args, wrap=(), timeout=300):
    """Runs `duplex scan ARGS`; returns the CompletedProcess."""
    return subprocess.run(list(wrap) + [DUPLEX, "scan"] + list(args), capture_output=True,
                          text=True, timeout=timeout)


def duplex_states(target, ports, udp=False, wrap=(), extra=()):
    """duplex scan --all --json on `target`: ({port: state}, the host's JSON object)."""
    args = [target, "--all", "--json", "-p", ",".join(map(str, ports))] + list(extra)
    if udp:
        args.append("-u")
    r = duplex_scan(*args, wrap=wrap)
    assert r.returncode == 0, f"duplex scan exited {r.returncode}: {r.stderr.strip()}"
    hosts = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(hosts) == 1, r.stdout
    return {p["port"]: p["state"] for p in hosts[0]["ports"]}, hosts[0]
