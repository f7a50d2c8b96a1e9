#!/usr/bin/env bash
# Sets up, then runs every test: the meson test suite (unit, element and
# end-to-end tests) and a short fuzzing run. Ends with one line,
# "N passed, N failed, N skipped" (see docs/testing.md): a case counts as
# passed only if it ran and passed. Arguments go to meson test (a suite or
# test names); the fuzzing run is then left out.
set -uo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

meson test -C build --print-errorlogs --num-processes 2 "$@"
meson_rc=$?

# The fuzzing run: passed (it ran, "fuzz: N runs ..., no crash"), failed
# (a crash, or a fuzz build that broke), or skipped (it could not run
# here: no clang with libFuzzer, or no libFuzzer statistics)
fuzz=
if [ $# -eq 0 ]; then
  probe=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-probe.XXXXXX")
  echo 'int LLVMFuzzerTestOneInput (const char *d, unsigned long n)' \
    '{ return 0; }' >"$probe/probe.c"
  if ! command -v clang >/dev/null; then
    fuzz="skipped:fuzz (clang is not installed)"
  elif ! clang -fsanitize=fuzzer "$probe/probe.c" -o "$probe/probe" \
      >/dev/null 2>&1; then
    fuzz="skipped:fuzz (clang cannot link libFuzzer: libclang-rt-14-dev)"
  else
    # A fixed seed: the same inputs every run, so CI does not turn red by
    # luck; long runs (./scripts/fuzz.sh 3600) explore with random seeds
    WTSP_FUZZ_SEED=${WTSP_FUZZ_SEED:-20261121} \
      ./scripts/fuzz.sh "${WTSP_FUZZ_SECONDS:-30}" >"$probe/out"
    fuzz_rc=$?
    cat "$probe/out"
    if [ $fuzz_rc -ne 0 ]; then
      if grep -q '^fuzz: crash' "$probe/out"; then
        fuzz="failed:fuzz (crash)"
      else
        fuzz="failed:fuzz (the fuzzer did not build: see above)"
      fi
    elif grep -Eq '^fuzz: [1-9][0-9]* runs in [0-9]+ s, no crash$' \
        "$probe/out"; then
      fuzz="passed:fuzz"
    else
      fuzz="skipped:fuzz (no libFuzzer statistics in its output)"
    fi
  fi
  rm -rf "$probe"
fi

# The sanitizer run (scripts/sanitize.sh): the unit and element suites
# that need no media timing, under AddressSanitizer and UBSan (~2 min);
# one count: passed if their cases passed and no report is in gst/ and
# no memory error happened. The media suite under the sanitizers is run
# by hand (./scripts/sanitize.sh webrtccall): see docs/testing.md.
san=
if [ $# -eq 0 ]; then
  if ./scripts/sanitize.sh message signalingsrc codecs sdp session \
      webrtccall-signaling > build/sanitize.log 2>&1; then
    san="passed:sanitize"
  else
    san="failed:sanitize"
  fi
  grep -E "^(sanitizer|sanitize):|^[0-9]+ passed, [0-9]+ failed" \
    build/sanitize.log | sed 's/^\([0-9]\)/sanitize: \1/'
fi

# One count per test case, from meson's log:
# - GstCheck prints "Checks: N, Failures: F, Errors: E"; a case that
#   printed "SKIP <case>: why" is skipped, not passed.
# - GTest prints TAP: "ok", "ok ... # SKIP", "not ok".
# - Scripts print "N passed, N failed" (", N skipped").
# - A suite meson reports as SKIP (exit 77: needs root...) counts its
#   cases as skipped, or once if it printed none.
# - Anything else, or a test that failed beyond its own counts (a crash,
#   a timeout), counts once more as failed.
python3 - "$fuzz" "$san" <<'PY'
import json, re, sys

passed = failed = skipped = 0
reasons = []

def first_line(t):
    for text in (t.get("stdout", ""), t.get("stderr", "")):
        for line in text.splitlines():
            if line.strip():
                return line.strip()
    return ""

with open("build/meson-logs/testlog.json") as f:
    for line in f:
        t = json.loads(line)
        name = t["name"]
        result = t["result"]
        ok = result in ("OK", "EXPECTEDFAIL")
        skip = result == "SKIP"
        out = t.get("stdout", "") + "\n" + t.get("stderr", "")
        checks = re.findall(r"Checks: (\d+), Failures: (\d+), Errors: (\d+)",
                            out)
        own = re.findall(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$",
                         out, re.M)
        tap_skip = len(re.findall(r"^ok \d+.*# SKIP", out, re.M))
        tap_ok = len(re.findall(r"^ok \d+", out, re.M)) - tap_skip
        tap_bad = len(re.findall(r"^not ok \d+", out, re.M))
        check_skips = len(re.findall(r"^SKIP \S+:", out, re.M))
        n_skipped = skipped

        if checks:
            n = sum(int(c) for c, _, _ in checks)
            bad = sum(int(fl) + int(e) for _, fl, e in checks)
            if skip:
                skipped += n - bad
                failed += bad
            else:
                s = min(check_skips, n - bad)
                passed += n - bad - s
                skipped += s
                failed += bad if ok else max(bad, 1)
        elif own:
            p, fl, s = own[-1]
            passed += int(p)
            failed += int(fl)
            skipped += int(s or 0)
            if not ok and not skip and int(fl) == 0:
                failed += 1
            elif skip and int(p) + int(fl) + int(s or 0) == 0:
                skipped += 1
        elif tap_ok + tap_bad + tap_skip:
            passed += tap_ok
            skipped += tap_skip
            failed += tap_bad
            if not ok and not skip and tap_bad == 0:
                failed += 1
        elif skip:
            skipped += 1
        elif ok:
            passed += 1
        else:
            failed += 1
        if skipped > n_skipped:
            if skip:
                why = "exit 77"
                if not checks and first_line(t):
                    why += ": " + first_line(t)
            else:
                cases = re.findall(r"^SKIP (\S+):", out, re.M) + \
                    re.findall(r"^ok \d+ (\S+).*# SKIP", out, re.M)
                why = ", ".join(cases) or "SKIP in its counts"
            reasons.append(f"{name}: {skipped - n_skipped} ({why})")

for extra in sys.argv[1:]:
    if not extra:
        continue
    kind, _, what = extra.partition(":")
    if kind == "passed":
        passed += 1
    elif kind == "failed":
        failed += 1
    else:
        skipped += 1
        reasons.append(what)
for r in reasons:
    print(f"skipped: {r}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
[ $meson_rc -eq 0 ] && [ "${fuzz%%:*}" != failed ] && [ "${san%%:*}" != failed ]
