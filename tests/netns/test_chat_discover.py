"""`duplex chat --discover` across a link: `duplex serve` runs in one namespace bound to its
veth address, and the client in another namespace on the same subnet finds it with one UDP
broadcast to the subnet's broadcast address (the seed's one-to-many UDP), then chats with
it over TCP. A prober on another subnet's broadcast address finds nothing and says so."""

import json
import os
import subprocess
import sys

from netns import DUPLEX, Lab, main

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from chat_peers import Serve  # noqa: E402

HOSTS = {"srv": "10.99.0.1/24", "cli": "10.99.0.2/24"}
TOKEN = "netns-test-token"


def serve_on(host):
    return Serve("--bind", host.ip, "--token", TOKEN, "--no-tls", ns=host.ns)


def test_discover_finds_the_server_in_another_namespace_by_subnet_broadcast():
    with Lab(HOSTS) as lab:
        srv, cli = lab["srv"], lab["cli"]
        serve = serve_on(srv)
        try:
            r = cli.duplex("chat", "--discover", "--broadcast", "10.99.0.255",
                           "--discovery-port", str(serve.discovery), "--timeout", "3s", "--json")
            assert r.returncode == 0, r
            found = [json.loads(line) for line in r.stdout.splitlines()]
            assert len(found) == 1, found
            assert found[0]["address"] == srv.ip, found
            assert found[0]["chat_port"] == serve.chat[1], (found, serve.chat)
            assert found[0]["token_required"] is True, found
        finally:
            serve.close()


def test_the_server_found_carries_a_chat_over_the_link():
    with Lab(HOSTS) as lab:
        srv, cli = lab["srv"], lab["cli"]
        serve = serve_on(srv)
        try:
            find = [DUPLEX, "chat", "--discover", "--broadcast", "10.99.0.255",
                    "--discovery-port", str(serve.discovery), "--timeout", "5s", "--connect"]
            # Bound beyond loopback, the chat port wants the token first (/auth TOKEN).
            r = cli.sh(find + ["--name", "stranger"], check=False, timeout=60,
                       input="without the token\n")
            assert r.returncode == 1, r
            assert "this chat needs its token" in r.stderr, r.stderr
            r = cli.sh(find + ["--name", "remote", "--token", TOKEN], check=False, timeout=60,
                       input="over the veth\n")
            assert r.returncode == 0, r
            assert "remote: over the veth" in r.stdout, r.stdout
            assert "without the token" not in r.stdout, r.stdout
        finally:
            serve.close()


def test_a_broadcast_to_another_subnet_finds_nothing_and_exits_1():
    with Lab(HOSTS) as lab:
        srv, cli = lab["srv"], lab["cli"]
        serve = serve_on(srv)
        try:
            # Routed nowhere: the client has no route to 10.98.0.0/24.
            r = cli.duplex("chat", "--discover", "--broadcast", "10.98.0.255",
                           "--discovery-port", str(serve.discovery), "--timeout", "500ms")
            assert r.returncode == 1, r
            assert len(r.stderr.splitlines()) == 1, r.stderr
        finally:
            serve.close()


if __name__ == "__main__":
    main([test_discover_finds_the_server_in_another_namespace_by_subnet_broadcast,
          test_the_server_found_carries_a_chat_over_the_link,
          test_a_broadcast_to_another_subnet_finds_nothing_and_exits_1])
