#!/usr/bin/env bash
# The benchmark suite (tests/bench/bench.py): every figure beside its
# baseline, measured in the same run, alternating, in a network namespace
# of its own; it ends with one markdown table (docs/performance.md keeps
# it, with the machine). Needs root. A benchmark, not a test: it prints
# figures, and fails only if something could not be measured.
#   ./scripts/bench.sh [SECTION...] [--rounds N] [--concurrency 1,10,40]
# Sections: setup first concurrency record glass memory (default: all,
# ~45 min on 2 cores; memory alone is ~15 min). ./scripts/bench.sh --help
# lists the options.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
exec tests/e2e/netns.sh /usr/bin/python3 tests/bench/bench.py "$@"
