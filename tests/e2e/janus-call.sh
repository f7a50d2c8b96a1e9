#!/bin/sh
# Real SIP calls: webrtccall -> the reference server's Janus backend ->
# Janus (WebSocket API, SIP plugin) -> SIP -> baresip / sipp, through a
# real registrar and proxy (kamailio), all in a network namespace of its
# own (tests/e2e/netns.sh: n0 10.99.0.1, n1 10.99.0.2; everything here
# listens on n0 and nothing leaves the namespace).
#
#   tests/e2e/janus-call.sh [CASE...]
#
# The test bed, started once for all cases:
#  - Janus with only its WebSocket transport (ws://10.99.0.1:8188) and SIP
#    plugin, ICE on n0 only (configs: tests/e2e/janus/janus*.jcfg.in);
#  - kamailio on udp:10.99.0.1:5070, the registrar and proxy
#    (tests/e2e/janus/kamailio.cfg.in: REGISTER -> save("location") in
#    memory, digest authentication with a fixed password for alice and
#    eve; INVITE -> record_route, lookup("location") and t_relay; the user
#    "sipp" -> the sipp UAS on 10.99.0.1:5080; loose routing in dialogs).
#    Janus' SIP plugin binds a random SIP port per handle: a phone reaches
#    the pipeline's account only through a registrar;
#  - baresip as "bob" on 10.99.0.1:5060: answers at once, sends a 440 Hz
#    tone, dumps what it receives to a WAV file, takes commands on
#    ctrl_tcp 127.0.0.1:4444 (tests/e2e/janus/baresip-*.in); it registers
#    with kamailio (regint=60) and sends its calls there (outbound proxy);
#  - the reference server with the Janus backend: signaling-server --janus
#    ws://10.99.0.1:8188 --accounts FILE, where FILE maps the WTSP token
#    "alice" to the SIP identity sip:alice@10.99.0.1, registered with
#    kamailio (authuser, secret, proxy=sip:10.99.0.1:5070), and sends
#    dialled numbers to 10.99.0.1:5060 (bob -> sip:bob@10.99.0.1:5060,
#    straight to baresip); "eve" (sip:eve@10.99.0.1) has a wrong secret.
#
# Our side is tests/e2e/janus-call.py: a webrtccall pipeline
# (audiotestsrc 880 Hz into audio_sink, audio_src_0 into level and a
# buffer count), with a signalingsrc sharing its WTSP session to see what
# the server says of the SIP registration where that matters.
#
# Cases (no argument: all; each prints PASS, FAIL or SKIP with figures):
#   sip-register                 alice's line registers through Janus with
#                                kamailio (401 challenge, then 200): the
#                                WTSP session sees registering, then
#                                registered; kamailio saved alice's and
#                                bob's contacts
#   sip-register-wrong-secret    eve's REGISTER is refused (403): the
#                                session sees registration_failed 403 and
#                                signalingsrc posts "SIP registration
#                                failed: 403 Forbidden"; a dial then fails
#                                (what webrtccall shows is reported)
#   sip-call-hangup-by-us        alice calls bob, talks, we hang up (200)
#   sip-call-hangup-by-baresip   the same, baresip hangs up (200)
#   sip-incoming-from-baresip    bob dials sip:alice@10.99.0.1 (through
#                                kamailio); the pipeline answers
#                                (auto-answer=true); we hear 440 Hz,
#                                baresip records our 880 Hz; baresip hangs
#                                up: ended 200
#   sip-incoming-without-sdp     sipp ("carol") sends an INVITE without SDP
#                                for alice to kamailio: incoming_call
#                                without jsep, the bin accepts with an
#                                offer, Janus' 200 OK carries its offer and
#                                sipp answers it in the ACK (opus, the
#                                offered payload type) and echoes our RTP
#                                (sipp -rtp_echo): we hear our own 880 Hz
#                                through Janus both ways; sipp's BYE:
#                                ended 200
#   sip-incoming-adds-video      sipp ("erin") calls alice audio only
#                                (PCMU); 2 s in, a re-INVITE adds a VP8
#                                video m-line: Janus relays it as
#                                updating_call with an offer, the bin gives
#                                the new m-line a transceiver and answers
#                                (update); the re-INVITE's 200 OK must
#                                accept the video (a port, not 0) and keep
#                                PCMU; audio goes on; sipp's BYE: 200
#   sip-we-transfer-attended     alice calls the sipp UAS, then from a second
#                                bin of her session calls bob (baresip: the
#                                consultation) and 2 s later transfers sipp
#                                to bob replacing that call: the REFER sipp
#                                gets carries Replaces= the consultation
#                                call's id; sipp's NOTIFY 200 (terminated)
#                                makes the bin hang up itself; the
#                                consultation call is hung up: baresip ends
#                                it, 200
#   sip-calls-back-to-back       alice calls bob (baresip) three times in
#                                a row from one bin, each dialled as the
#                                last ended (tests/bench/bench-calls.py
#                                --gap 0): Janus closes a call's
#                                PeerConnection a little after its end, and
#                                the server holds the next call on the line
#                                until then; all three connect, end 200
#   sip-sipp-transfers-we-call   sipp ("erin") calls alice and transfers
#                                her attended to the sipp UAS (?Replaces=);
#                                the bin takes it
#                                (accept-transfers=true): ended
#                                "transferred", a new call with refer_id
#                                connects to the target, whose INVITE has
#                                the Replaces; Janus NOTIFYs erin
#                                (183, then 200: sipp must get both); erin
#                                hangs up, we hang up the new call
#   sip-sipp-transfers-attended  sipp ("erin") calls alice and, 1 s in,
#                                transfers the call attended: a REFER to
#                                frank with ?Replaces= (baresip 1.0 has no
#                                attended transfer): Janus answers 202, the
#                                bin posts webrtccall-transfer with that
#                                refer-to (Janus 1.1.2 keeps the Replaces
#                                for the INVITE made with its refer_id: no
#                                replace-call-id); the call goes on; sipp's
#                                BYE: 200
#   sip-incoming-g711            sipp ("dave") calls alice offering PCMU
#                                and PCMA only: the bin answers G.711,
#                                sipp echoes our RTP: we hear our own
#                                880 Hz through G.711; sipp's BYE: 200
#   sip-callee-busy              alice calls the sipp UAS through kamailio
#   sip-callee-not-found         (number sip:sipp@10.99.0.1:5070), which
#   sip-callee-declines          answers 486 / 404 / 603 / 480 / 408 after
#   sip-callee-unavailable       a 180: ended with that code, never
#   sip-callee-timeout           connected (480 and 408: no answer)
#   sip-callee-rings-we-cancel   it rings (180) and never answers; we hang
#                                up 1 s after ringing: a CANCEL, sipp's
#                                487, ended 487
#   sip-baresip-holds            alice calls bob; 2 s after connected
#                                baresip holds (a re-INVITE, a=sendonly):
#                                the bin gets updating_call, answers with
#                                update, posts "held"; 1.5 s later baresip
#                                resumes: "connected" again; we hang up 200
#   sip-baresip-transfers        alice calls bob; baresip transfers us to
#                                sip:carol@10.99.0.1 (a REFER): the bin
#                                posts webrtccall-transfer with that
#                                refer-to, bob as referred-by and a
#                                refer-id; the call goes on; we hang up
#   sip-callee-early-media       the sipp UAS answers 183 with SDP (PCMU
#                                only, video rejected), echoes our RTP for
#                                2 s, then 200: progress, then our own
#                                880 Hz heard before accepted (early
#                                media) and after, through G.711; we hang
#                                up: 200
#   sip-wtsp-reconnect           alice calls bob; 1 s after connected our
#                                WebSocket is killed (ss -K): the bin
#                                reconnects, the server gives the session
#                                back with its call (Janus never noticed),
#                                audio goes on; we hang up: 200
#   sip-dtmf-from-baresip        alice calls bob; baresip presses 1234
#                                (ctrl_tcp sndcode, RFC 4733 on
#                                telephone-event/8000 with Opus): the bin
#                                posts one webrtccall-dtmf per key, in
#                                order; the RTP from baresip is read off lo
#                                (packets, end packets, durations)
#   sip-dtmf-to-baresip          alice calls bob; we press 5678#
#                                (send-dtmf): baresip's events
#                                (CALL_DTMF_START/END) and its log show the
#                                keys in order; the telephone-events Janus
#                                sent baresip are read off lo
#   sip-dtmf-g711                the same both ways in a PCMU call
#                                (--audio-codecs PCMU): baresip presses 90,
#                                we press *0#
#   sip-we-hold                  alice calls bob, holds 2 s after connected
#                                and unholds 2 s later: baresip gets a
#                                re-INVITE with a=sendonly (answers
#                                recvonly), then one with sendrecv; the bin
#                                posts holding, then connected; no RTP
#                                either way while held
#   sip-we-transfer              alice calls bob; 1 s after connected we
#                                transfer bob to the sipp UAS (the transfer
#                                action: Janus REFERs baresip, which dials
#                                sip:sipp@10.99.0.1:5070; sipp answers
#                                200, audio only): the bin posts
#                                webrtccall-transfer transferring, then the
#                                NOTIFYs' sipfrag progress, the last
#                                "SIP/2.0 200 OK" (terminated), and hangs up
#                                itself: ended 200
#   sip-we-transfer-busy         the same, sipp answers baresip 486: the last
#                                NOTIFY says 486, the bin warns that the
#                                transfer failed, the call goes on; we hang
#                                up: 200
#   sip-callee-ignores-cancel    (last: Janus' line stays in the call
#                                until kamailio gives up on it) the sipp
#                                UAS rings, answers our CANCEL 200 but
#                                never the INVITE 487: 5 s after hangingup
#                                the bin ends the call itself, 487, with a
#                                warning that the server did not confirm
# The cases through kamailio are skipped when kamailio is not installed,
# those with sipp when sipp is not (apt-get install kamailio sip-tester).
#
# Prints one PASS/FAIL/SKIP line per case with its figures and "N passed,
# N failed, N skipped"; exits non-zero if any failed (77 if all were
# skipped). Skipped as a whole (exit 77) when not root or when janus, its
# SIP plugin or baresip is not installed (./scripts/setup.sh installs
# them).
#
# Environment: SIGNALING_SERVER (default: under build/), WTSP_E2E_LOGDIR
# (kept logs; default a temporary directory, removed when everything
# passed), WTSP_E2E_DURATION (seconds of talk in each call, default 4),
# JANUS_DEBUG_LEVEL (janus -d, default 4; 5 logs SDPs and SIP),
# WTSP_E2E_VERBOSE=1 (the server logs every Janus message: --verbose),
# GST_DEBUG.
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
# sip-register first: it must see a fresh session register. An outgoing
# call right after sip-incoming-adds-video may get no media (Janus 1.1.2:
# docs/gateway.md, known limits): an incoming case follows it
ALL_CASES="sip-register sip-register-wrong-secret sip-call-hangup-by-us
sip-call-hangup-by-baresip sip-calls-back-to-back sip-incoming-from-baresip sip-incoming-without-sdp
sip-incoming-g711 sip-callee-busy sip-callee-not-found sip-callee-declines
sip-callee-unavailable sip-callee-timeout sip-callee-early-media
sip-callee-rings-we-cancel
sip-baresip-holds sip-baresip-transfers sip-wtsp-reconnect
sip-dtmf-from-baresip sip-dtmf-to-baresip sip-dtmf-g711 sip-we-hold
sip-we-transfer sip-we-transfer-busy sip-we-transfer-attended
sip-incoming-adds-video
sip-sipp-transfers-attended sip-sipp-transfers-we-call
sip-callee-ignores-cancel"
# shellcheck disable=SC2048,SC2116 # one word per case
cases=$(echo ${*:-$ALL_CASES})

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
  # kamailio and sipp: without them, their cases are skipped one by one
  KAMAILIO_MODULES=
  NO_KAMAILIO=
  if ! command -v kamailio >/dev/null; then
    NO_KAMAILIO="kamailio is not installed (apt-get install kamailio)"
  else
    for d in /usr/lib/*/kamailio/modules /usr/lib/kamailio/modules \
        /usr/local/lib/*/kamailio/modules /usr/local/lib/kamailio/modules \
        /usr/local/lib64/kamailio/modules; do
      found=1
      for m in tm sl rr pv maxfwd textops siputils xlog sanity usrloc \
          registrar auth; do
        [ -f "$d/$m.so" ] || found=0
      done
      [ $found = 1 ] && KAMAILIO_MODULES=$d && break
    done
    [ -n "$KAMAILIO_MODULES" ] || NO_KAMAILIO="kamailio's modules (tm,"
    [ -n "$KAMAILIO_MODULES" ] ||
      NO_KAMAILIO="$NO_KAMAILIO usrloc, registrar, auth...) are not installed"
  fi
  NO_SIPP=
  command -v sipp >/dev/null ||
    NO_SIPP="sipp is not installed (apt-get install sip-tester)"
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
    BARESIP_MODULES KAMAILIO_MODULES NO_KAMAILIO NO_SIPP
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
SIP_PORT=5060         # baresip
PROXY_PORT=5070       # kamailio
SIPP_UAS_PORT=5080    # sipp, the callee of the failure cases
SIPP_UAC_PORT=5090    # sipp, the caller without SDP
SIPP_MEDIA_PORT=6000  # sipp's RTP echo
CTRL=127.0.0.1:4444   # baresip's ctrl_tcp
BARESIP_RTP_PORTS=42000-42999    # @RTP_PORTS@ in fill
JANUS_SIP_RTP_PORTS=40000-40999  # @SIP_RTP_PORTS@
AUTH_USERS="alice|eve"          # kamailio's users with a password
AUTH_SECRET=wtsp-test-secret    # their password (a test bed: plain text)
DURATION=${WTSP_E2E_DURATION:-4}
# What we send when we answer baresip, whose opus offer says stereo=1;
# sprop-stereo=1: mono, as a microphone gives (the bin sends stereo Opus
# when its answer says sprop-stereo=1; mono input made the send path
# not-negotiated before). WTSP_E2E_ANSWER_CHANNELS=2 feeds stereo.
ANSWER_CHANNELS=${WTSP_E2E_ANSWER_CHANNELS:-1}
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
KCONF=$LOGS/kamailio   # kamailio's config and runtime folder
DUMP=$LOGS/baresip-dump
ACCOUNTS=$LOGS/accounts
TOKEN_FILE=$LOGS/alice.token
EVE_TOKEN_FILE=$LOGS/eve.token
# With kamailio, bob (baresip) registers with it and calls through it
if [ -z "$NO_KAMAILIO" ]; then
  REGINT=60
  OUTBOUND=";outbound=\"sip:$IP:$PROXY_PORT\""
else
  REGINT=0
  OUTBOUND=
fi

. "$HERE/e2e-lib.sh"

# e2e-lib's cleanup, for every process started here, each by its pid
janus_pid=
baresip_pid=
kamailio_pid=
caller_pid=
sipp_pid=
cleanup() {
  # kamailio last: baresip unregisters as it exits, and waits 32 s (SIP
  # timer F) for a registrar that is gone
  for p in $caller_pid $sipp_pid $server_pid $baresip_pid; do
    kill "$p" 2>/dev/null
  done
  for p in $caller_pid $sipp_pid $server_pid $baresip_pid; do
    wait "$p" 2>/dev/null
  done
  for p in $kamailio_pid $janus_pid; do
    kill "$p" 2>/dev/null
  done
  for p in $kamailio_pid $janus_pid; do
    wait "$p" 2>/dev/null
  done
  caller_pid='' sipp_pid='' server_pid='' baresip_pid='' kamailio_pid=''
  janus_pid=''
}

# What made the test bed fail; every case then fails with it
setup_why=
skipped=0

# fill TEMPLATE OUT [NAME=VALUE...]: tests/e2e/janus/TEMPLATE with its
# @NAME@ fields set, the extra ones from the arguments (no '#' in values)
fill() {
  tmpl=$1
  out=$2
  shift 2
  n=$#
  i=0
  while [ $i -lt $n ]; do
    a=$1
    shift
    set -- "$@" -e "s#@${a%%=*}@#${a#*=}#g"
    i=$((i + 1))
  done
  sed -e "s#@CONF@#$JCONF#g" -e "s#@IP@#$IP#g" -e "s#@IFACE@#$IFACE#g" \
    -e "s#@WS_PORT@#$WS_PORT#g" -e "s#@SIP_PORT@#$SIP_PORT#g" \
    -e "s#@ICE_PORTS@#30000-30999#g" \
    -e "s#@SIP_RTP_PORTS@#$JANUS_SIP_RTP_PORTS#g" \
    -e "s#@RTP_PORTS@#$BARESIP_RTP_PORTS#g" -e "s#@TONE@#440#g" \
    -e "s#@MODULES@#$BARESIP_MODULES#g" -e "s#@CTRL@#$CTRL#g" \
    -e "s#@DUMP@#$DUMP#g" -e "s#@PROXY_PORT@#$PROXY_PORT#g" \
    -e "s#@SIPP_UAS_PORT@#$SIPP_UAS_PORT#g" \
    -e "s#@AUTH_USERS@#$AUTH_USERS#g" -e "s#@AUTH_SECRET@#$AUTH_SECRET#g" \
    -e "s#@REGINT@#$REGINT#g" -e "s#@OUTBOUND@#$OUTBOUND#g" \
    "$@" "$HERE/janus/$tmpl" >"$out"
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

# wait_pid PID SECONDS: succeeds once PID exited (st: its status); fails
# if it still runs after SECONDS
wait_pid() {
  n=0
  while kill -0 "$1" 2>/dev/null; do
    [ $n -ge $(($2 * 10)) ] && return 1
    sleep 0.1
    n=$((n + 1))
  done
  exit_status "$1"
}

# seconds since $1 (a date +%s.%N), one decimal
since() {
  awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
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

# kamailio in the foreground (-DD: its children die with it), logging to
# stderr (-E); its configuration checked first (-c)
start_kamailio() {
  [ -n "$NO_KAMAILIO" ] && return 0
  mkdir -p "$KCONF"
  fill kamailio.cfg.in "$KCONF/kamailio.cfg"
  if ! kamailio -c -f "$KCONF/kamailio.cfg" -L "$KAMAILIO_MODULES" \
      -Y "$KCONF" >"$LOGS/kamailio-check.log" 2>&1; then
    setup_why="kamailio refused its configuration: $(grep -m 2 -i error \
"$LOGS/kamailio-check.log" | tr '\n' ' ' | cut -c1-300)"
    setup_why="$setup_why (log: $LOGS/kamailio-check.log)"
    return 1
  fi
  kamailio -f "$KCONF/kamailio.cfg" -L "$KAMAILIO_MODULES" -Y "$KCONF" \
    -DD -E -m 32 -M 8 >"$LOGS/kamailio.log" 2>&1 &
  kamailio_pid=$!
  if ! wait_for_port u "$IP:$PROXY_PORT" 10 "$kamailio_pid"; then
    if kill -0 "$kamailio_pid" 2>/dev/null; then
      setup_why="kamailio did not bind $IP:$PROXY_PORT/udp within 10 s"
    else
      exit_status "$kamailio_pid"
      setup_why="kamailio exited (status $st) before binding"
      setup_why="$setup_why $IP:$PROXY_PORT/udp"
      kamailio_pid=
    fi
    setup_why="$setup_why (log: $LOGS/kamailio.log)"
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
  # A GLib key file; a group per WTSP token. domain: where dialled
  # numbers go (bob: straight to baresip). Without kamailio alice is a
  # guest (no REGISTER).
  if [ -z "$NO_KAMAILIO" ]; then
    cat >"$ACCOUNTS" <<EOF
[alice]
number=alice
identity=sip:alice@$IP
display-name=Alice
domain=$IP:$SIP_PORT
authuser=alice
secret=$AUTH_SECRET
proxy=sip:$IP:$PROXY_PORT

[eve]
number=eve
identity=sip:eve@$IP
display-name=Eve
domain=$IP:$SIP_PORT
authuser=eve
secret=not-$AUTH_SECRET
proxy=sip:$IP:$PROXY_PORT
EOF
  else
    cat >"$ACCOUNTS" <<EOF
[alice]
number=alice
identity=sip:alice@$IP
display-name=Alice
domain=$IP:$SIP_PORT
EOF
  fi
  echo alice >"$TOKEN_FILE"
  echo eve >"$EVE_TOKEN_FILE"
  verbose=
  [ -n "${WTSP_E2E_VERBOSE:-}" ] && verbose=--verbose
  # shellcheck disable=SC2086 # none or one word
  "$SERVER" --port 0 --host "$IP" --janus "ws://$IP:$WS_PORT" \
    --accounts "$ACCOUNTS" $verbose >"$LOGS/server.out" \
    2>"$LOGS/server.err" &
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

# The "result: ..." line of an output, or what is there
result_of() {
  r=$(grep '^result: ' "$1" 2>/dev/null | tail -n 1)
  [ -n "$r" ] && { echo "${r#result: }"; return; }
  last=$(tail -n 3 "${1%.out}.err" 2>/dev/null)
  [ -n "$last" ] || last=$(tail -n 3 "$1" 2>/dev/null)
  echo "no result line: $(echo "$last" | tr '\n' ' ' | cut -c1-300)"
}

# Why case $1 cannot run here, or nothing
case_needs() {
  case $1 in
    sip-call-hangup-by-us|sip-call-hangup-by-baresip|sip-calls-back-to-back) ;;
    sip-register|sip-register-wrong-secret|sip-incoming-from-baresip)
      echo "$NO_KAMAILIO" ;;
    *) echo "${NO_KAMAILIO:-$NO_SIPP}" ;;
  esac
}

# begin_case NAME: sets name, dir, ok; returns 1 if the test bed is
# broken (the case is counted as failed with why)
begin_case() {
  name=$1
  dir="$LOGS/$name"
  rm -rf "$dir"
  mkdir -p "$dir"
  ok=1
  case_t0=$(date +%s.%N)
  if [ -n "$setup_why" ]; then
    failed=$((failed + 1))
    echo "FAIL $name: $setup_why"
    return 1
  fi
}

# end_case LABEL=FILE...: PASS or FAIL, why, and each file's result line
end_case() {
  if [ $ok = 1 ]; then
    passed=$((passed + 1))
    echo "PASS $name ($(since "$case_t0") s)"
  else
    failed=$((failed + 1))
    echo "FAIL $name ($(since "$case_t0") s; logs: $dir, $LOGS)"
    [ -f "$dir/why" ] && sed 's/^/  /' "$dir/why"
  fi
  for lf in "$@"; do
    printf '  %-11s %s\n' "${lf%%=*}:" "$(result_of "${lf#*=}")"
  done
  return 0
}

# why TEXT: the case fails, TEXT says why
why() {
  echo "$*" >>"$dir/why"
  ok=0
}

# ours ARGS...: janus-call.py in the foreground (bounded by its own
# --timeout; killed if it is still there after 60 s); its output in
# $dir/ours.out and .err
ours() {
  $PYTHON "$CALLER" "$@" >"$dir/ours.out" 2>"$dir/ours.err" &
  caller_pid=$!
  ours_wait 60
}

# ours_wait SECONDS: the end of the janus-call.py started in background
ours_wait() {
  if ! wait_pid "$caller_pid" "$1"; then
    kill "$caller_pid" 2>/dev/null
    exit_status "$caller_pid"
    why "janus-call.py did not exit within $1 s (killed)"
  elif [ "$st" != 0 ]; then
    ok=0
  fi
  caller_pid=
}

# sipp_wait SECONDS: the end of the sipp started in background; its
# scenario must have passed (status 0)
sipp_wait() {
  if ! wait_pid "$sipp_pid" "$1"; then
    kill "$sipp_pid" 2>/dev/null
    exit_status "$sipp_pid"
    why "sipp did not finish its scenario within $1 s (killed)"
  elif [ "$st" != 0 ]; then
    why "sipp's scenario failed (status $st): $(grep -v epoll \
"$dir/sipp.err" 2>/dev/null | head -n 4 | tr '\n' ' ' | cut -c1-300)"
  fi
  sipp_pid=
}

# The recording baresip made of its last call, moved into the case's
# folder: it must hold our 880 Hz
check_baresip_recording() {
  sleep 0.3
  mv "$DUMP"/dump-* "$dir/" 2>/dev/null
  # a re-INVITE (hold, resume) starts a new dump: the longest one
  # shellcheck disable=SC2012 # names without spaces
  rec=$(ls -S "$dir"/dump-*-dec.wav 2>/dev/null | head -n 1)
  if [ -z "$rec" ]; then
    echo "result: FAIL: baresip recorded nothing (no dump-*-dec.wav)" \
      >"$dir/recording.out"
    ok=0
  else
    $PYTHON "$CALLER" wav "$rec" --freq 880 --min-rms -50 --wait 3 \
      >"$dir/recording.out" 2>&1 || ok=0
  fi
}

# baresip's side of a call: one more line matching $1 than $2 (before the
# call), then one more call end than $3 within 10 s of ours
check_baresip_call() {
  if [ "$(grep -c "$1" "$LOGS/baresip.log")" -le "$2" ]; then
    why "baresip saw no call (no \"$1\": see $LOGS/baresip.log," \
      "$LOGS/janus.log, $LOGS/kamailio.log, $LOGS/server.err)"
  elif ! wait_for_count "$LOGS/baresip.log" 'terminated (duration' \
      $(($3 + 1)) 10; then
    why "baresip did not end its call within 10 s of ours"
  fi
}

# alice calls bob (baresip, straight: the account's domain) [ARGS...]
case_call_bob() {
  begin_case "$1" || return 0
  shift
  watch=
  [ -z "$NO_KAMAILIO" ] && watch=--watch-registration
  answers=$(grep -c 'answering call' "$LOGS/baresip.log")
  ends=$(grep -c 'terminated (duration' "$LOGS/baresip.log")
  alice_sessions=$((alice_sessions + 1))
  # shellcheck disable=SC2086 # none or one word
  ours call --server "$url" --token-file "$TOKEN_FILE" --number bob \
    --duration "$DURATION" --freq 440 --timeout 30 $watch "$@"
  check_baresip_call 'answering call' "$answers" "$ends"
  check_baresip_recording
  end_case webrtccall="$dir/ours.out" baresip="$dir/recording.out"
}

# The INVITEs baresip got and the 200s it sent to them, since line $1 of
# its log (its SIP trace, -s), each with its SDP's audio direction:
# "INVITE sendrecv, 200 sendrecv, INVITE sendonly, ..."
baresip_invite_directions() {
  tail -n +"$1" "$LOGS/baresip.log" | tr -d '\r' | awk '
    /^UDP .* -> / { first = 1; kind = ""; sdp = 0; aud = 0; seen_m = 0
                    ad = ""; sd = ""; cseq = ""; next }
    first { first = 0
            if ($1 == "INVITE") kind = "INVITE"
            else if ($1 == "SIP/2.0" && $2 == "200") kind = "200"
            next }
    kind != "" && /^CSeq: / { cseq = $3 }
    kind != "" && /^v=0/ { sdp = 1 }
    kind != "" && sdp && /^m=/ { seen_m = 1; aud = ($1 == "m=audio"); next }
    kind != "" && sdp && /^a=(sendrecv|sendonly|recvonly|inactive)$/ {
      d = substr($0, 3)
      if (aud) ad = d
      else if (!seen_m) sd = d
    }
    /\[;m/ && kind != "" {
      if (sdp && (kind == "INVITE" || cseq == "INVITE"))
        out = out (out ? ", " : "") kind " " (ad ? ad : (sd ? sd : "sendrecv"))
      kind = ""
    }
    END { print out }'
}

# The keys baresip's audio stream took since line $1 of its log (its
# "received event: 'K' (end=0)" lines), as one word
baresip_log_keys() {
  tail -n +"$1" "$LOGS/baresip.log" | tr '\r' '\n' |
    sed -n "s/.*received event: '\(.\)' (end=0).*/\1/p" | tr -d '\n'
}

# alice calls bob (baresip) with baresip's ctrl_tcp open (its events
# recorded) and the RTP between baresip and Janus read off lo, with more
# janus-call.py options ARGS...; $from is the line of baresip's log where
# the call starts
call_bob_watched() {
  watch=
  [ -z "$NO_KAMAILIO" ] && watch=--watch-registration
  answers=$(grep -c 'answering call' "$LOGS/baresip.log")
  ends=$(grep -c 'terminated (duration' "$LOGS/baresip.log")
  from=$(($(wc -l <"$LOGS/baresip.log") + 1))
  alice_sessions=$((alice_sessions + 1))
  # shellcheck disable=SC2086 # none or one word
  ours call --server "$url" --token-file "$TOKEN_FILE" --number bob \
    --freq 440 --timeout 40 --baresip "$CTRL" \
    --rtp-sniff "$BARESIP_RTP_PORTS" "$JANUS_SIP_RTP_PORTS" $watch "$@"
  check_baresip_call 'answering call' "$answers" "$ends"
}

# alice calls bob (baresip) for DTMF [ARGS...] (call_bob_watched); with
# --send-dtmf TONES baresip's log must show TONES
case_dtmf() {
  begin_case "$1" || return 0
  shift
  call_bob_watched "$@"
  tones=
  while [ $# -gt 0 ]; do
    [ "$1" = --send-dtmf ] && tones=$(echo "$2" | tr -d ',' |
      tr '[:lower:]' '[:upper:]')
    shift
  done
  keys=$(baresip_log_keys "$from")
  if [ -n "$tones" ]; then
    echo "result: keys in baresip's log: ${keys:-none} (sent $tones)" \
      >"$dir/baresip-log.out"
    [ "$keys" = "$tones" ] ||
      why "baresip's log shows the keys \"${keys:-none}\", we sent $tones" \
        "(see $LOGS/baresip.log)"
  else
    echo "result: keys in baresip's log: ${keys:-none} (none sent)" \
      >"$dir/baresip-log.out"
  fi
  check_baresip_recording
  end_case webrtccall="$dir/ours.out" baresip="$dir/recording.out" \
    baresip-log="$dir/baresip-log.out"
}

# alice calls bob, holds 2 s after connected, unholds 2 s after holding:
# the re-INVITEs baresip got must say sendonly, then sendrecv, and its
# answers recvonly, then sendrecv
case_we_hold() {
  begin_case "$1" || return 0
  call_bob_watched --hold-after 2 --unhold-after 2
  dirs=$(baresip_invite_directions "$from")
  echo "result: ${dirs:-no INVITE in the log of baresip}" >"$dir/baresip-sip.out"
  want="INVITE sendrecv, 200 sendrecv, INVITE sendonly, 200 recvonly,"
  want="$want INVITE sendrecv, 200 sendrecv"
  [ "$dirs" = "$want" ] ||
    why "baresip's INVITEs and answers (audio direction) are \"$dirs\"," \
      "expected \"$want\" (see $LOGS/baresip.log)"
  check_baresip_recording
  end_case webrtccall="$dir/ours.out" baresip="$dir/recording.out" \
    baresip-sip="$dir/baresip-sip.out"
}

# alice's line registers with kamailio through Janus
case_register() {
  begin_case "$1" || return 0
  fresh=
  [ "$alice_sessions" = 0 ] && fresh=--fresh
  alice_sessions=$((alice_sessions + 1))
  # shellcheck disable=SC2086 # none or one word
  ours register --server "$url" --token-file "$TOKEN_FILE" \
    --expect registered --timeout 15 $fresh
  # kamailio's side: a challenge, then alice's contact (Janus' handle's
  # port) saved; bob's too (baresip registers at start: 5 s for it)
  k=$LOGS/kamailio.log
  grep -q "REGISTER sip:alice@$IP: challenged" "$k" ||
    why "kamailio never challenged alice's REGISTER (see $k)"
  contact=$(grep "REGISTER sip:alice@$IP saved" "$k" | tail -n 1 |
    sed 's/.*contact //; s/, expires.*//')
  [ -n "$contact" ] || why "kamailio saved no contact for alice (see $k)"
  wait_for_line "$k" 5 "REGISTER sip:bob@$IP saved" ||
    why "kamailio saved no contact for bob (baresip) within 5 s (see $k)"
  bob=$(grep "REGISTER sip:bob@$IP saved" "$k" | tail -n 1 |
    sed 's/.*contact //; s/, expires.*//')
  echo "result: saved alice $contact, bob $bob" >"$dir/kamailio.out"
  end_case webrtccall="$dir/ours.out" kamailio="$dir/kamailio.out"
}

# eve's secret is wrong: kamailio says 403
case_register_wrong_secret() {
  begin_case "$1" || return 0
  ours register --server "$url" --token-file "$EVE_TOKEN_FILE" \
    --expect registration_failed --dial bob --timeout 20
  k=$LOGS/kamailio.log
  line=$(grep "REGISTER sip:eve@$IP: wrong credentials" "$k" | tail -n 1)
  [ -n "$line" ] ||
    why "kamailio saw no REGISTER with eve's wrong credentials (see $k)"
  if grep -q "REGISTER sip:eve@$IP saved" "$k"; then
    why "kamailio saved a contact for eve: her wrong secret was taken"
  fi
  echo "result: ${line#*wtsp-test: }" >"$dir/kamailio.out"
  end_case webrtccall="$dir/ours.out" kamailio="$dir/kamailio.out"
}

# bob (baresip) calls sip:alice@IP through kamailio; we answer
case_incoming_from_baresip() {
  begin_case "$1" || return 0
  starts=$(grep -c 'call: connecting' "$LOGS/baresip.log")
  ends=$(grep -c 'terminated (duration' "$LOGS/baresip.log")
  alice_sessions=$((alice_sessions + 1))
  ours answer --server "$url" --token-file "$TOKEN_FILE" \
    --dial-from "$CTRL" "sip:alice@$IP" --far-end-hangup "$CTRL" \
    --expect-caller bob --duration "$DURATION" --freq 440 --timeout 30 \
    --channels "$ANSWER_CHANNELS"
  check_baresip_call 'call: connecting' "$starts" "$ends"
  grep -q "INVITE from sip:bob@$IP to sip:alice@$IP -> sip:alice@$IP:" \
    "$LOGS/kamailio.log" ||
    why "kamailio did not route bob's INVITE to alice's contact"
  check_baresip_recording
  end_case webrtccall="$dir/ours.out" baresip="$dir/recording.out"
}

# sipp calls alice through kamailio: $1 the case, $2 its scenario, $3 the
# caller's name (carol: an INVITE without SDP; dave: G.711 only)
case_incoming_sipp() {
  begin_case "$1" || return 0
  scenario=$2
  caller=$3
  shift 3
  alice_sessions=$((alice_sessions + 1))
  $PYTHON "$CALLER" answer --server "$url" --token-file "$TOKEN_FILE" \
    --far-end-ends --expect-caller "$caller" --duration "$DURATION" \
    --freq 880 --timeout 40 "$@" >"$dir/ours.out" 2>"$dir/ours.err" &
  caller_pid=$!
  # registered, then the bin ready: "ready"
  if ! wait_for_line "$dir/ours.out" 25 '^ready'; then
    why "our pipeline was not registered and ready within 25 s"
  else
    (cd "$dir" && exec sipp -sf "$HERE/janus/$scenario" \
      -s alice -i "$IP" -p "$SIPP_UAC_PORT" -mi "$IP" \
      -mp "$SIPP_MEDIA_PORT" -rtp_echo -d $((DURATION * 1000)) -m 1 \
      -timeout 40 -timeout_error -nostdin -trace_msg \
      -message_file sipp.msg -trace_err -error_file sipp.err \
      "$IP:$PROXY_PORT" >sipp.screen 2>&1) &
    sipp_pid=$!
    sipp_wait 45
  fi
  # no call is coming if sipp failed: do not wait for ours to time out
  [ $ok = 0 ] && kill "$caller_pid" 2>/dev/null
  ours_wait 30
  # what sipp saw: the m-lines of the INVITE, its 200 OK and the ACK (the
  # offer and the answer, wherever they were)
  # (and a re-INVITE's, with the 200 OK that answered it)
  sdp=$(tr -d '\r' <"$dir/sipp.msg" 2>/dev/null | awk '
    /^INVITE / && inv && ack { cur = "re-INVITE"; re = 1; next }
    /^INVITE / && !inv { cur = "INVITE"; inv = 1; next }
    /^SIP\/2.0 200 OK/ && re && !reok { cur = "its 200 OK"; reok = 1; next }
    /^SIP\/2.0 200 OK/ && !ok && inv { cur = "200 OK"; ok = 1; next }
    /^ACK / && !ack && ok { cur = "ACK"; ack = 1; next }
    /^(SIP\/2.0 |[A-Z]+ [^ ]+ SIP\/2.0$)/ { cur = ""; next }
    /^m=/ && cur { m[cur] = m[cur] (m[cur] ? ", " : "") $0 }
    END {
      n = split("INVITE,200 OK,ACK,re-INVITE,its 200 OK", k, ",")
      for (i = 1; i <= n; i++)
        if (m[k[i]]) out = out (out ? "; " : "") k[i] ": " m[k[i]]
      print out
    }')
  echo "result: ${sdp:-no SDP seen in $dir/sipp.msg}" >"$dir/sipp.out"
  end_case webrtccall="$dir/ours.out" sipp="$dir/sipp.out"
}

# start_sipp_uas SCENARIO [SIPP_ARGS...]: the sipp UAS for one call in
# the background ($sipp_pid; its messages in $dir/sipp.msg, or
# $SIPP_UAS_PREFIX.msg); false (and the case fails) if it does not bind
# its port within 5 s
start_sipp_uas() {
  scenario=$1
  shift
  p=${SIPP_UAS_PREFIX:-sipp}
  (cd "$dir" && exec sipp -sf "$scenario" -i "$IP" -p "$SIPP_UAS_PORT" \
    "$@" -m 1 -timeout 40 -timeout_error -nostdin -trace_msg \
    -message_file "$p.msg" -trace_err -error_file "$p.err" \
    >"$p.screen" 2>&1) &
  sipp_pid=$!
  wait_for_port u "$IP:$SIPP_UAS_PORT" 5 "$sipp_pid" && return 0
  why "sipp (UAS) did not bind $IP:$SIPP_UAS_PORT within 5 s"
  return 1
}

# What sipp received and sent, in order: "INVITE, 100 Trying, ..."
sipp_sequence() {
  grep -E '^(INVITE|ACK|CANCEL|BYE|SIP/2.0) ' "$dir/sipp.msg" 2>/dev/null |
    sed 's/ sip:[^ ]*//; s/ SIP\/2.0$//; s/^SIP\/2.0 //' | tr -d '\r' |
    tr '\n' ',' | sed 's/,$//; s/,/, /g'
}

# baresip_ctrl COMMAND [PARAMS]: one ctrl_tcp command (netstring JSON)
baresip_ctrl() {
  $PYTHON - "$CTRL" "$@" <<'PY'
import json, socket, sys
host, port = sys.argv[1].rsplit(":", 1)
cmd = json.dumps({"command": sys.argv[2], "params": " ".join(sys.argv[3:]),
                  "token": "janus-call.sh"})
with socket.create_connection((host, int(port)), timeout=5) as s:
    s.sendall(f"{len(cmd)}:{cmd},".encode())
    print(s.recv(4096).decode(errors="replace")[:200])
PY
}

# alice calls bob (baresip) and, 1 s after connected, transfers him to
# the sipp UAS (sip:sipp@IP:PROXY_PORT, through kamailio). $2: how sipp
# answers baresip's INVITE: 200 (janus/sipp-uas-answer.xml: the transfer
# succeeds, the bin hangs up itself; baresip's call to sipp is then hung
# up through ctrl_tcp) or a final failure code ($3 its reason: the
# transfer fails, the call goes on). sipp must get the INVITE from bob
case_we_transfer() {
  begin_case "$1" || return 0
  if [ "$2" = 200 ]; then
    status=200
    start_sipp_uas "$HERE/janus/sipp-uas-answer.xml" -mi "$IP" \
      -mp "$SIPP_MEDIA_PORT" -rtp_echo || { end_case; return 0; }
  else
    status=$2
    fill sipp-uas-final.xml.in "$dir/sipp-uas.xml" "CODE=$2" "REASON=$3"
    start_sipp_uas "$dir/sipp-uas.xml" || { end_case; return 0; }
  fi
  call_bob_watched --transfer-to "sip:sipp@$IP:$PROXY_PORT" \
    --expect-transfer-status "$status"
  if [ "$status" = 200 ]; then
    sleep 1
    echo "baresip hangup (its call to sipp): $(baresip_ctrl hangup)" \
      >>"$dir/ours.out"
  fi
  sipp_wait 10
  seq=$(sipp_sequence)
  from=$(grep -i -m 1 '^From:' "$dir/sipp.msg" 2>/dev/null | tr -d '\r')
  echo "result: ${seq:-nothing}; ${from:-no INVITE}" >"$dir/sipp.out"
  case $from in
    *sip:bob@*) ;;
    *) why "sipp got no INVITE from bob (the transferee; see $dir/sipp.msg)" ;;
  esac
  end_case webrtccall="$dir/ours.out" sipp="$dir/sipp.out"
}

# alice calls the sipp UAS (the transferee), then, from a second bin of
# her session, bob (baresip: the consultation call), and transfers sipp to
# bob replacing that call (attended): sipp's REFER must carry Replaces
# with the consultation call's id; sipp says the transfer worked (NOTIFY
# 200), the bin hangs up itself, then the consultation call is hung up
case_we_transfer_attended() {
  begin_case "$1" || return 0
  start_sipp_uas "$HERE/janus/sipp-uas-transferee.xml" -mi "$IP" \
    -mp "$SIPP_MEDIA_PORT" -rtp_echo -trace_logs -log_file sipp.log ||
    { end_case; return 0; }
  answers=$(grep -c 'answering call' "$LOGS/baresip.log")
  ends=$(grep -c 'terminated (duration' "$LOGS/baresip.log")
  alice_sessions=$((alice_sessions + 1))
  ours call --server "$url" --token-file "$TOKEN_FILE" \
    --number "sip:sipp@$IP:$PROXY_PORT" --freq 880 --timeout 40 \
    --consult bob --transfer-to "sip:bob@$IP:$SIP_PORT"
  check_baresip_call 'answering call' "$answers" "$ends"
  sipp_wait 10
  refer=$(grep -h -o 'REFER: .*' "$dir/sipp.log" 2>/dev/null | tail -n 1)
  consult=$(sed -n 's/^consultation call-id //p' "$dir/ours.out")
  echo "result: $(sipp_sequence); ${refer:-no REFER logged}" \
    >"$dir/sipp.out"
  case $refer in
    *"replaces call $consult"*) [ -n "$consult" ] ||
      why "our consultation call has no call-id in $dir/ours.out" ;;
    *) why "sipp's REFER does not replace our consultation call" \
      "${consult:-?} (see $dir/sipp.log)" ;;
  esac
  end_case webrtccall="$dir/ours.out" sipp="$dir/sipp.out"
}

# alice calls bob three times in a row, each call dialled as the last one
# ended: each must connect (none taken by Janus for a renegotiation of
# the last call's PeerConnection) and end 200, and baresip answer each
case_calls_back_to_back() {
  begin_case "$1" || return 0
  answers=$(grep -c 'answering call' "$LOGS/baresip.log")
  alice_sessions=$((alice_sessions + 1))
  $PYTHON "$HERE/../bench/bench-calls.py" --server "$url" \
    --token-file "$TOKEN_FILE" --number bob --calls 3 --talk 1 --gap 0 \
    --timeout 40 >"$dir/ours.out" 2>"$dir/ours.err" &
  caller_pid=$!
  ours_wait 60
  [ $ok = 1 ] || why "not every call connected and ended 200" \
    "(see $dir/ours.out)"
  got=$(($(grep -c 'answering call' "$LOGS/baresip.log") - answers))
  [ "$got" -ge 3 ] || why "baresip answered $got calls, not 3"
  held=$(grep -c 'waits for Janus to close' "$LOGS/server.err")
  echo "result: $(grep -m 1 '^bench: ' "$dir/ours.out" | cut -c1-120);" \
    "$got answered by baresip; the server held a call $held times so far" \
    >"$dir/calls.out"
  end_case webrtccall="$dir/calls.out"
}

# sipp ("erin", the UAC) calls alice and transfers her blind to the sipp
# UAS (sip:sipp@IP:PROXY_PORT, through kamailio); the bin takes the
# transfer (accept-transfers=true): the call ends "transferred", the bin
# calls the target with refer_id, Janus tells erin with NOTIFYs; erin
# hangs up, we hang up the new call 2 s after connected
case_sipp_transfers_we_call() {
  begin_case "$1" || return 0
  # the target answers the bin's offer (video rejected, PCMU; 183 first)
  SIPP_UAS_PREFIX=target start_sipp_uas "$HERE/janus/sipp-uas-early.xml" \
    -mi "$IP" -mp $((SIPP_MEDIA_PORT + 10)) -rtp_echo ||
    { end_case; return 0; }
  target_pid=$sipp_pid
  alice_sessions=$((alice_sessions + 1))
  $PYTHON "$CALLER" answer --server "$url" --token-file "$TOKEN_FILE" \
    --far-end-ends --expect-caller erin --duration 4 --freq 880 \
    --timeout 40 --accept-transfers --expect-refer "sip:sipp@$IP" \
    --min-buffers 20 \
    >"$dir/ours.out" 2>"$dir/ours.err" &
  caller_pid=$!
  if ! wait_for_line "$dir/ours.out" 25 '^ready'; then
    why "our pipeline was not registered and ready within 25 s"
  else
    (cd "$dir" && exec sipp -sf "$HERE/janus/sipp-uac-refer-notify.xml" \
      -s alice -i "$IP" -p "$SIPP_UAC_PORT" -mi "$IP" \
      -mp "$SIPP_MEDIA_PORT" -rtp_echo -d 1000 -m 1 \
      -timeout 40 -timeout_error -nostdin -trace_msg \
      -message_file sipp.msg -trace_err -error_file sipp.err \
      -log_file sipp.log -trace_logs \
      "$IP:$PROXY_PORT" >sipp.screen 2>&1) &
    sipp_pid=$!
    sipp_wait 45
  fi
  [ $ok = 0 ] && kill "$caller_pid" 2>/dev/null
  ours_wait 30
  sipp_pid=$target_pid
  sipp_wait 10
  frags=$(grep -h -o 'NOTIFY sipfrags: .*' "$dir/sipp.log" 2>/dev/null |
    tail -n 1)
  echo "result: erin: $(sipp_sequence); ${frags:-no NOTIFY logged}" \
    >"$dir/sipp.out"
  seq=$(grep -E '^(INVITE|ACK|CANCEL|BYE|SIP/2.0) ' "$dir/target.msg" \
    2>/dev/null | sed 's/ sip:[^ ]*//; s/ SIP\/2.0$//; s/^SIP\/2.0 //' |
    tr -d '\r' | tr '\n' ',' | sed 's/,$//; s/,/, /g')
  # the attended transfer's Replaces, in the INVITE Janus sent the target
  replaces=$(grep -i -m 1 '^Replaces:' "$dir/target.msg" 2>/dev/null |
    tr -d '\r')
  echo "result: ${seq:-nothing}; ${replaces:-no Replaces}" >"$dir/target.out"
  case $replaces in
    *erin-sipp-1@*) ;;
    *) why "the target's INVITE has no Replaces naming erin's call (see" \
      "$dir/target.msg)" ;;
  esac
  end_case webrtccall="$dir/ours.out" erin="$dir/sipp.out" \
    target="$dir/target.out"
}

# alice calls the sipp UAS through kamailio (sip:sipp@IP:PROXY_PORT).
# $1 the case, $2 sipp's final response (487: it rings until our
# CANCEL), $3 its reason phrase, $4 the ended code we must get
case_callee() {
  begin_case "$1" || return 0
  if [ "$2" = 487 ]; then
    scenario=$HERE/janus/sipp-uas-rings.xml
    hangup="--hangup-after-ringing 1"
  elif [ "$2" = 0 ]; then
    # the callee never answers our CANCEL with 487
    scenario=$HERE/janus/sipp-uas-no-487.xml
    hangup="--hangup-after-ringing 1 --expect-warning did-not-confirm"
  elif [ "$2" = 183 ]; then
    # early media, then 200: a call that connects; sipp echoes our RTP
    scenario=$HERE/janus/sipp-uas-early.xml
    hangup="--expect-early-media --freq 880 --duration 3"
  else
    scenario=$dir/sipp-uas.xml
    fill sipp-uas-final.xml.in "$scenario" "CODE=$2" "REASON=$3"
    hangup=
  fi
  echo=
  [ "$2" = 183 ] && echo="-mi $IP -mp $SIPP_MEDIA_PORT -rtp_echo"
  # shellcheck disable=SC2086 # none or several words
  if start_sipp_uas "$scenario" $echo; then
    alice_sessions=$((alice_sessions + 1))
    # shellcheck disable=SC2086 # none or two words
    connect=--no-connect
    [ "$2" = 183 ] && connect=
    ours call --server "$url" --token-file "$TOKEN_FILE" \
      --number "sip:sipp@$IP:$PROXY_PORT" $connect \
      --expect-code "$4" --watch-registration --timeout 30 $hangup
  fi
  sipp_wait 10
  seq=$(sipp_sequence)
  echo "result: ${seq:-nothing}" >"$dir/sipp.out"
  end_case webrtccall="$dir/ours.out" sipp="$dir/sipp.out"
}

echo "janus $(dpkg-query -W -f='${Version}' janus 2>/dev/null)," \
  "baresip $(dpkg-query -W -f='${Version}' baresip-core 2>/dev/null)," \
  "kamailio $(dpkg-query -W -f='${Version}' kamailio 2>/dev/null)," \
  "sipp $(dpkg-query -W -f='${Version}' sip-tester 2>/dev/null)"
t_setup=$(date +%s.%N)
start_janus && start_kamailio && start_baresip && start_janus_server
[ -z "$setup_why" ] && echo "test bed up in $(since "$t_setup") s"
alice_sessions=0

for c in $cases; do
  need=$(case_needs "$c")
  if [ -n "$need" ]; then
    echo "SKIP $c: $need"
    skipped=$((skipped + 1))
    continue
  fi
  case $c in
    sip-register)               case_register "$c" ;;
    sip-register-wrong-secret)  case_register_wrong_secret "$c" ;;
    sip-call-hangup-by-us)      case_call_bob "$c" ;;
    sip-call-hangup-by-baresip) case_call_bob "$c" --far-end-hangup "$CTRL" ;;
    sip-incoming-from-baresip)  case_incoming_from_baresip "$c" ;;
    sip-incoming-without-sdp)   case_incoming_sipp "$c" sipp-uac-nosdp.xml carol ;;
    sip-incoming-g711)          case_incoming_sipp "$c" sipp-uac-g711.xml dave ;;
    sip-sipp-transfers-we-call) case_sipp_transfers_we_call "$c" ;;
    sip-incoming-adds-video)    case_incoming_sipp "$c" sipp-uac-add-video.xml \
                                  erin ;;
    # Janus 1.1 keeps the REFER's Replaces for the INVITE with refer_id
    sip-sipp-transfers-attended) case_incoming_sipp "$c" sipp-uac-refer.xml \
                                  erin --expect-refer "sip:frank@$IP" ;;
    # the callee table: case, sipp's final response, our ended code
    sip-callee-busy)            case_callee "$c" 486 "Busy Here" 486 ;;
    sip-callee-not-found)       case_callee "$c" 404 "Not Found" 404 ;;
    sip-callee-declines)        case_callee "$c" 603 "Decline" 603 ;;
    # no answer: what a registrar or phone says after ringing out
    sip-callee-unavailable)     case_callee "$c" 480 "Temporarily Unavailable" 480 ;;
    sip-callee-timeout)         case_callee "$c" 408 "Request Timeout" 408 ;;
    # 183 with SDP, 2 s of early media, then 200; G.711 only; our hangup
    sip-callee-early-media)     case_callee "$c" 183 "" 200 ;;
    # we cancel, no 487 ever comes: ended here after 5 s, 487
    sip-callee-ignores-cancel)  case_callee "$c" 0 "" 487 ;;
    sip-callee-rings-we-cancel) case_callee "$c" 487 "" 487 ;;
    sip-baresip-holds)          case_call_bob "$c" --far-end-hold "$CTRL" \
                                  --duration 8 ;;
    sip-wtsp-reconnect)         case_call_bob "$c" --drop-signaling-after 1 \
                                  --duration 6 ;;
    sip-baresip-transfers)      case_call_bob "$c" --far-end-transfer "$CTRL" \
                                  "sip:carol@$IP" ;;
    sip-we-transfer)            case_we_transfer "$c" 200 ;;
    sip-we-transfer-busy)       case_we_transfer "$c" 486 "Busy Here" ;;
    sip-we-transfer-attended)   case_we_transfer_attended "$c" ;;
    sip-calls-back-to-back)     case_calls_back_to_back "$c" ;;
    sip-dtmf-from-baresip)      case_dtmf "$c" --far-end-dtmf 1234 ;;
    sip-dtmf-to-baresip)        case_dtmf "$c" --send-dtmf 5678# ;;
    sip-dtmf-g711)              case_dtmf "$c" --audio-codecs PCMU \
                                  --far-end-dtmf 90 --send-dtmf '*0#' ;;
    sip-we-hold)                case_we_hold "$c" ;;
    *) echo "FAIL $c: unknown case"; failed=$((failed + 1)) ;;
  esac
done

echo "$passed passed, $failed failed, $skipped skipped"
cleanup
if [ $failed = 0 ] && [ $KEEP_LOGS = 0 ]; then
  rm -rf "$LOGS"
else
  echo "logs: $LOGS"
fi
[ $failed = 0 ] || exit 1
[ $passed = 0 ] && [ $skipped -gt 0 ] && exit 77
exit 0
