"""`duplex arp ping` between network namespaces: MACs as `ip link` shows them, route
lookup, DAD, gratuitous ARP, two MACs for one IP, and iputils arping as the reference."""

import json
import re

from netns import DUPLEX, Lab, main, wait_for

HOSTS = {"a": "10.99.0.1/24", "b": "10.99.0.2/24"}


def json_lines(r):
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def replies(r):
    return [j for j in json_lines(r) if j["type"] == "reply"]


def summary(r):
    return [j for j in json_lines(r) if j["type"] == "summary"][0]


def test_ping_reports_the_peer_mac_as_ip_link_shows_it():
    with Lab(HOSTS) as lab:
        a, b = lab["a"], lab["b"]
        r = a.duplex("arp", "ping", b.ip, "--dev", "eth0", "-c", "2", "-i", "0.2", "--json")
        assert r.returncode == 0, r
        got = replies(r)
        assert got and {j["mac"] for j in got} == {b.mac()}, (got, b.mac())
        s = summary(r)
        assert s["sent"] == 2 and s["macs"] == [b.mac()] and not s["duplicate"], s


def test_ping_human_output_names_mac_and_round_trip():
    with Lab(HOSTS) as lab:
        a, b = lab["a"], lab["b"]
        r = a.duplex("arp", "ping", b.ip, "--dev", "eth0", "-c", "1")
        assert r.returncode == 0, r
        assert re.search(rf"reply from {b.ip} is-at {b.mac()} .* time=[0-9.]+ ms", r.stdout), r.stdout


def test_ping_without_dev_takes_the_interface_from_the_route():
    with Lab(HOSTS) as lab:
        a, b = lab["a"], lab["b"]
        r = a.duplex("arp", "ping", b.ip, "-c", "1", "--json")
        assert r.returncode == 0, r
        assert summary(r)["dev"] == "eth0" and replies(r)[0]["mac"] == b.mac()


def test_ping_behind_a_gateway_says_arp_is_for_the_local_link():
    with Lab(HOSTS) as lab:
        a, b = lab["a"], lab["b"]
        a.sh(["ip", "route", "add", "10.98.0.0/24", "via", b.ip])
        r = a.duplex("arp", "ping", "10.98.0.5", "-c", "1")
        assert r.returncode == 1 and "via " + b.ip in r.stderr and "--dev" in r.stderr, r


def test_ping_where_two_interfaces_hold_the_subnet_is_ambiguous():
    with Lab(HOSTS) as lab:
        a, b = lab["a"], lab["b"]
        a.sh(["ip", "link", "add", "name", "dx0", "type", "veth", "peer", "name", "dx1"])
        a.sh(["ip", "addr", "add", "10.99.0.100/24", "dev", "dx0"])
        a.sh(["ip", "link", "set", "dx0", "up"])
        r = a.duplex("arp", "ping", b.ip, "-c", "1")
        assert r.returncode == 1 and "ambiguous" in r.stderr and "--dev" in r.stderr, r


def test_ping_nobody_answers_exits_1():
    with Lab(HOSTS) as lab:
        r = lab["a"].duplex("arp", "ping", "10.99.0.77", "--dev", "eth0", "-c", "1", "--json")
        assert r.returncode == 1, r
        assert summary(r)["received"] == 0


def test_ping_deadline_bounds_an_unanswered_ping():
    with Lab(HOSTS) as lab:
        r = lab["a"].duplex("arp", "ping", "10.99.0.77", "--dev", "eth0", "-w", "1", "-i", "0.2",
                            "--json", timeout=20)
        assert r.returncode == 1, r
        assert summary(r)["sent"] >= 1


def test_two_macs_answering_for_one_ip_are_both_printed_and_exit_1():
    with Lab({**HOSTS, "c": "10.99.0.2/24"}) as lab:
        a, b, c = lab["a"], lab["b"], lab["c"]
        r = a.duplex("arp", "ping", b.ip, "--dev", "eth0", "-c", "2", "-i", "0.3", "--json")
        assert r.returncode == 1, r
        assert set(summary(r)["macs"]) == {b.mac(), c.mac()}, (r.stdout, b.mac(), c.mac())
        assert summary(r)["duplicate"]


def test_dad_finds_the_host_that_holds_the_address():
    with Lab(HOSTS) as lab:
        a, b = lab["a"], lab["b"]
        r = a.duplex("arp", "ping", b.ip, "--dev", "eth0", "--dad", "-w", "3", "--json")
        assert r.returncode == 1, r
        assert summary(r)["macs"] == [b.mac()] and summary(r)["source"] == "0.0.0.0", r.stdout


def test_dad_of_a_free_address_exits_0():
    with Lab(HOSTS) as lab:
        r = lab["a"].duplex("arp", "ping", "10.99.0.77", "--dev", "eth0", "--dad", "-w", "1")
        assert r.returncode == 0 and "free" in r.stdout, r


def test_dad_probe_does_not_teach_the_peer_our_mac():
    with Lab(HOSTS) as lab:
        a, b = lab["a"], lab["b"]
        a.duplex("arp", "ping", b.ip, "--dev", "eth0", "--dad", "-w", "1")
        assert a.ip not in {e["dst"] for e in b.neigh()}, b.neigh()


def gratuitous_updates(flag):
    with Lab(HOSTS) as lab:
        a, b = lab["a"], lab["b"]
        # b believes a is somewhere else; the announcement must correct it.
        b.sh(["ip", "neigh", "replace", a.ip, "lladdr", "02:00:00:00:99:99", "dev", "eth0",
              "nud", "stale"])
        r = a.duplex("arp", "ping", a.ip, "--dev", "eth0", flag, "-c", "1")
        assert r.returncode == 0, r

        def learnt():
            return {e["dst"]: e.get("lladdr") for e in b.neigh()}.get(a.ip) == a.mac()

        assert wait_for(learnt), b.neigh()


def test_gratuitous_request_updates_the_peer_table():
    gratuitous_updates("--gratuitous")


def test_gratuitous_reply_updates_the_peer_table():
    gratuitous_updates("--gratuitous-reply")


def test_duplex_and_iputils_arping_see_the_same_mac():
    with Lab(HOSTS) as lab:
        a, b = lab["a"], lab["b"]
        theirs = a.sh(["arping", "-c", "1", "-w", "3", "-I", "eth0", b.ip]).stdout
        ours = replies(a.duplex("arp", "ping", b.ip, "--dev", "eth0", "-c", "1", "--json"))
        assert ours[0]["mac"].upper() in theirs.upper(), (theirs, ours)


def test_duplex_dad_reads_the_announcements_of_iputils_arping():
    # The other way round: iputils arping sends, duplex reads. While duplex probes for an
    # address, arping in b announces it (-U). b's kernel is told not to answer ARP at all, so
    # the only claim on the wire is arping's frame; duplex must report it as a duplicate.
    with Lab(HOSTS) as lab:
        a, b = lab["a"], lab["b"]
        b.sh(["ip", "addr", "add", "10.99.0.50/24", "dev", "eth0"])
        for conf in ("all", "eth0"):
            b.sh(["sysctl", "-qw", f"net.ipv4.conf.{conf}.arp_ignore=8"])
        dad = a.popen([DUPLEX, "arp", "ping", "10.99.0.50", "--dev", "eth0", "--dad", "-w", "6",
                       "-i", "0.2", "--json"])
        try:
            # Announce until duplex has had time to start listening (bounded by -c).
            b.sh(["arping", "-U", "-c", "3", "-I", "eth0", "10.99.0.50"],
                 check=False)
            out, err = dad.communicate(timeout=20)
        finally:
            dad.kill()
        assert dad.returncode == 1, (out, err)
        assert b.mac() in out, out


def test_dad_sees_another_host_probing_for_the_same_address():
    # RFC 5227 2.1.1: two hosts probing for one address at once conflict. The other prober
    # is iputils arping -D, whose probes duplex must read.
    with Lab(HOSTS) as lab:
        a, b = lab["a"], lab["b"]
        dad = a.popen([DUPLEX, "arp", "ping", "10.99.0.51", "--dev", "eth0", "--dad", "-w", "6",
                       "-i", "0.2", "--json"])
        try:
            b.sh(["arping", "-D", "-c", "3", "-w", "4", "-I", "eth0", "10.99.0.51"], check=False)
            out, err = dad.communicate(timeout=20)
        finally:
            dad.kill()
        assert dad.returncode == 1, (out, err)
        got = [j for j in (json.loads(x) for x in out.splitlines()) if j["type"] == "reply"]
        assert got and got[0]["probe"] and got[0]["mac"] == b.mac(), out


def test_ping_without_cap_net_raw_names_the_capability_and_the_fix():
    with Lab(HOSTS) as lab:
        a, b = lab["a"], lab["b"]
        r = a.sh(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  "--inh-caps=-all", "--bounding-set=-all", "--", DUPLEX, "arp", "ping", b.ip,
                  "--dev", "eth0", "-c", "1"], check=False)
        assert r.returncode == 1, r
        assert "CAP_NET_RAW" in r.stderr and "setcap" in r.stderr, r.stderr


if __name__ == "__main__":
    main([test_ping_reports_the_peer_mac_as_ip_link_shows_it,
          test_ping_human_output_names_mac_and_round_trip,
          test_ping_without_dev_takes_the_interface_from_the_route,
          test_ping_behind_a_gateway_says_arp_is_for_the_local_link,
          test_ping_where_two_interfaces_hold_the_subnet_is_ambiguous,
          test_ping_nobody_answers_exits_1, test_ping_deadline_bounds_an_unanswered_ping,
          test_two_macs_answering_for_one_ip_are_both_printed_and_exit_1,
          test_dad_finds_the_host_that_holds_the_address, test_dad_of_a_free_address_exits_0,
          test_dad_probe_does_not_teach_the_peer_our_mac,
          test_gratuitous_request_updates_the_peer_table,
          test_gratuitous_reply_updates_the_peer_table,
          test_duplex_and_iputils_arping_see_the_same_mac,
          test_duplex_dad_reads_the_announcements_of_iputils_arping,
          test_dad_sees_another_host_probing_for_the_same_address,
          test_ping_without_cap_net_raw_names_the_capability_and_the_fix])
