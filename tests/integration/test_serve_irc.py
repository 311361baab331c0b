#!/usr/bin/env python3
"""`duplex serve --irc-port`: real IRC clients in the same rooms as the terminals. ii (the
suckless FIFO client) joins #lobby and talks with a TCP chat client (nc's protocol) both
ways; sic, a second IRC client, joins too and each IRC client reads the other; the history
said before an IRC client came replays to it on JOIN; and beyond loopback the chat's token is
the IRC PASS (ii -k), without which registration is refused with 464.

Every wait is for a condition (a line in ii's out file, a line from a socket), with a
timeout. The binary comes from $DUPLEX (ctest sets it). Under CI=true a missing ii or sic
fails."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from prerequisites import requires  # noqa: E402
from serve_harness import Serve, wait_for  # noqa: E402

NEED = "ii and sic (IRC clients) are missing: run scripts/setup"


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


class Ii:
    """ii connected to the IRC door: commands go to FIFOs, what it hears to out files."""

    def __init__(self, test, port, nick, env=None, password_var=None):
        self.dir = tempfile.mkdtemp(prefix="duplex-ii-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        argv = ["ii", "-s", "127.0.0.1", "-p", str(port), "-n", nick, "-i", self.dir]
        if password_var:
            argv += ["-k", password_var]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env=env)
        test.addCleanup(self.stop)
        self.server = os.path.join(self.dir, "127.0.0.1")
        wait_for(lambda: os.path.exists(os.path.join(self.server, "in")) or
                 self.proc.poll() is not None, "ii's FIFO")

    def say(self, line, channel=None):
        fifo = os.path.join(self.server, channel, "in") if channel else os.path.join(self.server, "in")
        with open(fifo, "w") as f:
            f.write(line + "\n")

    def out(self, channel=None):
        return read(os.path.join(self.server, channel, "out") if channel
                    else os.path.join(self.server, "out"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@requires(shutil.which("ii") and shutil.which("sic"), NEED)
class IrcDoor(unittest.TestCase):
    def serve(self, *args, bind=None):
        serve = Serve("--irc-port", "0", "--no-discovery", *args, bind=bind)
        self.addCleanup(serve.close)
        port = int(serve.summary["irc"].split()[1].rsplit(":", 1)[1])
        return serve, port

    def test_ii_and_a_terminal_talk_both_ways_and_sic_hears_them(self):
        serve, port = self.serve()
        tcp = serve.chat()
        self.addCleanup(tcp.sock.close)
        tcp.expect(r"^\* you are (guest-\d+) in lobby")
        tcp.send("said before any irc client")
        tcp.expect(r": said before any irc client$")

        ii = Ii(self, port, "ann")
        ii.say("/j #lobby")
        wait_for(lambda: "<guest-1> said before any irc client" in ii.out("#lobby"),
                 "the history in ii's #lobby", timeout=30)
        tcp.expect(r"^\* ann joined lobby$")
        # The Connections page lists the IRC client with its name and room.
        api = f"http://127.0.0.1:{serve.http_port}/api/connections"
        wait_for(lambda: any(c["protocol"] == "irc" and c.get("chat_name") == "ann" and
                             c.get("chat_room") == "lobby"
                             for c in json.load(urllib.request.urlopen(api, timeout=10))
                             ["connections"]), "ann in /api/connections")
        ii.say("hello from ii", "#lobby")
        tcp.expect(r"\] ann: hello from ii$")
        tcp.send("hello back from tcp")
        wait_for(lambda: "<guest-1> hello back from tcp" in ii.out("#lobby"), "tcp's line in ii")

        sic = subprocess.Popen(["sic", "-h", "127.0.0.1", "-p", str(port), "-n", "bob"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, bufsize=1)
        heard = []
        reader = threading.Thread(target=lambda: heard.extend(sic.stdout), daemon=True)
        reader.start()
        self.addCleanup(sic.stdout.close)
        self.addCleanup(sic.wait)
        self.addCleanup(sic.kill)
        sic.stdin.write(":j #lobby\n")
        sic.stdin.flush()
        wait_for(lambda: "bob(bob@duplex) has joined #lobby" in ii.out("#lobby"), "bob in ii")
        sic.stdin.write("hello from sic\n")
        sic.stdin.flush()
        wait_for(lambda: "<bob> hello from sic" in ii.out("#lobby"), "sic's line in ii")
        tcp.expect(r"\] bob: hello from sic$")
        ii.say("and from ii to sic", "#lobby")
        wait_for(lambda: any("<ann> and from ii to sic" in line for line in heard),
                 "ii's line in sic")
        sic.stdin.close()

    def test_beyond_loopback_the_token_is_the_pass(self):
        serve, port = self.serve("--no-tls", bind="0.0.0.0")
        refused = Ii(self, port, "eve")
        wait_for(lambda: refused.proc.poll() is not None or "Password incorrect" in refused.out(),
                 "the refusal")
        self.assertNotIn("Welcome", refused.out())
        env = dict(os.environ, IIPASS=serve.token)
        ii = Ii(self, port, "ann", env=env, password_var="IIPASS")
        wait_for(lambda: "Welcome to duplex chat, ann" in ii.out(), "the welcome")
        ii.say("/j #ops")
        wait_for(lambda: "ann(ann@duplex) has joined #ops" in ii.out("#ops"), "the join")


if __name__ == "__main__":
    unittest.main(verbosity=2)
