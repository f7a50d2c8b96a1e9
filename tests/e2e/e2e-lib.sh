# Shared by the end-to-end scripts (sourced, not run): counters, cleanup,
# and the reference server. Expects SERVER (the server binary) and, when
# start_server runs, dir (where its output goes).
passed=0
failed=0
server_pid=
callee_pid=

cleanup() {
  [ -n "$callee_pid" ] && kill "$callee_pid" 2>/dev/null
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# $1: file; $2: seconds; succeeds once the file has a line matching $3
wait_for_line() {
  n=0
  while [ $n -lt $(($2 * 10)) ]; do
    grep -q "$3" "$1" 2>/dev/null && return 0
    sleep 0.1
    n=$((n + 1))
  done
  return 1
}

# Starts the reference server on the namespace's n0 with extra arguments
# "$@"; sets url
start_server() {
  "$SERVER" --host 10.99.0.1 --port 0 "$@" >"$dir/server.out" \
      2>"$dir/server.err" &
  server_pid=$!
  if ! wait_for_line "$dir/server.out" 5 '^listening '; then
    echo "the server did not start" >>"$dir/why"
    return 1
  fi
  url=$(sed -n 's/^listening //p' "$dir/server.out" | head -n 1)
}

stop_server() {
  kill "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=
}
