"""`duplex arp show/add/replace/del/flush` against `ip neigh`, inside network namespaces."""

import json

from netns import DUPLEX, Lab, main, wait_for

HOSTS = {"a": "10.99.0.1/24", "b": "10.99.0.2/24"}
MAC = "00:00:0c:12:34:56"  # in Cisco's OUI, so the vendor column has something to say
MAC2 = "00:00:0c:65:43:21"


def duplex_show(host):
    r = host.duplex("arp", "show", "--dev", "eth0", "--json", check=True)
    return [json.loads(line) for line in r.stdout.splitlines()]


def by_ip(entries, key):
    return {e[key]: e for e in entries}


def test_show_lists_what_ip_neigh_lists():
    with Lab(HOSTS) as lab:
        a, b = lab["a"], lab["b"]
        # A request from b teaches a's kernel b's address (a STALE entry), and a static one.
        # arping again until a has learnt it: right after the lab is made, b's first frames
        # can go nowhere (a failed arping, with check=False, once left a with no entry).
        a.sh(["ip", "neigh", "add", "10.99.0.50", "lladdr", MAC, "dev", "eth0", "nud",
              "permanent"])

        def learnt():
            if b.ip in {e["dst"] for e in a.neigh()}:
                return True
            b.sh(["arping", "-c", "1", "-w", "1", "-I", "eth0", a.ip], check=False)
            return b.ip in {e["dst"] for e in a.neigh()}

        assert wait_for(learnt, seconds=20), a.neigh()
        ours = by_ip(duplex_show(a), "ip")
        theirs = by_ip(a.neigh(), "dst")
        assert set(ours) == set(theirs), (ours, theirs)
        for ip, e in theirs.items():
            assert ours[ip]["mac"] == e.get("lladdr"), (ours[ip], e)
            assert ours[ip]["dev"] == "eth0"
        assert ours[b.ip]["mac"] == b.mac()
        assert ours["10.99.0.50"]["state"] == ["PERMANENT"]
        assert ours["10.99.0.50"]["vendor"] is not None and "cisco" in ours["10.99.0.50"][
            "vendor"].lower()


def test_add_creates_a_permanent_entry():
    with Lab(HOSTS) as lab:
        a = lab["a"]
        r = a.duplex("arp", "add", "10.99.0.60", MAC, "--dev", "eth0")
        assert r.returncode == 0, r.stderr
        entry = by_ip(a.neigh(), "dst")["10.99.0.60"]
        assert entry["lladdr"] == MAC and entry["state"] == ["PERMANENT"], entry


def test_add_temp_creates_a_dynamic_entry():
    with Lab(HOSTS) as lab:
        a = lab["a"]
        r = a.duplex("arp", "add", "10.99.0.61", MAC, "--dev", "eth0", "--temp")
        assert r.returncode == 0, r.stderr
        entry = by_ip(a.neigh(), "dst")["10.99.0.61"]
        assert entry["lladdr"] == MAC and "PERMANENT" not in entry["state"], entry


def test_add_over_an_existing_entry_fails_and_points_at_replace():
    with Lab(HOSTS) as lab:
        a = lab["a"]
        a.duplex("arp", "add", "10.99.0.62", MAC, "--dev", "eth0", check=True)
        r = a.duplex("arp", "add", "10.99.0.62", MAC2, "--dev", "eth0")
        assert r.returncode == 1, r
        assert "replace" in r.stderr, r.stderr
        assert by_ip(a.neigh(), "dst")["10.99.0.62"]["lladdr"] == MAC


def test_replace_overwrites_the_mac():
    with Lab(HOSTS) as lab:
        a = lab["a"]
        a.duplex("arp", "add", "10.99.0.63", MAC, "--dev", "eth0", check=True)
        r = a.duplex("arp", "replace", "10.99.0.63", MAC2, "--dev", "eth0")
        assert r.returncode == 0, r.stderr
        assert by_ip(a.neigh(), "dst")["10.99.0.63"]["lladdr"] == MAC2


def test_del_removes_the_entry():
    with Lab(HOSTS) as lab:
        a = lab["a"]
        a.duplex("arp", "add", "10.99.0.64", MAC, "--dev", "eth0", check=True)
        r = a.duplex("arp", "del", "10.99.0.64", "--dev", "eth0")
        assert r.returncode == 0, r.stderr
        assert "10.99.0.64" not in by_ip(a.neigh(), "dst")


def test_del_of_a_missing_entry_says_there_is_none():
    with Lab(HOSTS) as lab:
        r = lab["a"].duplex("arp", "del", "10.99.0.65", "--dev", "eth0")
        assert r.returncode == 1 and "no such entry" in r.stderr, r


def test_flush_removes_learnt_entries_and_keeps_static_ones():
    with Lab(HOSTS) as lab:
        a = lab["a"]
        a.duplex("arp", "add", "10.99.0.66", MAC, "--dev", "eth0", check=True)
        a.duplex("arp", "add", "10.99.0.67", MAC2, "--dev", "eth0", "--temp", check=True)
        r = a.duplex("arp", "flush", "--dev", "eth0")
        assert r.returncode == 0, r.stderr
        left = by_ip(a.neigh(), "dst")
        assert "10.99.0.66" in left and "10.99.0.67" not in left, left
        a.duplex("arp", "flush", "--dev", "eth0", "--all", check=True)
        assert "10.99.0.66" not in by_ip(a.neigh(), "dst")


def test_add_without_cap_net_admin_names_the_capability_and_the_fix():
    with Lab(HOSTS) as lab:
        r = lab["a"].sh(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                         "--inh-caps=-all", "--bounding-set=-all", "--",
                         DUPLEX, "arp", "add", "10.99.0.68", MAC, "--dev",
                         "eth0"], check=False)
        assert r.returncode == 1, r
        assert "CAP_NET_ADMIN" in r.stderr and "setcap" in r.stderr, r.stderr


def test_ipv6_ndp_entries_are_added_and_shown_like_ip_neigh():
    with Lab(HOSTS) as lab:
        a = lab["a"]
        a.sh(["sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=0"])
        r = a.duplex("arp", "add", "fd00:99::5", MAC, "--dev", "eth0")
        assert r.returncode == 0, r.stderr
        theirs = by_ip(a.neigh(), "dst")
        assert theirs["fd00:99::5"]["lladdr"] == MAC, theirs
        ours = by_ip(duplex_show(a), "ip")["fd00:99::5"]
        assert ours["family"] == "ipv6" and ours["mac"] == MAC and ours["state"] == ["PERMANENT"]


def test_unknown_interface_is_named():
    with Lab(HOSTS) as lab:
        r = lab["a"].duplex("arp", "show", "--dev", "nosuch0")
        assert r.returncode == 1 and "nosuch0" in r.stderr, r


if __name__ == "__main__":
    main([test_show_lists_what_ip_neigh_lists, test_add_creates_a_permanent_entry,
          test_add_temp_creates_a_dynamic_entry,
          test_add_over_an_existing_entry_fails_and_points_at_replace,
          test_replace_overwrites_the_mac, test_del_removes_the_entry,
          test_del_of_a_missing_entry_says_there_is_none,
          test_flush_removes_learnt_entries_and_keeps_static_ones,
          test_add_without_cap_net_admin_names_the_capability_and_the_fix,
          test_ipv6_ndp_entries_are_added_and_shown_like_ip_neigh,
          test_unknown_interface_is_named])
