"""`duplex serve`'s neighbour routes and Connections table (docs/api.md) inside network
namespaces the test makes: a static entry added through the API is in `ip neigh`, one
deleted through it is gone, and a peer on the subnet is listed with its MAC, vendor and the
AND of both addresses. The server and curl run inside the namespaces only."""

import json
import re
import tempfile
import time

from netns import DUPLEX, Lab, main

HOSTS = {"a": "10.99.0.1/24", "b": "10.99.0.2/24"}
MAC = "00:00:0c:12:34:56"
TOKEN = "netns-api-token-0123456789"
TIMEOUT = 30


class Serve:
    """`duplex serve` in `host`'s namespace; reads its HTTP port from the start-up summary."""

    def __init__(self, host, db, bind="127.0.0.1"):
        self.host = host
        self.bind = bind
        self.proc = host.popen([DUPLEX, "serve", "--bind", bind, "--port", "0",
                                "--chat-port", "0", "--discovery-port", "0", "--db", db,
                                "--token", TOKEN, "--no-tls"])
        self.port = None
        seen = []
        deadline = time.monotonic() + TIMEOUT
        while self.port is None and time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError("duplex serve exited early: " + "".join(seen) +
                                     self.proc.stderr.read())
            seen.append(line)
            try:
                j = json.loads(line)
                if isinstance(j, dict) and j.get("http_port"):
                    self.port = j["http_port"]
                    continue
            except ValueError:
                pass
            m = re.search(r"http://" + re.escape(bind) + r":(\d+)", line)
            if m:
                self.port = int(m.group(1))
        if self.port is None:
            raise AssertionError("no HTTP port in duplex serve's summary: " + "".join(seen))

    def curl(self, method, path, body=None, token=TOKEN, client=None):
        args = ["curl", "-s", "--max-time", str(TIMEOUT), "-w", "\n%{http_code}", "-X", method]
        if token:
            args += ["-H", f"Authorization: Bearer {token}"]
        if body is not None:
            args += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
        out = (client or self.host).sh(args + [f"http://{self.bind}:{self.port}{path}"],
                                       timeout=TIMEOUT + 5)
        text, _, code = out.stdout.rpartition("\n")
        return int(code), json.loads(text)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=TIMEOUT)
        except Exception:
            self.proc.kill()
            self.proc.wait()


def by_ip(entries):
    return {e["dst"]: e for e in entries}


def test_a_static_entry_added_and_deleted_through_the_api_follows_ip_neigh():
    with Lab(HOSTS) as lab, tempfile.TemporaryDirectory() as tmp:
        a = lab["a"]
        serve = Serve(a, f"{tmp}/chat.db")
        try:
            code, status = serve.curl("GET", "/api/status")
            assert code == 200 and status["can_edit_neighbours"], status

            code, reply = serve.curl("POST", "/api/neighbours",
                                     {"ip": "10.99.0.70", "mac": MAC, "dev": "eth0"})
            assert code == 201, reply
            assert reply["neighbour"]["state"] == ["PERMANENT"], reply
            assert "cisco" in (reply["neighbour"]["vendor"] or "").lower(), reply
            entry = by_ip(a.neigh()).get("10.99.0.70")
            assert entry and entry["lladdr"] == MAC and entry["state"] == ["PERMANENT"], entry

            code, listed = serve.curl("GET", "/api/neighbours?dev=eth0")
            assert code == 200 and "10.99.0.70" in [n["ip"] for n in listed["neighbours"]], listed

            code, reply = serve.curl("POST", "/api/neighbours",
                                     {"ip": "10.99.0.70", "mac": MAC, "dev": "eth0"})
            assert code == 409 and "replace" in reply["error"], reply

            code, reply = serve.curl("DELETE", "/api/neighbours?ip=10.99.0.70&dev=eth0")
            assert code == 200 and reply["deleted"] == {"ip": "10.99.0.70", "dev": "eth0"}, reply
            assert "10.99.0.70" not in by_ip(a.neigh()), a.neigh()

            code, reply = serve.curl("DELETE", "/api/neighbours?ip=10.99.0.70&dev=eth0")
            assert code == 404, reply
        finally:
            serve.close()


def test_without_the_token_the_table_is_unchanged():
    with Lab(HOSTS) as lab, tempfile.TemporaryDirectory() as tmp:
        a = lab["a"]
        serve = Serve(a, f"{tmp}/chat.db")
        try:
            code, reply = serve.curl("POST", "/api/neighbours",
                                     {"ip": "10.99.0.71", "mac": MAC, "dev": "eth0"}, token=None)
            assert code == 401, reply
            assert "10.99.0.71" not in by_ip(a.neigh()), a.neigh()
        finally:
            serve.close()


def test_a_peer_on_the_subnet_is_shown_with_its_mac_vendor_and_the_and():
    with Lab(HOSTS) as lab, tempfile.TemporaryDirectory() as tmp:
        a, b = lab["a"], lab["b"]
        b.sh(["ip", "link", "set", "dev", "eth0", "address", "00:00:0c:12:34:57"])  # Cisco's OUI
        serve = Serve(a, f"{tmp}/chat.db", bind=a.ip)
        try:
            # b's own request is one of the connections it lists: a's kernel learnt b's MAC
            # answering its SYN.
            code, reply = serve.curl("GET", "/api/connections", client=b)
            assert code == 200, reply
            row = next(c for c in reply["connections"] if c["remote_ip"] == b.ip)
            assert row["same_subnet"] is True, row
            assert row["subnet"] == {"interface": "eth0", "prefix": "10.99.0.0/24",
                                     "mask": "255.255.255.0",
                                     "local_and": "10.99.0.1 AND 255.255.255.0 = 10.99.0.0",
                                     "peer_and": "10.99.0.2 AND 255.255.255.0 = 10.99.0.0"}, row
            assert row["mac"] == "00:00:0c:12:34:57", row
            assert "cisco" in (row["vendor"] or "").lower(), row
            assert row["mac_note"] is None, row
        finally:
            serve.close()


if __name__ == "__main__":
    main([test_a_static_entry_added_and_deleted_through_the_api_follows_ip_neigh,
          test_without_the_token_the_table_is_unchanged,
          test_a_peer_on_the_subnet_is_shown_with_its_mac_vendor_and_the_and])
