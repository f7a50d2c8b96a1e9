#!/usr/bin/env bash
# Runs webrtccall's teardown races many times, one process per round, and
# counts hangs and crashes:
#
#   ./scripts/stress.sh [ROUNDS [CASE...]]     ROUNDS defaults to 200
#
# Each round is the webrtccall test binary, run exactly as `meson test`
# runs it (its command line and environment are read from
# `meson introspect --tests build`: inside tests/e2e/netns.sh, with the
# test's GST_PLUGIN_PATH_1_0, GST_REGISTRY_1_0, WTSP_SIGNALING_SERVER...),
# plus GST_CHECKS=CASE, WTSP_TEST_ROUNDS=1 and WTSP_TEST_RACES=1.
#
# A round that outlives WTSP_STRESS_TIMEOUT seconds (default 60) is a hang:
# all-thread backtraces of the test processes (and of their servers) go to
# build/stress/CASE-ROUND.bt, then the round is killed. A round killed by a
# signal, or whose forked test reports "Received signal", is a crash (its
# core's backtraces go to CASE-ROUND.bt, the core to CASE-ROUND.core); any
# other non-zero exit is a failure. The output of every round that did not
# pass is kept in build/stress/CASE-ROUND.log.
#
# Prints "CASE: N passed, N failed (hangs H, crashes C)" per case and ends
# with "N passed, N failed"; exits non-zero if any round failed. A case the
# binary does not have (GST_CHECKS then runs 0 checks) is reported as not
# found and not counted. Without root (network namespaces) nothing runs:
# it prints "0 passed, 0 failed, N skipped" and exits 0.
set -uo pipefail
cd "$(dirname "$0")/.."

# The races: GstCheck case names in tests/check/test-webrtccall.c
RACES=(
  test_stop_while_far_end_hangs_up
  test_stop_hangs_up
  test_hangup_while_connecting
  test_eos_hangs_up
  test_failed_first_connection
  test_state_cycles
  test_end_during_dtmf
)

rounds=${1:-200}
shift $(($# > 0 ? 1 : 0))
[ $# -gt 0 ] && RACES=("$@")
if ! [[ $rounds =~ ^[0-9]+$ ]] || [ "$rounds" -eq 0 ]; then
  echo "usage: $0 [ROUNDS [CASE...]]" >&2
  exit 2
fi
round_timeout=${WTSP_STRESS_TIMEOUT:-60}

if [ "$(id -u)" -ne 0 ]; then
  echo "stress: the races run in network namespaces (tests/e2e/netns.sh), which need root: skipped"
  echo "0 passed, 0 failed, $((rounds * ${#RACES[@]})) skipped"
  exit 0
fi

# gdb takes the backtraces of hung rounds
WTSP_SETUP_EXTRA="${WTSP_SETUP_EXTRA:-} gdb" ./scripts/setup.sh ||
  { echo "0 passed, 1 failed"; exit 1; }

out=build/stress
rm -rf "$out"
mkdir -p "$out"

# The webrtccall test as meson runs it: working directory, environment,
# command line (see tests/check/meson.build)
meson introspect --tests build > "$out/tests.json" || exit 1
python3 - "$out/tests.json" > "$out/test.sh" <<'PY' || { echo "stress: no webrtccall test in meson's test list" >&2; exit 1; }
import json, shlex, sys
tests = json.load(open(sys.argv[1]))
found = [t for t in tests
         if any(a.endswith("test-webrtccall") for a in t["cmd"])]
found.sort(key=lambda t: t["name"] != "webrtccall")
if not found:
    sys.exit(1)
t = found[0]
q = shlex.quote
print("test_dir=%s" % q(t["workdir"] or "build"))
print("test_env=(%s)" % " ".join(q("%s=%s" % kv) for kv in t["env"].items()))
print("test_cmd=(%s)" % " ".join(q(a) for a in t["cmd"]))
PY
. "$out/test.sh"
for a in "${test_cmd[@]}"; do
  case $a in *test-webrtccall) test_exe=$a ;; esac
done
case $test_exe in /*) ;; *) test_exe=$test_dir/$test_exe ;; esac

# The check timer (tcase_set_timeout, 60 s) must not fire before ours:
# when it does, the forked test is killed before we can see its threads
ck_multiplier=$((round_timeout / 30 + 2))

descendants () {
  local c
  for c in $(pgrep -P "$1"); do
    echo "$c"
    descendants "$c"
  done
}

# Stops (SIGSTOP) every process under $1 until no new one appears, so
# that the forked test case cannot finish, or a next one start, while we
# look; prints their ids
freeze () {
  local all=" " new p i
  for ((i = 0; i < 20; i++)); do
    new=""
    for p in $(descendants "$1"); do
      case $all in *" $p "*) continue ;; esac
      kill -STOP "$p" 2>/dev/null
      new+="$p "
    done
    [ -z "$new" ] && break
    all+=$new
  done
  echo $all
}

# All-thread backtraces of the test processes among the (stopped) ids
# given, the forked test case first, then of the servers
backtraces () {
  local p exe
  for p in $(printf '%s\n' "$@" | sort -rn); do
    exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
    case "${exe##*/}" in test-webrtccall) echo "$p" ;; esac
  done > "$out/.pids"
  for p in $(printf '%s\n' "$@" | sort -rn); do
    exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
    case "${exe##*/}" in signaling-server|wtsp-call) echo "$p" ;; esac
  done >> "$out/.pids"
  for p in $(cat "$out/.pids"); do
    exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
    echo "=== pid $p (parent $(ps -o ppid= -p "$p" | tr -d ' ')): $exe"
    timeout -s KILL 120 gdb -nx -batch -iex 'set debuginfod enabled off' \
      -ex 'set pagination off' -ex 'info threads' \
      -ex 'thread apply all bt' -p "$p" 2>&1 | grep -v '^\[New LWP'
    echo
  done
  rm -f "$out/.pids"
}

# A crashed round leaves a core file (core_pattern "core", in the test's
# working directory; the round sets ulimit -c): its all-thread backtrace
# goes to $1
crash_backtrace () {
  local core
  for core in "$test_dir"/core "$test_dir"/core.[0-9]*; do
    [ -f "$core" ] || continue
    timeout -s KILL 120 gdb -nx -batch -iex 'set debuginfod enabled off' \
      -ex 'set pagination off' -ex 'info threads' \
      -ex 'thread apply all bt' "$test_exe" "$core" \
      > "$1" 2>&1 || gdb -nx -batch -ex 'thread apply all bt' \
      -c "$core" >> "$1" 2>&1
    mv "$core" "${1%.bt}.core"
  done
}

# One round: prints pass, fail, hang, crash or notfound
run_round () {
  local name=$1 log=$2 bt=$3 pid start rc hung=0 pids
  rm -f "$test_dir"/core "$test_dir"/core.[0-9]*
  (
    cd "$test_dir" &&
    ulimit -c unlimited &&
    exec env "${test_env[@]}" \
      MALLOC_PERTURB_="${MALLOC_PERTURB_:-$((RANDOM % 255 + 1))}" \
      CK_TIMEOUT_MULTIPLIER="$ck_multiplier" \
      GST_CHECKS="$name" WTSP_TEST_ROUNDS=1 WTSP_TEST_RACES=1 \
      timeout -s KILL $((round_timeout + 300)) "${test_cmd[@]}"
  ) > "$log" 2>&1 < /dev/null &
  pid=$!
  start=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    if [ $((SECONDS - start)) -ge "$round_timeout" ]; then
      hung=1
      # check forks each case into a process group of its own: every
      # process under timeout(1) is stopped, looked at, then killed
      pids=$(freeze "$pid")
      backtraces $pids > "$bt" 2>&1
      kill -KILL $pids $(descendants "$pid") 2>/dev/null
      break
    fi
    sleep 0.2
  done
  wait "$pid"
  rc=$?
  echo "exit status $rc$([ $hung = 1 ] && echo ", killed after ${round_timeout} s")" >> "$log"
  if [ $hung = 1 ] || grep -q "Test timeout expired" "$log"; then
    echo hang
  elif [ $rc -ge 128 ] || grep -q "Received signal" "$log"; then
    crash_backtrace "$bt"
    echo crash
  elif grep -q "Checks: 0," "$log"; then
    echo notfound
  elif [ $rc -eq 0 ]; then
    echo pass
  else
    echo fail
  fi
}

total_passed=0
total_failed=0
for name in "${RACES[@]}"; do
  passed=0 failed=0 hangs=0 crashes=0 notfound=0
  printf '%s ' "$name"
  for ((r = 1; r <= rounds; r++)); do
    log=$out/$name-$r.log
    bt=$out/$name-$r.bt
    result=$(run_round "$name" "$log" "$bt")
    case $result in
      pass) passed=$((passed + 1)); printf .; rm -f "$log" ;;
      notfound)
        if [ "$r" -eq 1 ]; then notfound=1; rm -f "$log"; break; fi
        failed=$((failed + 1)); printf F ;;
      hang) failed=$((failed + 1)); hangs=$((hangs + 1)); printf H ;;
      crash) failed=$((failed + 1)); crashes=$((crashes + 1)); printf C ;;
      *) failed=$((failed + 1)); printf F ;;
    esac
  done
  echo
  if [ $notfound = 1 ]; then
    echo "$name: not found (test-webrtccall has no such case: GST_CHECKS=$name runs 0 checks), skipped"
    continue
  fi
  echo "$name: $passed passed, $failed failed (hangs $hangs, crashes $crashes)"
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
done

rm -f "$out/tests.json" "$out/test.sh"
[ $total_failed -gt 0 ] && echo "stress: logs of the rounds that did not pass (and backtraces of hangs) in $out/"
echo "$total_passed passed, $total_failed failed"
[ $total_failed -eq 0 ]
