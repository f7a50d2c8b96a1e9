#!/bin/sh
# The recording server (pipelines/record-calls.py) taking calls as they
# come, in a network namespace of its own: tests/bench/record-load.py
# places M calls at once to it (pre-encoded Opus and VP8 from a file), the
# recorder starts with one webrtccall bin and adds one per call that
# finds every bin busy (webrtccall-unclaimed, take-call). Each file must
# play: every stream decodes, for about the length of the call.
#   record-three-at-once   3 audio+video calls, 4 s
#   record-ten-audio       10 audio calls, 4 s
# Ends with "N passed, N failed". Needs root (netns).
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "record-calls.sh: needs root"; exit 77; }
build=${MESON_BUILD_ROOT:-$here/build}
server=${SIGNALING_SERVER:-$build/tests/server/signaling-server}
export GST_PLUGIN_PATH="$build/gst"

exec "$here/tests/e2e/netns.sh" sh -c '
  here=$1 server=$2
  . "$here/tests/e2e/e2e-lib.sh"
  SERVER=$server
  top=$(mktemp -d)
  seconds=4

  # $1: case, $2: calls, $3: --video or ""
  record_case () {
    dir=$top/$1
    mkdir -p "$dir"
    why=
    start_server --lines $(($2 + 1)) || why="the server did not start"
    WTSP_TOKEN=bob /usr/bin/python3 "$here/pipelines/record-calls.py" --server "$url" --dir "$dir/rec" \
      --calls $2 > "$dir/rec.out" 2> "$dir/rec.err" &
    rec=$!
    sleep 1
    /usr/bin/python3 "$here/tests/bench/record-load.py" --server "$url" --token alice \
      --number bob --calls $2 --seconds $seconds $3 --timeout 40 \
      > "$dir/load.out" 2> "$dir/load.err" ||
      why="not every call connected: $(tail -n 1 "$dir/load.out")"
    # the recorder stops by itself once it finished M files
    n=0
    while kill -0 $rec 2>/dev/null && [ $n -lt 150 ]; do
      sleep 0.1; n=$((n + 1))
    done
    kill $rec 2>/dev/null
    wait $rec 2>/dev/null
    stop_server
    bins=$(grep -c "a bin of its own" "$dir/rec.out")
    files=$(grep -c "^finished" "$dir/rec.out")
    [ -z "$why" ] && [ "$files" != $2 ] &&
      why="the recorder finished $files files of $2"
    [ -z "$why" ] && [ "$bins" != $(($2 - 1)) ] &&
      why="the recorder added $bins bins, expected $(($2 - 1)) (one per call beyond the first)"
    plays=$(/usr/bin/python3 "$here/tests/e2e/record-check.py" --seconds $seconds \
      $3 "$dir"/rec/*.mkv 2>&1)
    rc=$?
    [ -z "$why" ] && [ $rc -ne 0 ] && why="a file does not play: $plays"
    if [ -z "$why" ]; then
      echo "PASS $1"; passed=$((passed + 1))
    else
      echo "FAIL $1: $why (logs: $dir)"; failed=$((failed + 1))
      tail -n 3 "$dir/rec.err" "$dir/load.err"
    fi
    echo "  load:     $(tail -n 1 "$dir/load.out")"
    echo "  recorder: $files files, $bins bins added; $(echo "$plays" | tail -n 1)"
  }

  record_case record-three-at-once 3 --video
  record_case record-ten-audio 10 ""
  echo "$passed passed, $failed failed"
  [ $failed = 0 ] && rm -rf "$top"
  [ $failed = 0 ]' sh "$here" "$server"
