"""`duplex arp watch` between network namespaces: a gateway, a victim that watches, and an
attacker that forges ARP replies for the gateway's address."""

import json
import os
import select
import tempfile
import time

from netns import DUPLEX, Lab, forge_arp, main

STEP = 10  # seconds: the bound of each wait for an event

HOSTS = {"gw": "10.99.0.1/24", "victim": "10.99.0.2/24", "attacker": "10.99.0.66/24"}


class Watch:
    """`duplex arp watch --json` running in a namespace until it stops by itself (-w/-c)."""

    def __init__(self, host, db, *extra, env=None):
        self.proc = host.popen([DUPLEX, "arp", "watch", "--dev", "eth0", "--db", db, "--json"]
                               + list(extra), env=env)
        # Wait for "listening" on stderr, so that nothing is sent before the socket is open.
        ready, _, _ = select.select([self.proc.stderr], [], [], 10)
        line = self.proc.stderr.readline() if ready else ""
        if "listening" not in line:
            self.proc.kill()
            raise AssertionError(f"watch did not start: {line!r}")

        self.seen = []  # the events read so far
        self.partial = b""  # raw reads (not the buffered file), so that select() tells the truth

    def wait_for(self, event, ip, seconds=STEP):
        """Reads events as the watch prints them until one is `event` for `ip`: the condition
        that makes the next step of a test safe (the watch has taken in the previous frame)."""
        deadline = time.monotonic() + seconds
        fd = self.proc.stdout.fileno()
        while not any(e["event"] == event and e["ip"] == ip for e in self.seen):
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                self.proc.kill()
                raise AssertionError(f"no {event} for {ip} within {seconds} s; saw {self.seen}")
            *lines, self.partial = (self.partial + chunk).split(b"\n")
            self.seen += [json.loads(line) for line in lines if line.strip()]

    def events(self, timeout=20):
        """Every event, once the watch has stopped by itself (-w/-c)."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        finally:
            self.proc.kill()
        assert self.proc.returncode == 0, (self.proc.returncode, out, err)
        out = self.partial.decode() + out
        return self.seen + [json.loads(line) for line in out.splitlines() if line.strip()]


def gateway_announces(gw):
    # The real gateway (or any host) speaks through iputils arping: an unsolicited reply (-A).
    gw.sh(["arping", "-A", "-c", "1", "-I", "eth0", gw.ip])


def attacker_forges(attacker, gw, victim, amac, vmac):
    # "10.99.0.1 is at <attacker>", unicast to the victim: classic ARP cache poisoning.
    forge_arp(attacker, 2, vmac, amac, amac, gw.ip, vmac, victim.ip)


def test_watch_reports_a_forged_gateway_as_changed_then_flip_flop_naming_both_macs():
    with Lab(HOSTS) as lab, tempfile.TemporaryDirectory() as tmp:
        gw, victim, attacker = lab["gw"], lab["victim"], lab["attacker"]
        gmac, amac, vmac = gw.mac(), attacker.mac(), victim.mac()
        watch = Watch(victim, os.path.join(tmp, "st.db"), "-w", "30", "-c", "4")
        gateway_announces(gw)
        watch.wait_for("new_station", gw.ip)
        attacker_forges(attacker, gw, victim, amac, vmac)
        watch.wait_for("changed_ethernet_address", gw.ip)
        gateway_announces(gw)
        watch.wait_for("flip_flop", gw.ip)
        attacker_forges(attacker, gw, victim, amac, vmac)
        events = [e for e in watch.events() if e["ip"] == gw.ip]
        got = [(e["event"], e["mac"], e["old_mac"]) for e in events]
        assert got == [("new_station", gmac, None),
                       ("changed_ethernet_address", amac, gmac),
                       ("flip_flop", gmac, amac),
                       ("flip_flop", amac, gmac)], got


def test_watch_reports_an_ethernet_source_that_is_not_the_arp_sender():
    with Lab(HOSTS) as lab, tempfile.TemporaryDirectory() as tmp:
        gw, victim, attacker = lab["gw"], lab["victim"], lab["attacker"]
        watch = Watch(victim, os.path.join(tmp, "st.db"), "-w", "5", "-c", "1")
        # The attacker's own Ethernet source, but the gateway's MAC inside the ARP body.
        forge_arp(attacker, 2, victim.mac(), attacker.mac(), "02:00:00:00:00:01", gw.ip,
                  victim.mac(), victim.ip)
        events = [e for e in watch.events() if e["event"] == "ethernet_mismatch"]
        assert [(e["mac"], e["ethernet"]) for e in events] == [
            ("02:00:00:00:00:01", attacker.mac())], events


def test_watch_reports_a_sender_outside_the_subnet_as_a_bogon():
    with Lab(HOSTS) as lab, tempfile.TemporaryDirectory() as tmp:
        victim, attacker = lab["victim"], lab["attacker"]
        watch = Watch(victim, os.path.join(tmp, "st.db"), "-w", "5", "-c", "1")
        amac = attacker.mac()
        forge_arp(attacker, 1, "ff:ff:ff:ff:ff:ff", amac, amac, "192.0.2.7", "00:00:00:00:00:00",
                  victim.ip)
        events = watch.events()
        assert [(e["event"], e["ip"]) for e in events] == [("bogon", "192.0.2.7")], events


def test_watch_remembers_stations_across_runs_in_its_database():
    with Lab(HOSTS) as lab, tempfile.TemporaryDirectory() as tmp:
        gw, victim, attacker = lab["gw"], lab["victim"], lab["attacker"]
        db = os.path.join(tmp, "st.db")
        first = Watch(victim, db, "-w", "5", "-c", "1")
        gateway_announces(gw)
        assert [e["event"] for e in first.events()] == ["new_station"]
        # A known station is silent; a new one, announced after it, is reported. Only a watch
        # that both hears frames and remembers its database gives exactly that.
        second = Watch(victim, db, "-w", "20", "-c", "1")
        gateway_announces(gw)
        gateway_announces(attacker)
        events = second.events()
        assert [(e["event"], e["ip"]) for e in events] == [("new_station", attacker.ip)], events
        rows = victim.sh(["sqlite3", db, "SELECT ip, mac FROM stations"]).stdout.split()
        assert f"{gw.ip}|{gw.mac()}" in rows, rows


def test_watch_runs_the_exec_hook_for_each_event_with_its_details():
    with Lab(HOSTS) as lab, tempfile.TemporaryDirectory() as tmp:
        gw, victim, attacker = lab["gw"], lab["victim"], lab["attacker"]
        log = os.path.join(tmp, "hook.log")
        watch = Watch(victim, os.path.join(tmp, "st.db"), "-w", "30", "-c", "2", "--exec",
                      f'echo "$DUPLEX_EVENT $DUPLEX_IP $DUPLEX_MAC $DUPLEX_OLD_MAC" >> {log}')
        gateway_announces(gw)
        watch.wait_for("new_station", gw.ip)
        attacker_forges(attacker, gw, victim, attacker.mac(), victim.mac())
        watch.events()  # returns after the hooks were reaped
        lines = open(log).read().splitlines()
        assert lines == [f"new_station {gw.ip} {gw.mac()} ",
                         f"changed_ethernet_address {gw.ip} {attacker.mac()} {gw.mac()}"], lines


def test_watch_without_dev_listens_on_every_arp_interface():
    with Lab(HOSTS) as lab, tempfile.TemporaryDirectory() as tmp:
        gw, victim = lab["gw"], lab["victim"]
        proc = victim.popen([DUPLEX, "arp", "watch", "--db", os.path.join(tmp, "st.db"), "--json",
                             "-w", "5", "-c", "1"])
        try:
            ready, _, _ = select.select([proc.stderr], [], [], 10)
            line = proc.stderr.readline() if ready else ""
            assert "listening on eth0;" in line, line  # not on lo: loopback has no ARP
            gateway_announces(gw)
            out, _ = proc.communicate(timeout=20)
        finally:
            proc.kill()
        assert [json.loads(x)["ip"] for x in out.splitlines()] == [gw.ip], out


def test_watch_keeps_its_database_in_xdg_data_home_by_default():
    with Lab(HOSTS) as lab, tempfile.TemporaryDirectory() as tmp:
        victim = lab["victim"]
        env = dict(os.environ, XDG_DATA_HOME=tmp)
        r = victim.sh([DUPLEX, "arp", "watch", "--dev", "eth0", "-w", "0.2"], env=env)
        assert os.path.exists(os.path.join(tmp, "duplex", "arpwatch.db")), r.stderr


if __name__ == "__main__":
    main([test_watch_reports_a_forged_gateway_as_changed_then_flip_flop_naming_both_macs,
          test_watch_reports_an_ethernet_source_that_is_not_the_arp_sender,
          test_watch_reports_a_sender_outside_the_subnet_as_a_bogon,
          test_watch_remembers_stations_across_runs_in_its_database,
          test_watch_runs_the_exec_hook_for_each_event_with_its_details,
          test_watch_without_dev_listens_on_every_arp_interface,
          test_watch_keeps_its_database_in_xdg_data_home_by_default])
