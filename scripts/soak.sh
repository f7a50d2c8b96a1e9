#!/usr/bin/env bash
# Soak: CALLS calls in a row (default 1000) from one process, each 1 s
# long, to a recorder, in a network namespace of its own. Prints the
# threads, file descriptors and resident memory of the calling process
# every 100 calls, then how they moved from the middle call to the last
# (flat threads and fds, and a small RSS change, mean nothing leaks).
#   ./scripts/soak.sh [CALLS]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
calls=${1:-1000}
every=$((calls >= 200 ? 100 : (calls >= 20 ? 10 : 1)))

exec tests/e2e/netns.sh bash -c '
  set -e
  export GST_PLUGIN_PATH=$PWD/build/gst
  tmp=$(mktemp -d)
  build/tests/server/signaling-server --port 0 --host 10.99.0.1 > $tmp/server.out 2>/dev/null &
  srv=$!
  for _ in $(seq 50); do grep -q "^listening" $tmp/server.out && break; sleep 0.1; done
  url=$(sed -n "s/^listening //p" $tmp/server.out)
  WTSP_SERVER=$url WTSP_TOKEN=bob pipelines/record-calls.py --dir $tmp/rec > /tmp/soak-rec.log 2>&1 &
  rec=$!
  sleep 1
  rc=0
  tests/bench/bench-calls.py --server $url --token alice --number bob \
    --calls '"$calls"' --talk 1 --every '"$every"' \
    --timeout $(('"$calls"' * 10 + 60)) || rc=$?
  kill $rec $srv 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf $tmp
  exit $rc'
