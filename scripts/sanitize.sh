#!/usr/bin/env bash
# The unit and element suites under AddressSanitizer (with LeakSanitizer)
# and UndefinedBehaviorSanitizer:
#
#   ./scripts/sanitize.sh [SUITE...]
#
# Builds build-asan/ (meson -Db_sanitize=address,undefined, gcc; clang if
# gcc cannot), runs each suite with `meson test` (message, signalingsrc,
# webrtccall, and those of codecs, sdp, session, webrtccall-signaling that
# exist), then sorts every sanitizer report by whose code it is in
# (tests/sanitizers/reports.py): a report with a frame in gst/, or any
# memory error, fails the run; leaks of third-party code only are
# suppressed by the patterns of tests/sanitizers/lsan.supp; the reference
# server's leaks are listed. All reports: build-asan/sanitize/.
#
# Prints per suite "SUITE: N passed, N failed", the report counts, and ends
# with "N passed, N failed" (the test cases, plus one for "no sanitizer
# report in gst/ and no memory error"). Exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=$src/build-asan
out=$build/sanitize

SUITES=(message signalingsrc webrtccall codecs sdp session webrtccall-signaling)
[ $# -gt 0 ] && SUITES=("$@")
# The suites that must exist (the others are run if this tree has them)
REQUIRED=" message signalingsrc webrtccall "

start=$SECONDS
fail () {
  echo "sanitize: $*"
  echo "0 passed, 1 failed"
  exit 1
}

# Debian 12's gcc brings its sanitizer runtimes (libasan8, libubsan1)
./scripts/setup.sh > /dev/null || fail "setup failed"

configure () {
  rm -rf "$build"
  CC=$1 meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false \
    > "$src/build-asan.log" 2>&1 &&
    ninja -C "$build" >> "$src/build-asan.log" 2>&1
}
if [ -f "$build/build.ninja" ] && ninja -C "$build" > "$src/build-asan.log" 2>&1; then
  :
elif configure gcc; then
  :
elif configure clang; then
  echo "sanitize: gcc could not build with the sanitizers, clang did"
else
  tail -20 "$src/build-asan.log"
  fail "no sanitizer build (build-asan.log)"
fi
rm -f "$src/build-asan.log"
echo "sanitize: built in build-asan/ ($(sed -n "s/^C compiler for the host machine: \([^ ]*\).*/\1/p" "$build/meson-logs/meson-log.txt" | head -1), $((SECONDS - start)) s)"

rm -rf "$out"
mkdir -p "$out/reports"

# The suites of this tree, and their registries
meson introspect --tests "$build" > "$out/tests.json" || fail "meson introspect failed"
mapfile -t have < <(python3 -c '
import json, sys
for t in json.load(open(sys.argv[1])):
    if "check" in ",".join(t["suite"]):
        print(t["name"], t["env"].get("GST_REGISTRY_1_0", ""))' "$out/tests.json")
suites=()
registries=()
for s in "${SUITES[@]}"; do
  found=""
  for h in "${have[@]}"; do
    [ "${h%% *}" = "$s" ] && found=${h#* }
  done
  if [ -n "$found" ] || printf '%s\n' "${have[@]}" | grep -qx "$s "; then
    suites+=("$s")
    registries+=("$found")
  elif [[ $REQUIRED == *" $s "* ]]; then
    fail "no suite $s in build-asan"
  fi
done

# The plugin registries are built before the tests, by a process with the
# sanitizer runtime loaded first (gst-plugin-scanner is not sanitized and
# cannot load our sanitized plugin); the tests then scan in-process
# (GST_REGISTRY_FORK=no) if ever they must. Loading every system plugin
# inside a test process would fill each of its forked test cases with
# the leaks of their constructors.
preload=$(ldd "$build/gst/libgstwtsp.so" | awk '/lib(asan|ubsan)\.so/ {print $3}' | tr '\n' ' ')
if [ -z "$preload" ] && command -v clang > /dev/null; then
  preload=$(clang -print-file-name=libclang_rt.asan-x86_64.so)
fi
for r in "${registries[@]}"; do
  [ -n "$r" ] || continue
  LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0 \
    GST_PLUGIN_PATH_1_0="$build/gst" GST_REGISTRY_1_0="$r" \
    gst-inspect-1.0 signalingsrc > /dev/null 2> "$out/registry.log" ||
    { cat "$out/registry.log"; fail "could not build the registry $r"; }
done
rm -f "$out/registry.log"

# One report file per process (log_path) in $out/reports, sorted
# afterwards: nothing changes an exit status (exitcode=0), since leaks of
# third-party code are in every process, and LeakSanitizer's own tracer
# sometimes crashes at exit (a known LSan flake: "Tracer caught signal
# 11"), which abort_on_error would turn into a failed test. Memory errors
# are found in the reports instead, and fail the run. Full stacks: system
# libraries have no frame pointers, so fast_unwind_on_malloc=0; deeper
# than the default 30 frames makes the TLS tests too slow for their bounds.
common="log_path=$out/reports/san:stack_trace_format='    #%n %p %F %L {%m}':fast_unwind_on_malloc=0:exitcode=0:print_summary=1"
export ASAN_OPTIONS="$common:detect_leaks=1:suppressions=$src/tests/sanitizers/asan.supp"
export LSAN_OPTIONS="$common"
export UBSAN_OPTIONS="$common:print_stacktrace=1:halt_on_error=0:suppressions=$src/tests/sanitizers/ubsan.supp"
# GLib's slice allocator hides leaks and frees; gc-friendly clears what
# GLib frees, so stale pointers do not keep leaks reachable
export G_SLICE=always-malloc G_DEBUG=gc-friendly GST_REGISTRY_FORK=no
# ASan runs the code 2-3 times slower: the test timeouts follow
export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-3}

# Processes the tests start (gst-launch-1.0 children, the reference
# server) load the sanitized plugin too: the runtime must come first
export LD_PRELOAD="$preload"

total_passed=0
total_failed=0
for s in "${suites[@]}"; do
  t0=$SECONDS
  meson test -C "$build" --no-rebuild --print-errorlogs -t 3 \
    --logbase "sanitize-$s" "$s" > "$out/$s.log" 2>&1
  rc=$?
  # one count per test case, as scripts/test.sh counts
  read -r p f < <(python3 - "$build/meson-logs/sanitize-$s.json" "$rc" <<'PY'
import json, re, sys
passed = failed = 0
try:
    lines = open(sys.argv[1]).readlines()
except OSError:
    lines = []
for line in lines:
    t = json.loads(line)
    ok = t["result"] in ("OK", "EXPECTEDFAIL")
    out = t.get("stdout", "")
    m = re.findall(r"Checks: (\d+), Failures: (\d+), Errors: (\d+)", out)
    tap_ok = len(re.findall(r"^ok \d+", out, re.M))
    tap_bad = len(re.findall(r"^not ok \d+", out, re.M))
    if m:
        for c, fl, e in m:
            passed += int(c) - int(fl) - int(e)
            failed += int(fl) + int(e)
        if not ok and not any(int(fl) + int(e) for c, fl, e in m):
            failed += 1
    elif tap_ok + tap_bad:
        passed += tap_ok
        failed += tap_bad + (0 if ok or tap_bad else 1)
    else:
        passed += ok
        failed += not ok
if not lines or (sys.argv[2] != "0" and failed == 0):
    failed += 1
print(passed, failed)
PY
)
  echo "$s: $p passed, $f failed ($((SECONDS - t0)) s)"
  [ "$f" -gt 0 ] && grep -E "^[0-9]+/[0-9]+ |Checks: |^not ok|:[EF]:" "$out/$s.log" | sed 's/^/  /' | head -20
  total_passed=$((total_passed + p))
  total_failed=$((total_failed + f))
done

python3 "$src/tests/sanitizers/reports.py" "$src" "$build" \
  "$src/tests/sanitizers/lsan.supp" "$out/reports" > "$out/summary.txt"
san_rc=$?
cat "$out/summary.txt"
if [ $san_rc -eq 0 ]; then
  total_passed=$((total_passed + 1))
else
  total_failed=$((total_failed + 1))
fi
rm -f "$out/tests.json"
echo "sanitize: $((SECONDS - start)) s; reports in build-asan/sanitize/ (summary.txt, reports/)"
echo "$total_passed passed, $total_failed failed"
[ $total_failed -eq 0 ]
