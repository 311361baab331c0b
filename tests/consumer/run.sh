#!/usr/bin/env bash
# Installs the build in $1 into a scratch prefix, then builds and runs tests/consumer
# against it with find_package(duplex). Fails if any step does, or the output is wrong.
set -euo pipefail
build=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
out=$("$work/build/consumer")
echo "consumer printed: $out"
[ "$out" = "172.16.10.0 same 00:00:0c:12:34:56" ]
