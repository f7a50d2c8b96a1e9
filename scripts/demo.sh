#!/usr/bin/env bash
# The quick-start demo: builds the project, then makes a real call between
# two webrtccall pipelines through the reference signaling server: bob
# answers and records the call, alice calls bob and hangs up after 5 s.
# Prints the call states of both, what went each way and the file written,
# and makes a call report (call-report.png: bitrate, loss and round trip of
# alice's call over time, from webrtccall's stats-file) in the current
# directory.
#
# The call runs in a network namespace of its own (tests/e2e/netns.sh:
# libnice finds no address on lo), so it needs root; nothing leaves the
# namespace.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: the call needs a network namespace of its own, hence root:" \
    "sudo $0" >&2
  exit 1
fi

# Inside the namespace
demo() {
  set -euo pipefail
  export GST_PLUGIN_PATH="$PWD/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
  pids=""
  tmp=$(mktemp -d)
  trap 'kill $pids 2>/dev/null || true; wait 2>/dev/null || true
    rm -rf "$tmp"' EXIT

  wait_for() {   # FILE PATTERN: up to 5 s
    for _ in $(seq 50); do
      grep -q "$2" "$1" 2>/dev/null && return 0
      sleep 0.1
    done
    echo "demo: no '$2' in $1:" >&2
    cat "$1" "${1%.out}.err" >&2 2>/dev/null || true
    return 1
  }

  build/tests/server/signaling-server --host 10.99.0.1 --port 0 \
    > "$tmp/server.out" 2> "$tmp/server.err" &
  pids="$!"
  wait_for "$tmp/server.out" '^listening'
  url=$(sed -n 's/^listening //p' "$tmp/server.out")
  echo "demo: reference server at $url"

  # Tokens go in files: command lines are visible to every user
  echo alice > "$tmp/alice.token"
  echo bob > "$tmp/bob.token"

  build/tests/e2e/wtsp-call --server "$url" --token-file "$tmp/bob.token" \
    --answer --record "$tmp/call.mkv" --timeout 25 \
    > "$tmp/bob.out" 2> "$tmp/bob.err" &
  pids="$pids $!"
  wait_for "$tmp/bob.out" '^state registered'

  echo "demo: bob answers and records, alice calls bob for 5 s"
  build/tests/e2e/wtsp-call --server "$url" --token-file "$tmp/alice.token" \
    --call bob --duration 5 --timeout 20 --stats-file "$tmp/alice-stats.jsonl" \
    > "$tmp/alice.out" 2> "$tmp/alice.err" || true
  wait "${pids#* }" || true   # bob

  python3 - "$tmp" <<'PY'
import json, os, re, subprocess, sys

tmp = sys.argv[1]
report, states = {}, {}
for who in ("alice", "bob"):
    seq = []
    for line in open(os.path.join(tmp, who + ".out")):
        if line.startswith("state "):
            f = dict(re.findall(r'(\S+)=("[^"]*"|\S+)', line))
            name = line.split()[1]
            if name == "ended":
                name += " %s %s" % (f.get("code", ""), f.get("reason", ""))
            if not seq or seq[-1] != name:
                seq.append(name)
        elif line.startswith("{"):
            report[who] = json.loads(line)
    states[who] = seq
    print("  %-6s %s" % (who + ":", " > ".join(seq)))

a, b = report.get("alice", {}), report.get("bob", {})
print("demo: call report")
print("  setup       alice %s ms (dialled to connected), bob %s ms "
      "(incoming to connected)" % (a.get("setupMs"), b.get("setupMs")))
print("  bob got     %s video frames, %s audio packets (encoded, recorded)"
      % (b.get("videoFramesReceived"), b.get("audioBuffersReceived")))
print("  alice got   %s video frames, %s audio buffers (decoded)"
      % (a.get("videoFramesReceived"), a.get("audioBuffersReceived")))

path = os.path.join(tmp, "call.mkv")
ok = a.get("result") == "ok" and b.get("result") == "ok"
if os.path.exists(path):
    out = subprocess.run(["gst-discoverer-1.0", path], capture_output=True,
                         text=True).stdout
    streams = ["%s %s" % m for m in
               re.findall(r"^\s+(video|audio) #\d+: (.*)$", out, re.M)]
    wh = re.search(r"Width: (\d+)\s*\n\s*Height: (\d+)", out)
    if wh:
        streams = [s + (" %sx%s" % wh.groups() if s.startswith("video") else "")
                   for s in streams]
    dur = re.search(r"Duration: (\S+)", out)
    print("  recording   call.mkv, %d kB, %s: %s" % (
        os.path.getsize(path) // 1024, dur.group(1) if dur else "no duration",
        ", ".join(streams) or "no stream"))
    ok = ok and len(streams) == 2 and dur is not None
else:
    print("  recording   none")
    ok = False
for who, r in (("alice", a), ("bob", b)):
    if r.get("result") != "ok":
        print("demo: %s failed: %s" % (who, r.get("error", "no report")))
        for line in open(os.path.join(tmp, who + ".err")).readlines()[-5:]:
            print("  " + line.rstrip())
stats = os.path.join(tmp, "alice-stats.jsonl")
png = os.path.join(os.environ.get("DEMO_OUT", "."), "call-report.png")
if os.path.exists(stats):
    # its shebang: Debian's python3, which has python3-matplotlib
    out = subprocess.run(["pipelines/call-report.py", stats,
                          "-o", png], capture_output=True, text=True)
    if out.returncode == 0:
        figures = out.stdout.splitlines()[0].split(": ", 1)[-1]
        print("  quality     alice's call: %s" % figures)
        print("  report      %s" % os.path.abspath(png))
    else:
        print("demo: call-report.py failed: %s" % out.stderr.strip())
        ok = False
else:
    print("  report      none: alice wrote no stats")
    ok = False
print("demo: %s" % ("the call worked" if ok else "FAILED"))
sys.exit(0 if ok else 1)
PY
}

exec tests/e2e/netns.sh bash -c "$(declare -f demo); demo"
