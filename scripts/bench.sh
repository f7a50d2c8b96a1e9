#!/usr/bin/env bash
# Benchmark: N calls in a row from one process (default 10), each 2 s
# long, to a recorder, in a network namespace of its own. Prints setup
# time per call and the threads, file descriptors and memory the calling
# process holds after each call: what one call leaves behind.
#   ./scripts/bench.sh [CALLS]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
calls=${1:-10}

exec tests/e2e/netns.sh bash -c '
  set -e
  export GST_PLUGIN_PATH=$PWD/build/gst
  tmp=$(mktemp -d)
  build/tests/server/signaling-server --port 0 --host 10.99.0.1 > $tmp/server.out 2>/dev/null &
  for _ in $(seq 50); do grep -q "^listening" $tmp/server.out && break; sleep 0.1; done
  url=$(sed -n "s/^listening //p" $tmp/server.out)
  WTSP_SERVER=$url WTSP_TOKEN=bob pipelines/record-calls.py --dir $tmp/rec > /dev/null 2>&1 &
  sleep 1
  tests/e2e/bench-calls.py --server $url --token alice --number bob --calls '"$calls"'
  rc=$?
  kill $(jobs -p) 2>/dev/null || true
  rm -rf $tmp
  exit $rc'
