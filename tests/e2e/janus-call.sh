#!/bin/sh
# A real SIP call: webrtccall -> the reference server's Janus backend ->
# Janus (WebSocket API, SIP plugin) -> SIP -> baresip, all in a network
# namespace of its own (tests/e2e/netns.sh: n0 10.99.0.1, n1 10.99.0.2;
# everything here listens on n0 and nothing leaves the namespace).
#
#   tests/e2e/janus-call.sh [CASE...]
#
# The test bed, started once for all cases:
#  - Janus with only its WebSocket transport (ws://10.99.0.1:8188) and SIP
#    plugin, ICE on n0 only (configs: tests/e2e/janus/janus*.jcfg.in);
#  - baresip as "bob" on 10.99.0.1:5060: answers at once, sends a 440 Hz
#    tone, dumps what it receives to a WAV file, takes commands on
#    ctrl_tcp 127.0.0.1:4444 (tests/e2e/janus/baresip-*.in);
#  - the reference server with the Janus backend: signaling-server --janus
#    ws://10.99.0.1:8188 --accounts FILE, where FILE maps the WTSP token
#    "alice" to the SIP identity sip:alice@10.99.0.1 (a guest
#    registration: no secret) and sends dialled numbers to
#    10.99.0.1:5060 (bob -> sip:bob@10.99.0.1:5060).
#
# Each case is one call from alice to bob: tests/e2e/janus-call.py runs a
# webrtccall pipeline (audiotestsrc 880 Hz into audio_sink, audio_src_0
# into level and a buffer count), waits for "connected", talks 4 s, hangs
# up, and needs "ended" with code 200, audio buffers, an rms above -50 dB
# and baresip's 440 Hz tone; then baresip's recording of the call must hold
# our 880 Hz tone (rms above -50 dBFS).
#
# Cases (no argument: both):
#   sip-call-hangup-by-us       we hang up (the "hangup" action)
#   sip-call-hangup-by-baresip  baresip hangs up (ctrl_tcp "hangup")
#
# Prints one PASS/FAIL line per case with its figures and "N passed,
# N failed"; exits non-zero if any failed. Skipped (exit 77, and
# "0 passed, 0 failed, 2 skipped") when not root or when janus, its SIP
# plugin or baresip is not installed (./scripts/setup.sh installs them).
#
# Environment: SIGNALING_SERVER (default: under build/), WTSP_E2E_LOGDIR
# (kept logs; default a temporary directory, removed when everything
# passed), WTSP_E2E_DURATION (seconds of talk in each call, default 4),
# JANUS_DEBUG_LEVEL (janus -d, default 4; 5 logs SDPs and SIP), GST_DEBUG.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SELF="$HERE/$(basename "$0")"
SERVER=${SIGNALING_SERVER:-$ROOT/build/tests/server/signaling-server}
# Debian's python3 with gi (a pyenv python3 on PATH may lack it)
PYTHON=/usr/bin/python3
CALLER="$HERE/janus-call.py"
ALL_CASES="sip-call-hangup-by-us sip-call-hangup-by-baresip"
cases=${*:-$ALL_CASES}

# Every case skipped, with why (the first line: scripts/test.sh shows it)
skip_all() {
  echo "janus-call: skipped, $1"
  n=0
  for c in $cases; do
    echo "SKIP $c: $1"
    n=$((n + 1))
  done
  echo "0 passed, 0 failed, $n skipped"
  exit 77
}

# Outside the namespace: what is needed, then the same script inside one
if [ -z "${WTSP_E2E_IN_NETNS:-}" ]; then
  [ "$(id -u)" = 0 ] ||
    skip_all "needs root (a network namespace: libnice gathers nothing on lo)"
  command -v janus >/dev/null ||
    skip_all "janus is not installed (apt-get install janus)"
  command -v baresip >/dev/null ||
    skip_all "baresip is not installed (apt-get install baresip)"
  # The SIP plugin and the WebSocket transport, wherever the package put them
  JANUS_LIB=
  for d in /usr/lib/*/janus /usr/lib/janus /usr/local/lib/*/janus \
      /usr/local/lib/janus; do
    if [ -f "$d/plugins/libjanus_sip.so" ] &&
       [ -f "$d/transports/libjanus_websockets.so" ]; then
      JANUS_LIB=$d
      break
    fi
  done
  [ -n "$JANUS_LIB" ] ||
    skip_all "janus' SIP plugin or WebSocket transport is not installed"
  BARESIP_MODULES=
  for d in /usr/lib/baresip/modules /usr/lib/*/baresip/modules \
      /usr/local/lib/baresip/modules; do
    [ -f "$d/ausine.so" ] && [ -f "$d/sndfile.so" ] && BARESIP_MODULES=$d &&
      break
  done
  [ -n "$BARESIP_MODULES" ] ||
    skip_all "baresip's ausine and sndfile modules are not installed"
  if [ ! -x "$SERVER" ]; then
    echo "janus-call: $SERVER is missing (./scripts/setup.sh builds" \
      "everything)" >&2
    exit 1
  fi
  if ! $PYTHON -c 'import gi; gi.require_version("Gst", "1.0")' 2>/dev/null
  then
    echo "janus-call: $PYTHON has no gi (apt-get install python3-gi)" >&2
    exit 1
  fi
  export WTSP_E2E_IN_NETNS=1 SIGNALING_SERVER="$SERVER" JANUS_LIB \
    BARESIP_MODULES
  # meson sets GST_PLUGIN_PATH_1_0; run by hand, the build's plugin
  if [ -z "${GST_PLUGIN_PATH_1_0:-}" ]; then
    GST_PLUGIN_PATH="$ROOT/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
    export GST_PLUGIN_PATH
  fi
  exec "$HERE/netns.sh" "$SELF" "$@"
fi

# Inside the namespace
IP=10.99.0.1
IFACE=n0
WS_PORT=8188          # the namespace is ours: fixed ports are free
SIP_PORT=5060
CTRL=127.0.0.1:4444   # baresip's ctrl_tcp
DURATION=${WTSP_E2E_DURATION:-4}
if [ -n "${WTSP_E2E_LOGDIR:-}" ]; then
  LOGS=$WTSP_E2E_LOGDIR
  KEEP_LOGS=1
  mkdir -p "$LOGS"
else
  LOGS=$(mktemp -d /tmp/janus-call.XXXXXX)
  KEEP_LOGS=0
fi
JCONF=$LOGS/janus      # Janus' configs folder
BCONF=$LOGS/baresip    # baresip's config path
DUMP=$LOGS/baresip-dump
ACCOUNTS=$LOGS/accounts
TOKEN_FILE=$LOGS/alice.token

. "$HERE/e2e-lib.sh"

# e2e-lib's cleanup, for every process started here, each by its pid
janus_pid=
baresip_pid=
caller_pid=
cleanup() {
  for p in $caller_pid $server_pid $baresip_pid $janus_pid; do
    kill "$p" 2>/dev/null
  done
  for p in $caller_pid $server_pid $baresip_pid $janus_pid; do
    wait "$p" 2>/dev/null
  done
  caller_pid='' server_pid='' baresip_pid='' janus_pid=''
}

# What made the test bed fail; every case then fails with it
setup_why=

# fill TEMPLATE OUT: tests/e2e/janus/TEMPLATE with its @NAME@ fields set
fill() {
  sed -e "s|@CONF@|$JCONF|g" -e "s|@IP@|$IP|g" -e "s|@IFACE@|$IFACE|g" \
    -e "s|@WS_PORT@|$WS_PORT|g" -e "s|@SIP_PORT@|$SIP_PORT|g" \
    -e "s|@ICE_PORTS@|30000-30999|g" -e "s|@SIP_RTP_PORTS@|40000-40999|g" \
    -e "s|@RTP_PORTS@|42000-42999|g" -e "s|@TONE@|440|g" \
    -e "s|@MODULES@|$BARESIP_MODULES|g" -e "s|@CTRL@|$CTRL|g" \
    -e "s|@DUMP@|$DUMP|g" "$HERE/janus/$1" >"$2"
}

# wait_for_port t|u ADDR:PORT SECONDS PID: succeeds once a TCP (t) or UDP
# (u) socket is bound to ADDR:PORT; fails at once if PID exited
wait_for_port() {
  n=0
  while [ $n -lt $(($3 * 10)) ]; do
    ss -ln"$1" 2>/dev/null | grep -qF " $2 " && return 0
    kill -0 "$4" 2>/dev/null || return 1
    sleep 0.1
    n=$((n + 1))
  done
  return 1
}

# $1 file, $2 pattern, $3 count, $4 seconds: succeeds once the file has at
# least $3 lines matching $2
wait_for_count() {
  n=0
  while [ $n -lt $(($4 * 10)) ]; do
    [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
    sleep 0.1
    n=$((n + 1))
  done
  return 1
}

# exit_status PID: sets st to the exit status of PID, which has exited
# (not in a $(...): a subshell cannot wait for its parent's children)
exit_status() {
  wait "$1" 2>/dev/null
  st=$?
}

start_janus() {
  mkdir -p "$JCONF/plugins" "$JCONF/transports" "$JCONF/none"
  ln -sf "$JANUS_LIB/plugins/libjanus_sip.so" "$JCONF/plugins/"
  ln -sf "$JANUS_LIB/transports/libjanus_websockets.so" "$JCONF/transports/"
  fill janus.jcfg.in "$JCONF/janus.jcfg"
  fill janus.transport.websockets.jcfg.in \
    "$JCONF/janus.transport.websockets.jcfg"
  fill janus.plugin.sip.jcfg.in "$JCONF/janus.plugin.sip.jcfg"
  janus -F "$JCONF" -C "$JCONF/janus.jcfg" -o -D \
    -d "${JANUS_DEBUG_LEVEL:-4}" >"$LOGS/janus.log" 2>&1 &
  janus_pid=$!
  if ! wait_for_port t "$IP:$WS_PORT" 10 "$janus_pid"; then
    if kill -0 "$janus_pid" 2>/dev/null; then
      setup_why="janus did not listen on ws://$IP:$WS_PORT within 10 s"
    else
      exit_status "$janus_pid"
      setup_why="janus exited (status $st) before"
      setup_why="$setup_why listening on ws://$IP:$WS_PORT"
      janus_pid=
    fi
    setup_why="$setup_why (log: $LOGS/janus.log)"
    return 1
  fi
  # both modules loaded, and only them
  if ! grep -q "JANUS SIP plugin initialized" "$LOGS/janus.log"; then
    setup_why="janus started without its SIP plugin (log: $LOGS/janus.log)"
    return 1
  fi
}

start_baresip() {
  mkdir -p "$BCONF" "$DUMP"
  fill baresip-config.in "$BCONF/config"
  fill baresip-accounts.in "$BCONF/accounts"
  : >"$BCONF/contacts"
  baresip -f "$BCONF" -s </dev/null >"$LOGS/baresip.log" 2>&1 &
  baresip_pid=$!
  if ! wait_for_port u "$IP:$SIP_PORT" 10 "$baresip_pid" ||
     ! wait_for_port t "$CTRL" 5 "$baresip_pid"; then
    if kill -0 "$baresip_pid" 2>/dev/null; then
      setup_why="baresip did not bind $IP:$SIP_PORT/udp and $CTRL/tcp"
      setup_why="$setup_why within 10 s"
    else
      exit_status "$baresip_pid"
      setup_why="baresip exited (status $st)"
      setup_why="$setup_why before binding $IP:$SIP_PORT/udp"
      baresip_pid=
    fi
    setup_why="$setup_why (log: $LOGS/baresip.log)"
    return 1
  fi
}

# The reference server with the Janus backend; sets url
start_janus_server() {
  # A GLib key file; a group per WTSP token. No secret: the SIP plugin
  # registers as a guest. domain: where dialled numbers go.
  cat >"$ACCOUNTS" <<EOF
[alice]
number=alice
identity=sip:alice@$IP
display-name=Alice
domain=$IP:$SIP_PORT
EOF
  echo alice >"$TOKEN_FILE"
  "$SERVER" --port 0 --host "$IP" --janus "ws://$IP:$WS_PORT" \
    --accounts "$ACCOUNTS" >"$LOGS/server.out" 2>"$LOGS/server.err" &
  server_pid=$!
  n=0
  while [ $n -lt 50 ]; do
    if grep -q '^listening ' "$LOGS/server.out" 2>/dev/null; then
      url=$(sed -n 's/^listening //p' "$LOGS/server.out" | head -n 1)
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
    n=$((n + 1))
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    setup_why="the reference server printed no 'listening' line within 5 s"
  else
    exit_status "$server_pid"
    setup_why="the reference server exited (status $st) at start (does"
    setup_why="$setup_why it have the Janus backend: --janus URL --accounts"
    setup_why="$setup_why FILE?); its stderr: $(head -c 300 \
"$LOGS/server.err" | tr '\n' ' ')"
    server_pid=
  fi
  setup_why="$setup_why (logs: $LOGS/server.out, $LOGS/server.err)"
  return 1
}

# The "result: ..." line of a janus-call.py output, or what is there
result_of() {
  r=$(grep '^result: ' "$1" 2>/dev/null | tail -n 1)
  [ -n "$r" ] && { echo "${r#result: }"; return; }
  last=$(tail -n 3 "${1%.out}.err" 2>/dev/null)
  [ -n "$last" ] || last=$(tail -n 3 "$1" 2>/dev/null)
  echo "no result line: $(echo "$last" | tr '\n' ' ' | cut -c1-300)"
}

# run_case NAME [--far-end-hangup ADDR]
run_case() {
  name=$1
  shift
  dir="$LOGS/$name"
  rm -rf "$dir"
  mkdir -p "$dir"
  if [ -n "$setup_why" ]; then
    failed=$((failed + 1))
    echo "FAIL $name: $setup_why"
    return 0
  fi
  ok=1
  answers=$(grep -c 'answering call' "$LOGS/baresip.log")
  ends=$(grep -c 'terminated (duration' "$LOGS/baresip.log")
  $PYTHON "$CALLER" call --server "$url" --token-file "$TOKEN_FILE" \
      --number bob --duration "$DURATION" --freq 440 --timeout 30 "$@" \
      >"$dir/caller.out" 2>"$dir/caller.err" &
  caller_pid=$!
  wait "$caller_pid" || ok=0
  caller_pid=

  # baresip's side: it answered, its call ended, and its recording holds
  # our tone. The WAV is finished when baresip closes the call.
  if [ "$(grep -c 'answering call' "$LOGS/baresip.log")" -le "$answers" ]
  then
    echo "baresip never answered a call (no INVITE reached it? see" \
      "$LOGS/baresip.log, $LOGS/janus.log, $LOGS/server.err)" >>"$dir/why"
    ok=0
  elif ! wait_for_count "$LOGS/baresip.log" 'terminated (duration' \
      $((ends + 1)) 10; then
    echo "baresip did not end its call within 10 s of ours" >>"$dir/why"
    ok=0
  fi
  sleep 0.3
  mv "$DUMP"/dump-* "$dir/" 2>/dev/null
  rec=$(find "$dir" -name "dump-*-dec.wav" | head -n 1)
  if [ -z "$rec" ]; then
    echo "result: FAIL: baresip recorded nothing (no dump-*-dec.wav)" \
      >"$dir/recording.out"
    ok=0
  else
    $PYTHON "$CALLER" wav "$rec" --freq 880 --min-rms -50 --wait 3 \
      >"$dir/recording.out" 2>&1 || ok=0
  fi

  if [ $ok = 1 ]; then
    passed=$((passed + 1))
    echo "PASS $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name (logs: $dir, $LOGS)"
    [ -f "$dir/why" ] && sed 's/^/  /' "$dir/why"
  fi
  echo "  webrtccall: $(result_of "$dir/caller.out")"
  echo "  baresip:    $(result_of "$dir/recording.out")"
  return 0
}

echo "janus $(dpkg-query -W -f='${Version}' janus 2>/dev/null)," \
  "baresip $(dpkg-query -W -f='${Version}' baresip-core 2>/dev/null)"
start_janus && start_baresip && start_janus_server

for c in $cases; do
  case $c in
    sip-call-hangup-by-us)      run_case "$c" ;;
    sip-call-hangup-by-baresip) run_case "$c" --far-end-hangup "$CTRL" ;;
    *) echo "FAIL $c: unknown case"; failed=$((failed + 1)) ;;
  esac
done

echo "$passed passed, $failed failed"
if [ $failed = 0 ] && [ $KEEP_LOGS = 0 ]; then
  cleanup
  rm -rf "$LOGS"
else
  echo "logs: $LOGS"
fi
[ $failed = 0 ]
