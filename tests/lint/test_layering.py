#!/usr/bin/env python3
"""The tree mirrors the stack: a file may include headers of its own layer and of the
layers below it, never of a layer above (docs/architecture.md). Also: no include cycles
between files. Reads every file under src/duplex and cli/; fails naming each offending
include with the rule it breaks."""
import os
import re
import sys
import unittest

SOURCE = os.environ.get("DUPLEX_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
SRC = os.path.join(SOURCE, "src")

# What each layer may include, itself included; mirrors the libraries' DEPS in
# src/duplex/CMakeLists.txt. An application uses no other application, except the
# dashboard, which shows the chat, the address reports, live captures, perf tests and scans.
BELOW = {
    "base": set(),
    "inet": {"base"},
    "link": {"base", "inet"},
    "reactor": {"base"},
    "transport": {"base", "inet", "reactor"},
    "proto": {"base", "inet", "reactor", "transport"},
    "apps/netcat": {"base", "inet", "reactor", "transport", "proto"},  # proto: the TLS stage
    "apps/report": {"base", "inet", "link", "reactor", "transport", "proto"},
    "apps/chat": {"base", "inet", "reactor", "transport", "proto"},
    "apps/capture": {"base", "inet", "link", "reactor", "transport", "proto"},
    "apps/perf": {"base", "inet", "reactor", "transport"},
    "apps/impair": {"base", "inet", "link", "reactor"},
    "apps/scan": {"base", "inet", "reactor", "transport"},
    "apps/transfer": {"base", "inet", "reactor", "transport"},
    "apps/dashboard": {"base", "inet", "link", "reactor", "transport", "proto", "apps/chat",
                       "apps/report", "apps/capture", "apps/perf", "apps/scan"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"duplex/([^"]+)"', re.M)


def layer_of(path):
    """'apps/chat/chat_hub.h' -> 'apps/chat'; 'proto/http_server.h' -> 'proto'."""
    parts = path.split("/")
    return "/".join(parts[:2]) if parts[0] == "apps" else parts[0]


def library_files():
    root = os.path.join(SRC, "duplex")
    for dirpath, _, names in os.walk(root):
        for name in names:
            if name.endswith((".h", ".cc")):
                full = os.path.join(dirpath, name)
                yield os.path.relpath(full, root).replace(os.sep, "/"), full


def includes(full):
    with open(full, encoding="utf-8") as f:
        return INCLUDE.findall(f.read())


def violations():
    out = []
    for rel, full in library_files():
        own = layer_of(rel)
        if own not in BELOW:
            out.append(f"src/duplex/{rel}: layer '{own}' is not in this test's table; add it")
            continue
        allowed = BELOW[own] | {own}
        for inc in includes(full):
            if layer_of(inc) not in allowed:
                out.append(f"src/duplex/{rel} includes duplex/{inc}: {own} may use only "
                           f"{', '.join(sorted(allowed))}")
    return out


def cycles():
    graph = {rel: [i for i in includes(full)] for rel, full in library_files()}
    seen, on_path, found = set(), [], []

    def visit(node):
        if node in on_path:
            found.append(" -> ".join(on_path[on_path.index(node):] + [node]))
            return
        if node in seen or node not in graph:
            return
        seen.add(node)
        on_path.append(node)
        for nxt in graph[node]:
            visit(nxt)
        on_path.pop()

    for node in sorted(graph):
        visit(node)
    return found


class Layering(unittest.TestCase):
    def test_no_file_includes_a_header_of_a_layer_above_its_own(self):
        self.assertEqual(violations(), [])

    def test_no_two_headers_include_each_other(self):
        self.assertEqual(cycles(), [])

    def test_the_rule_catches_an_upward_include(self):
        # The checker itself: proto including an application is what it must refuse.
        own = layer_of("proto/http_server.h")
        self.assertNotIn(layer_of("apps/chat/chat_hub.h"), BELOW[own] | {own})
        self.assertEqual(layer_of("apps/dashboard/access.h"), "apps/dashboard")


if __name__ == "__main__":
    unittest.main()
