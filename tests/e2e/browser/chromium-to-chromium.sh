#!/bin/sh
# Self-test of the browser harness and the reference server: two real
# Chromiums call each other through signaling-server, in a network
# namespace of their own (veth pair n0/n1, 10.99.0.1/24 and 10.99.0.2/24;
# nothing leaves it).
#
#   tests/e2e/browser/chromium-to-chromium.sh [CASE...]
#
# Cases: default (Chromium's own codec choice), vp8 (with keepalives every
# 2 s), h264, no-trickle
# (the server puts the candidates in the SDP), decline (no media; the
# caller must see 603). No argument: all of them. Prints one line per case
# and "N passed, N failed"; exits non-zero if any failed.
#
# Environment: SIGNALING_SERVER (default build/tests/server/signaling-server),
# CHROMIUM (default /usr/bin/chromium), WTSP_E2E_LOGDIR (kept logs; default
# a temporary directory, removed when everything passed),
# WTSP_E2E_DURATION (seconds in each call, default 6),
# WTSP_E2E_EXPECT_FRAMES (default 30), WTSP_E2E_VERBOSE=1 (harness --verbose).
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SELF="$HERE/$(basename "$0")"
SERVER=${SIGNALING_SERVER:-$ROOT/build/tests/server/signaling-server}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM PUPPETEER_SKIP_DOWNLOAD=1

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Outside the namespace: what is needed, then the same script inside one
if [ -z "${WTSP_E2E_IN_NETNS:-}" ]; then
  if [ ! -x "$CHROMIUM" ]; then
    echo "installing chromium"
    as_root apt-get install -y chromium >/dev/null || exit 1
  fi
  if ! command -v node >/dev/null; then
    echo "node is missing (apt-get install nodejs npm)" >&2
    exit 1
  fi
  if [ ! -d "$HERE/node_modules/puppeteer-core" ]; then
    echo "installing puppeteer-core (npm ci)"
    (cd "$HERE" && npm ci --no-audit --no-fund >/dev/null) || exit 1
  fi
  if [ ! -x "$SERVER" ]; then
    echo "building the reference server"
    ninja -C "$ROOT/build" >/dev/null || exit 1
  fi
  if [ "$(id -u)" = 0 ]; then unshare="unshare -n"; else unshare="unshare -rn"; fi
  export WTSP_E2E_IN_NETNS=1 SIGNALING_SERVER="$SERVER"
  exec $unshare sh -c '
    set -e
    ip link set lo up
    ip link add n0 type veth peer name n1
    ip addr add 10.99.0.1/24 dev n0
    ip addr add 10.99.0.2/24 dev n1
    ip link set n0 up
    ip link set n1 up
    exec "$@"' sh "$SELF" "$@"
fi

# Inside the namespace
DURATION=${WTSP_E2E_DURATION:-6}
EXPECT_FRAMES=${WTSP_E2E_EXPECT_FRAMES:-30}
VERBOSE=
[ "${WTSP_E2E_VERBOSE:-0}" = 1 ] && VERBOSE=--verbose
if [ -n "${WTSP_E2E_LOGDIR:-}" ]; then
  LOGS=$WTSP_E2E_LOGDIR
  KEEP_LOGS=1
  mkdir -p "$LOGS"
else
  LOGS=$(mktemp -d /tmp/chromium-to-chromium.XXXXXX)
  KEEP_LOGS=0
fi
HARNESS="node $HERE/harness.js"
. "$HERE/../e2e-lib.sh"

# One figure of a harness summary line: $1 file, $2 JS expression on `s`
summary() {
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8")
        .split("\n").filter(Boolean).map(l => { try { return JSON.parse(l); }
          catch (e) { return {}; } });
    const s = lines.reverse().find(l => "result" in l) || {};
    const v = (function (s) { return eval(process.argv[2]); })(s);
    process.stdout.write(v === undefined || v === null ? "-" : String(v));
  ' "$1" "$2" 2>/dev/null || printf -
}

describe() {
  summary "$1" '
    s.result === undefined ? "no summary" :
    (s.timings && s.timings.accepted !== undefined ?
      "accepted " + s.timings.accepted + " ms, first frame " + s.setupMs +
      " ms, " : "") +
    (s.hangup ? "hangup " + s.hangup.code + ", " : "") +
    "frames " + s.framesDecoded + " " + (s.codecReceived || "-") +
    (s.frameSize ? " " + s.frameSize : "") +
    ", audio packets " + s.audioPacketsReceived +
    (s.selectedPair && s.selectedPair.local ? ", via " +
      s.selectedPair.local.address + "<->" + s.selectedPair.remote.address : "") +
    (s.error ? ", error: " + s.error : "") +
    (s.failures ? ", failed: " + s.failures.join("; ") : "")'
}

# run_case NAME "SERVER ARGS" "CALLEE ARGS" "CALLER ARGS"
run_case() {
  name=$1
  dir="$LOGS/$name"
  mkdir -p "$dir"
  ok=1
  # shellcheck disable=SC2086
  if start_server $2; then
    # shellcheck disable=SC2086
    $HARNESS --server "$url" --token bob $3 --timeout 90 $VERBOSE \
        >"$dir/callee.out" 2>"$dir/callee.err" &
    callee_pid=$!
    if wait_for_line "$dir/callee.out" 45 '"state":"ready"'; then
      # shellcheck disable=SC2086
      $HARNESS --server "$url" --token alice --call bob $4 --timeout 60 \
          $VERBOSE >"$dir/caller.out" 2>"$dir/caller.err" || ok=0
    else
      echo "the callee never got ready" >"$dir/why"
      ok=0
      kill "$callee_pid" 2>/dev/null
    fi
    wait "$callee_pid" || ok=0
    callee_pid=
    stop_server
  else
    ok=0
  fi
  if [ $ok = 1 ]; then
    passed=$((passed + 1))
    echo "PASS $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name${dir:+ (logs: $dir)}"
    [ -f "$dir/why" ] && echo "  $(cat "$dir/why")"
  fi
  [ -f "$dir/caller.out" ] && echo "  caller: $(describe "$dir/caller.out")"
  [ -f "$dir/callee.out" ] && echo "  callee: $(describe "$dir/callee.out")"
}

media="--duration $DURATION --expect-frames $EXPECT_FRAMES --expect-audio 50"
# the callee stays until the caller hangs up (at the end of its --duration)
callee="--answer --duration $((DURATION + 20)) --expect-frames $EXPECT_FRAMES --expect-audio 50"

cases=${*:-default vp8 h264 no-trickle decline}
echo "Chromium: $("$CHROMIUM" --version 2>/dev/null)"
for c in $cases; do
  case $c in
    default)    run_case default "" "$callee" "$media" ;;
    # keepalives every 2 s: the 6 s call outlives the server's 2-interval
    # timeout only if the client keeps the session alive
    vp8)        run_case vp8 "--keepalive-interval 2000" "$callee --codec VP8" \
                    "$media --codec VP8" ;;
    h264)       run_case h264 "" "$callee --codec H264" "$media --codec H264" ;;
    no-trickle) run_case no-trickle "--no-trickle" "$callee" "$media" ;;
    decline)    run_case decline "" "--decline --expect-hangup 603" \
                    "--expect-hangup 603" ;;
    *) echo "unknown case $c" >&2; failed=$((failed + 1)) ;;
  esac
done

echo "$passed passed, $failed failed"
if [ $failed = 0 ] && [ $KEEP_LOGS = 0 ]; then
  rm -rf "$LOGS"
else
  echo "logs: $LOGS"
fi
[ $failed = 0 ]
