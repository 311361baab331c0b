#!/usr/bin/env bash
# The ASan/UBSan reports of the integration tests (log_path in tests/CMakeLists.txt).
#   sanitizer_reports.sh clear DIR   empties DIR before the tests
#   sanitizer_reports.sh check DIR   prints every report in DIR and fails if there is one
set -euo pipefail
action=$1
dir=$2
case "$action" in
  clear)
    rm -rf "$dir"
    mkdir -p "$dir"
    ;;
  check)
    shopt -s nullglob
    reports=("$dir"/*)
    if [ ${#reports[@]} -eq 0 ]; then
      echo "no sanitizer reports in $dir"
      exit 0
    fi
    for r in "${reports[@]}"; do
      echo "=== $r"
      cat "$r"
    done
    echo "${#reports[@]} sanitizer report(s) above: a duplex process hit a bug under ASan/UBSan" >&2
    exit 1
    ;;
  *)
    echo "sanitizer_reports.sh: unknown action '$action'; use clear or check" >&2
    exit 2
    ;;
esac
