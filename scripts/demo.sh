#!/usr/bin/env bash
# The quick-start demo: builds the project, starts the reference signaling
# server and holds a WTSP session with signalingsrc for a few seconds,
# printing what the server says (handshake, registration, keepalives).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

export GST_PLUGIN_PATH="$PWD/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
tmp=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$tmp"' EXIT

build/tests/server/signaling-server --port 0 --registration-sequence \
  --keepalive-interval 1000 > "$tmp/server.out" 2> "$tmp/server.err" &
server=$!
for _ in $(seq 50); do
  grep -q '^listening' "$tmp/server.out" 2>/dev/null && break
  sleep 0.1
done
url=$(sed -n 's/^listening //p' "$tmp/server.out")
echo "demo: reference server at $url"

# The token goes in a file: gst-launch command lines are logged by GStreamer
echo alice > "$tmp/alice.token"

echo "demo: signalingsrc session as alice for 4 s"
timeout -s INT 4 gst-launch-1.0 -m -e \
  signalingsrc location="$url" token-file="$tmp/alice.token" \
  ! filesink location="$tmp/session.jsonl" 2>&1 \
  | grep -oE 'wtsp-(message|connection), [^;]*(kind|state)=\(string\)[a-z_]+(, type=\(string\)[a-z_]+)?' \
  | sed 's/^/  /' || true

echo "demo: the session log written by filesink ($(wc -l < "$tmp/session.jsonl") messages):"
sed 's/^/  /' "$tmp/session.jsonl"
