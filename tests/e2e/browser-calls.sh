#!/bin/sh
# A real Chromium at the far end of webrtccall: calls between wtsp-call (one
# webrtccall pipeline) and the browser harness, through the reference
# server, in a network namespace of their own (veth pair n0/n1,
# 10.99.0.1/24 and 10.99.0.2/24; nothing leaves it). Media is checked on
# both sides: the harness's getStats() (framesDecoded, audio
# packetsReceived) and wtsp-call's probes after the decoders.
#
#   tests/e2e/browser-calls.sh [CASE...]
#
# Cases (no argument: all):
#   browser-calls-vp8    Chromium calls the pipeline (auto-answer), VP8
#   browser-calls-h264   the same, H264 (wtsp-call --video-codecs H264)
#   pipeline-calls-vp8   the pipeline calls Chromium, VP8
#   pipeline-calls-h264  the same, H264
#   record               Chromium calls the pipeline, which records the call
#                        (encoded-output, matroskamux): the file must hold a
#                        video and an audio stream and last >= 3 s
#   browser-sends-dtmf   Chromium calls the pipeline (auto-answer) and, 1 s
#                        after ICE connected, presses "123#"
#                        (RTCDTMFSender.insertDTMF, 100 ms, 70 ms gap): every
#                        tone played (tonechange), telephone-event in both
#                        SDPs, and wtsp-call --expect-dtmf must receive
#                        exactly 1 2 3 # in order (webrtccall-dtmf)
#   pipeline-sends-dtmf  the pipeline calls Chromium and, 1 s after
#                        connected, presses "456*" (send-dtmf): Chromium must
#                        have telephone-event in both SDPs, read exactly
#                        4 5 6 * from the RFC 4733 packets it receives (an
#                        RTCRtpScriptTransform on its audio receiver), >= 50
#                        audio frames after them, and media both ways
#
# Prints one line per case (DTMF cases: with the keys and durations) and
# the figures of each side, then "N passed, N failed";
# exits non-zero if any failed, 77 (skipped) when not root.
#
# Environment: SIGNALING_SERVER, WTSP_CALL (default: under build/),
# CHROMIUM (default /usr/bin/chromium), WTSP_E2E_LOGDIR (kept logs; default
# a temporary directory, removed when everything passed),
# WTSP_E2E_DURATION (seconds in each call, default 6), WTSP_E2E_VERBOSE=1
# (harness --verbose), GST_DEBUG (for wtsp-call).
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
# no globbing: DTMF tones have '*' in them
set -f

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SELF="$HERE/$(basename "$0")"
SERVER=${SIGNALING_SERVER:-$ROOT/build/tests/server/signaling-server}
WTSP_CALL=${WTSP_CALL:-$ROOT/build/tests/e2e/wtsp-call}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM PUPPETEER_SKIP_DOWNLOAD=1

# Outside the namespace: what is needed, then the same script inside one
if [ -z "${WTSP_E2E_IN_NETNS:-}" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "browser-calls: skipped, needs root (a network namespace: libnice" \
      "gathers nothing on lo)"
    exit 77
  fi
  for f in "$SERVER" "$WTSP_CALL" "$CHROMIUM"; do
    if [ ! -x "$f" ]; then
      echo "browser-calls: $f is missing (./scripts/setup.sh builds and" \
        "installs everything)" >&2
      exit 1
    fi
  done
  if [ ! -d "$HERE/browser/node_modules/puppeteer-core" ]; then
    echo "browser-calls: puppeteer-core is missing (./scripts/setup.sh)" >&2
    exit 1
  fi
  export WTSP_E2E_IN_NETNS=1 SIGNALING_SERVER="$SERVER" WTSP_CALL
  # meson sets GST_PLUGIN_PATH_1_0; run by hand, the build's plugin
  if [ -z "${GST_PLUGIN_PATH_1_0:-}" ]; then
    GST_PLUGIN_PATH="$ROOT/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
    export GST_PLUGIN_PATH
  fi
  exec "$HERE/netns.sh" "$SELF" "$@"
fi

# Inside the namespace
DURATION=${WTSP_E2E_DURATION:-6}
VERBOSE=
[ "${WTSP_E2E_VERBOSE:-0}" = 1 ] && VERBOSE=--verbose
if [ -n "${WTSP_E2E_LOGDIR:-}" ]; then
  LOGS=$WTSP_E2E_LOGDIR
  KEEP_LOGS=1
  mkdir -p "$LOGS"
else
  LOGS=$(mktemp -d /tmp/browser-calls.XXXXXX)
  KEEP_LOGS=0
fi
HARNESS="node $HERE/browser/harness.js"
. "$HERE/e2e-lib.sh"

# A figure of the last JSON line with a "result" (harness summary or
# wtsp-call report): $1 file, $2 JS expression on `s`; "-" when absent
figure() {
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8")
        .split("\n").filter(l => l.startsWith("{")).map(l => {
          try { return JSON.parse(l); } catch (e) { return {}; } });
    const s = lines.reverse().find(l => "result" in l);
    const v = s && (function (s) { return eval(process.argv[2]); })(s);
    process.stdout.write(v === undefined || v === null ? "-" : String(v));
  ' "$1" "$2" 2>/dev/null || printf -
}

# What each side saw, for the case's line
describe_pipeline() {
  figure "$1" '"setup " + (s.setupMs ?? "-") + " ms, got " +
    s.videoFramesReceived + " frames + " + s.audioBuffersReceived + " audio" +
    (s.hangup ? ", hangup " + s.hangup.code : "") +
    (s.error ? ", error: " + s.error : "")'
}

describe_browser() {
  figure "$1" '"first frame " + (s.setupMs ?? "-") + " ms, got " +
    s.framesDecoded + " frames " + (s.codecReceived || "-") +
    (s.frameSize ? " " + s.frameSize : "") + " + " +
    s.audioPacketsReceived + " audio packets " + (s.audioCodec || "") +
    ", sent " + (s.codecSent || "-") +
    (s.error ? ", error: " + s.error : "") +
    (s.failures ? ", failed: " + s.failures.join("; ") : "")'
}

# The DTMF figures of a case, for its PASS/FAIL line
describe_dtmf() {
  pipeline=$(figure "$1" '(s.dtmfSent ? "pipeline sent " + s.dtmfSent +
    "; " : "") + (s.dtmfReceived && s.dtmfReceived.length ?
    "pipeline received " + s.dtmfReceived.map(k => k.tone + " (" +
    k.duration + " ms)").join(" ") + "; " : "")')
  browser=$(figure "$2" '(s.dtmfSent ? "Chromium sent " + s.dtmfSent +
    " (tonechange " + (s.toneChanges || "none") + "); " : "") +
    (s.dtmfReceived !== undefined ? "Chromium read " + (s.dtmfReceived ||
    "nothing") + " from " + s.dtmfPackets + " telephone-event packets, " +
    s.audioFramesAfterDtmf + " audio frames after; " : "") +
    (s.telephoneEvents ? "SDP local " + s.telephoneEvents.local.join(", ") +
    " (" + s.telephoneEvents.localCodec + "), remote " +
    s.telephoneEvents.remote.join(", ") + " (" +
    s.telephoneEvents.remoteCodec + ")" : "")')
  [ "$pipeline" = - ] && pipeline=
  [ "$browser" = - ] && browser=
  printf '%s%s' "$pipeline" "$browser" | sed 's/; $//'
}

# The recording: a video and an audio stream, and a duration
check_recording() {
  file=$1
  if [ ! -s "$file" ]; then
    echo "no recording at $file" >>"$dir/why"
    return 1
  fi
  gst-discoverer-1.0 "$file" >"$dir/discoverer.out" 2>&1
  streams=$(grep -oE '^ +(video|audio) #[0-9]+: .*' "$dir/discoverer.out" |
    sed 's/^ *//; s/ #[0-9]*:/:/' | tr '\n' ',' | sed 's/,$//; s/,/, /g')
  duration=$(sed -n 's/^ *Duration: //p' "$dir/discoverer.out")
  secs=$(echo "$duration" | awk -F: '{ printf "%d", $1 * 3600 + $2 * 60 + $3 }')
  record_info="file: $streams, $duration"
  grep -qE '^ +video #' "$dir/discoverer.out" &&
    grep -qE '^ +audio #' "$dir/discoverer.out" && [ "${secs:-0}" -ge 3 ] &&
    return 0
  echo "the recording lacks a stream or is too short: $record_info" \
    >>"$dir/why"
  return 1
}

# Both counts at least this, on both sides
FRAMES=30
AUDIO=50

# run_case NAME MODE CODEC [record] [WTSP_CALL_ARGS] [HARNESS_ARGS]
#   MODE browser-calls: the pipeline answers, Chromium calls
#   MODE pipeline-calls: Chromium answers, the pipeline calls
#   the last two: more options for each side (split on spaces)
run_case() {
  name=$1
  mode=$2
  codec=$3
  record=${4:-}
  wtsp_extra=${5:-}
  browser_extra=${6:-}
  t_start=$(date +%s.%N)
  dir="$LOGS/$name"
  rm -rf "$dir"
  mkdir -p "$dir"
  ok=1
  record_info=
  wtsp_codecs=
  [ "$codec" = H264 ] && wtsp_codecs="--video-codecs H264"
  [ "$codec" = VP8 ] && wtsp_codecs="--video-codecs VP8"
  browser_codec=
  [ -n "$codec" ] && browser_codec="--codec $codec"
  media="--expect-frames $FRAMES --expect-audio $AUDIO"
  browser="--bundle-policy max-bundle $browser_codec $media $VERBOSE"
  browser="$browser $browser_extra"

  if start_server; then
    if [ "$mode" = browser-calls ]; then
      rec=
      [ -n "$record" ] && rec="--record $dir/call.mkv"
      # shellcheck disable=SC2086
      "$WTSP_CALL" --server "$url" --token bob --answer $wtsp_codecs $rec \
          $media $wtsp_extra --timeout 60 >"$dir/pipeline.out" \
          2>"$dir/pipeline.err" &
      callee_pid=$!
      if wait_for_line "$dir/pipeline.out" 10 '^state registered'; then
        # shellcheck disable=SC2086
        $HARNESS --server "$url" --token alice --call bob \
            --duration "$DURATION" $browser --timeout 60 \
            >"$dir/browser.out" 2>"$dir/browser.err" || ok=0
      else
        echo "wtsp-call never registered" >>"$dir/why"
        ok=0
        kill "$callee_pid" 2>/dev/null
      fi
    else
      # the harness stays until the pipeline hangs up
      # shellcheck disable=SC2086
      $HARNESS --server "$url" --token bob --answer \
          --duration $((DURATION + 30)) $browser --timeout 90 \
          >"$dir/browser.out" 2>"$dir/browser.err" &
      callee_pid=$!
      if wait_for_line "$dir/browser.out" 45 '"state":"ready"'; then
        # shellcheck disable=SC2086
        "$WTSP_CALL" --server "$url" --token alice --call bob $wtsp_codecs \
            --duration "$DURATION" $media $wtsp_extra --timeout 30 \
            >"$dir/pipeline.out" 2>"$dir/pipeline.err" || ok=0
      else
        echo "the harness never got ready" >>"$dir/why"
        ok=0
        kill "$callee_pid" 2>/dev/null
      fi
    fi
    wait "$callee_pid" || ok=0
    callee_pid=
    stop_server
    if [ -n "$record" ] && ! check_recording "$dir/call.mkv"; then
      ok=0
    fi
  else
    ok=0
  fi

  figures=
  if [ -n "$wtsp_extra$browser_extra" ]; then
    figures=$(describe_dtmf "$dir/pipeline.out" "$dir/browser.out")
    figures=": $figures, $(awk -v a="$t_start" -v b="$(date +%s.%N)" \
      'BEGIN { printf "%.1f s", b - a }')"
  fi
  if [ $ok = 1 ]; then
    passed=$((passed + 1))
    echo "PASS $name$figures"
  else
    failed=$((failed + 1))
    echo "FAIL $name$figures (logs: $dir)"
    [ -f "$dir/why" ] && sed 's/^/  /' "$dir/why"
    # a DTMF case: what the bin warned about (send-dtmf's warnings)
    [ -n "$figures" ] && grep -h '^wtsp-call: \(warning\|error\)' \
      "$dir/pipeline.err" 2>/dev/null | head -n 3 | sed 's/^/  /'
  fi
  [ -f "$dir/pipeline.out" ] &&
    echo "  pipeline: $(describe_pipeline "$dir/pipeline.out")"
  [ -f "$dir/browser.out" ] &&
    echo "  browser:  $(describe_browser "$dir/browser.out")"
  [ -n "$record_info" ] && echo "  $record_info"
  return 0
}

cases=${*:-browser-calls-vp8 browser-calls-h264 pipeline-calls-vp8 \
pipeline-calls-h264 record browser-sends-dtmf pipeline-sends-dtmf}
echo "Chromium: $("$CHROMIUM" --version 2>/dev/null)"
for c in $cases; do
  case $c in
    browser-calls-vp8)   run_case "$c" browser-calls VP8 ;;
    browser-calls-h264)  run_case "$c" browser-calls H264 ;;
    pipeline-calls-vp8)  run_case "$c" pipeline-calls VP8 ;;
    pipeline-calls-h264) run_case "$c" pipeline-calls H264 ;;
    record)              run_case "$c" browser-calls "" record ;;
    browser-sends-dtmf)
      run_case "$c" browser-calls "" "" "--expect-dtmf 123#" \
        "--send-dtmf 123# --expect-dtmf-negotiated" ;;
    pipeline-sends-dtmf)
      run_case "$c" pipeline-calls "" "" "--send-dtmf 456*" \
        "--expect-dtmf-negotiated --expect-dtmf 456*" ;;
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
