"""`duplex connect` to a name with several addresses tries each in turn and, with -v or
--json, names every one that failed before the next, as nc -v does. The name is given two
loopback addresses in the namespace's own /etc/hosts (`ip netns exec` mounts
/etc/netns/NS/hosts over /etc/hosts), so no traffic leaves the namespace."""

import json
import os
import shutil

from netns import DUPLEX, Lab, main


def test_every_refused_address_is_named_before_the_next_is_tried():
    with Lab({"cli": "10.99.0.2/24"}) as lab:
        cli = lab["cli"]
        etc = f"/etc/netns/{cli.ns}"
        os.makedirs(etc)
        try:
            with open(f"{etc}/hosts", "w") as f:
                f.write("127.0.0.1 localhost\n127.0.0.2 multi\n127.0.0.3 multi\n")
            r = cli.sh([DUPLEX, "connect", "--json", "--wait", "2", "multi", "9"], check=False,
                       stdin=open(os.devnull))
            assert r.returncode == 1, r
            events = [json.loads(line) for line in r.stderr.splitlines()]
            names = [e["event"] for e in events]
            assert names == ["resolved", "attempt_failed", "failed"], events
            assert events[1]["peer"] == "127.0.0.2:9", events
            assert "ECONNREFUSED" in events[1]["reason"], events
            assert "127.0.0.3:9" in events[2]["reason"], events

            r = cli.sh([DUPLEX, "connect", "-v", "--wait", "2", "multi", "9"], check=False,
                       stdin=open(os.devnull))
            lines = r.stderr.splitlines()
            assert len(lines) == 3, lines
            assert "127.0.0.2:9" in lines[1] and "trying the next address" in lines[1], lines
            assert "127.0.0.3:9" in lines[2], lines
        finally:
            shutil.rmtree(etc, ignore_errors=True)
            try:
                os.rmdir("/etc/netns")
            except OSError:
                pass  # not empty: another test's namespace uses it


if __name__ == "__main__":
    main([test_every_refused_address_is_named_before_the_next_is_tried])
