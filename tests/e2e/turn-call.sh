#!/bin/sh
# Calls that can only go through a TURN relay (ice-transport-policy=relay
# on both ends), in a network namespace of its own:
#  - with coturn on 10.99.0.1: the call connects and media flows both ways;
#  - with the TURN address pointing where no server listens: the call must
#    never connect (proof that relay-only is enforced, so the first case
#    really went through coturn).
# Ends with "N passed, N failed". Needs root (netns) and coturn.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "turn-call.sh: needs root"; exit 77; }
command -v turnserver >/dev/null || { echo "turn-call.sh: coturn is not installed"; exit 1; }
build=${MESON_BUILD_ROOT:-$here/build}
server=${SIGNALING_SERVER:-$build/tests/server/signaling-server}
call=${WTSP_CALL:-$build/tests/e2e/wtsp-call}
export GST_PLUGIN_PATH="$build/gst"

exec "$here/tests/e2e/netns.sh" sh -c '
  server=$1 call=$2
  tmp=$(mktemp -d)
  # by pid: dash'"'"'s "jobs -p" in an EXIT trap listed nothing, and every
  # run left a turnserver behind
  turn= srv=
  trap "kill \$turn \$srv 2>/dev/null; wait; rm -rf $tmp" EXIT
  turnserver --listening-ip=10.99.0.1 --relay-ip=10.99.0.1 --listening-port=3478 \
    --lt-cred-mech --user=wtsp:s3cret --realm=wtsp.test --fingerprint \
    --no-tls --no-dtls --no-cli --min-port=49160 --max-port=49200 \
    > $tmp/turn.log 2>&1 &
  turn=$!
  "$server" --port 0 --host 10.99.0.1 > $tmp/server.out 2> $tmp/server.err &
  srv=$!
  for _ in $(seq 50); do grep -q "^listening" $tmp/server.out && break; sleep 0.1; done
  url=$(sed -n "s/^listening //p" $tmp/server.out)
  passed=0 failed=0

  # $1: case name, $2: TURN URL, $3: expect "connect" or "fail"
  relay_call () {
    "$call" --server $url --token bob --answer --turn-server $2 --relay \
      --expect-frames 30 --expect-audio 50 --timeout 12 > $tmp/bob.out 2> $tmp/bob.err &
    bob=$!
    sleep 1
    "$call" --server $url --token alice --call bob --turn-server $2 --relay \
      --duration 4 --expect-frames 30 --expect-audio 50 --timeout 10 \
      > $tmp/alice.out 2> $tmp/alice.err
    a=$?
    wait $bob; b=$?
    if { [ $3 = connect ] && [ $a -eq 0 ] && [ $b -eq 0 ]; } ||
       { [ $3 = fail ] && [ $a -ne 0 ] && ! grep -q "^state connected" $tmp/alice.out; }; then
      echo "PASS $1"; passed=$((passed + 1))
    else
      echo "FAIL $1"; failed=$((failed + 1))
      tail -n 3 $tmp/alice.err $tmp/bob.err
    fi
    echo "  alice: $(tail -n 1 $tmp/alice.out | cut -c1-200)"
    echo "  bob:   $(tail -n 1 $tmp/bob.out | cut -c1-200)"
  }

  relay_call relay-through-coturn turn://wtsp:s3cret@10.99.0.1:3478 connect
  relay_call relay-without-turn-server turn://wtsp:s3cret@10.99.0.1:3479 fail
  echo "$passed passed, $failed failed"
  [ $failed -eq 0 ]' sh "$server" "$call"
