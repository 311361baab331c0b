"""`duplex arp scan` between network namespaces: who answers, with the MACs `ip link` shows."""

import json
import re
import signal

from netns import Lab, main

HOSTS = {"a": "10.99.0.1/24", "b": "10.99.0.2/24", "c": "10.99.0.9/24"}


def lines(r):
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def test_scan_lists_every_host_that_answers_with_its_mac():
    with Lab(HOSTS) as lab:
        a, b, c = lab["a"], lab["b"], lab["c"]
        r = a.duplex("arp", "scan", "10.99.0.0/28", "--dev", "eth0", "--rate", "200", "--wait",
                     "0.5", "--json")
        assert r.returncode == 0, r
        hosts = {(j["ip"], j["mac"]) for j in lines(r) if j["type"] == "host"}
        assert hosts == {(b.ip, b.mac()), (c.ip, c.mac())}, hosts
        summary = [j for j in lines(r) if j["type"] == "summary"][0]
        # 14 hosts in a /28, minus our own address.
        assert summary["addresses"] == 13 and summary["answered"] == 2, summary


def test_scan_marks_an_ip_answered_by_two_macs():
    with Lab({**HOSTS, "d": "10.99.0.2/24"}) as lab:
        a = lab["a"]
        r = a.duplex("arp", "scan", "10.99.0.0/29", "--dev", "eth0", "--wait", "0.5", "--json")
        assert r.returncode == 0, r
        twice = [j for j in lines(r) if j["type"] == "host" and j["ip"] == "10.99.0.2"]
        assert len(twice) == 2 and any(j["duplicate"] for j in twice), r.stdout


def test_scan_where_nobody_answers_exits_1_and_finds_the_host_once_it_answers():
    # d sits in the scanned /30 with ARP off (NOARP): present, but silent. The same scan must
    # then find it once ARP is on, so that an exit 1 means "nobody answered", not "broken".
    with Lab({**HOSTS, "d": "10.99.0.97/24"}) as lab:
        a, d = lab["a"], lab["d"]
        d.sh(["ip", "link", "set", "eth0", "arp", "off"])
        scan = ["arp", "scan", "10.99.0.96/30", "--dev", "eth0", "--rounds", "1", "--wait", "0.5",
                "--json"]
        r = a.duplex(*scan)
        assert r.returncode == 1, r
        assert [j for j in lines(r) if j["type"] == "host"] == [], r.stdout
        [summary] = [j for j in lines(r) if j["type"] == "summary"]
        assert (summary["addresses"], summary["sent"], summary["answered"]) == (2, 2, 0), summary
        d.sh(["ip", "link", "set", "eth0", "arp", "on"])
        r = a.duplex(*scan)
        assert r.returncode == 0, r
        assert [(j["ip"], j["mac"]) for j in lines(r) if j["type"] == "host"] == [
            (d.ip, d.mac())], r.stdout


def test_a_silent_address_is_asked_again_no_sooner_than_wait():
    # Three hosts answer before the silent d in pass 1, so in pass 2 d comes first: a pause of
    # `wait` from the pass's start would ask it again too soon. d's own capture (NOARP drops
    # the request after the tap) times both requests for its address.
    hosts = {"a": "10.99.0.1/24", "e": "10.99.0.97/24", "f": "10.99.0.98/24",
             "g": "10.99.0.99/24", "d": "10.99.0.100/24"}
    with Lab(hosts) as lab:
        a, d = lab["a"], lab["d"]
        d.sh(["ip", "link", "set", "eth0", "arp", "off"])
        dump = d.popen(["tcpdump", "-i", "eth0", "-l", "-nn", "-tt", "arp"])
        try:
            for _ in range(5):  # "verbose output suppressed", then "listening on"
                if "listening on" in dump.stderr.readline():
                    break
            else:
                raise AssertionError("tcpdump in d did not start")
            r = a.duplex("arp", "scan", "10.99.0.96/29", "--dev", "eth0", "--rate", "20",
                         "--rounds", "2", "--wait", "1", "--json")
        finally:
            dump.send_signal(signal.SIGINT)
            out, _ = dump.communicate(timeout=10)
        assert r.returncode == 0, r
        found = sorted(j["ip"] for j in lines(r) if j["type"] == "host")
        assert found == ["10.99.0.97", "10.99.0.98", "10.99.0.99"], r.stdout
        asks = [float(m.group(1)) for m in
                re.finditer(r"^(\d+\.\d+) ARP, Request who-has 10\.99\.0\.100 ", out, re.M)]
        assert len(asks) == 2, out
        # 1 ms for the two frames' different paths to the tap.
        assert asks[1] - asks[0] >= 1.0 - 0.001, f"asked again after {asks[1] - asks[0]:.3f} s"


def test_scan_refuses_more_than_a_slash_16():
    with Lab(HOSTS) as lab:
        r = lab["a"].duplex("arp", "scan", "10.0.0.0/15", "--dev", "eth0")
        assert r.returncode == 2 and "/16" in r.stderr, r


def test_scan_refuses_an_unbounded_rate():
    with Lab(HOSTS) as lab:
        r = lab["a"].duplex("arp", "scan", "10.99.0.0/28", "--dev", "eth0", "--rate", "100000")
        assert r.returncode == 2 and "--rate" in r.stderr, r


if __name__ == "__main__":
    main([test_scan_lists_every_host_that_answers_with_its_mac,
          test_scan_marks_an_ip_answered_by_two_macs,
          test_scan_where_nobody_answers_exits_1_and_finds_the_host_once_it_answers,
          test_a_silent_address_is_asked_again_no_sooner_than_wait,
          test_scan_refuses_more_than_a_slash_16, test_scan_refuses_an_unbounded_rate])
