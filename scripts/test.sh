#!/usr/bin/env bash
# Sets up, then runs every test: the meson test suite (unit, element and
# end-to-end tests) and a short fuzzing run. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

meson test -C build --print-errorlogs --num-processes 2 "$@"
meson_rc=$?

fuzz_rc=0
if [ $# -eq 0 ]; then
  # A fixed seed: the same inputs every run, so CI does not turn red by
  # luck; long runs (./scripts/fuzz.sh 3600) explore with random seeds
  WTSP_FUZZ_SEED=${WTSP_FUZZ_SEED:-20261121} \
    ./scripts/fuzz.sh "${WTSP_FUZZ_SECONDS:-30}" || fuzz_rc=1
fi

# One count per test case: GstCheck prints "Checks: N, Failures: F,
# Errors: E"; a test that crashed or printed no such line counts once.
python3 - "$fuzz_rc" <<'PY'
import json, re, sys
passed = failed = 0
with open("build/meson-logs/testlog.json") as f:
    for line in f:
        t = json.loads(line)
        ok = t["result"] in ("OK", "EXPECTEDFAIL", "SKIP")
        out = t.get("stdout", "")
        m = re.findall(r"Checks: (\d+), Failures: (\d+), Errors: (\d+)", out)
        own = re.findall(r"^(\d+) passed, (\d+) failed$", out, re.M)
        if own and not re.search(r"Checks: ", out):
            p, f = map(int, own[-1])
            passed += p
            failed += f + (0 if ok or f else 1)
            continue
        tap_ok = len(re.findall(r"^ok \d+", out, re.M))
        tap_bad = len(re.findall(r"^not ok \d+", out, re.M))
        if tap_ok + tap_bad and not m:
            passed += tap_ok
            failed += tap_bad + (0 if ok or tap_bad else 1)
        elif m and ok:
            for c, fl, e in m:
                passed += int(c) - int(fl) - int(e)
                failed += int(fl) + int(e)
        elif m:
            for c, fl, e in m:
                passed += int(c) - int(fl) - int(e)
                failed += max(int(fl) + int(e), 1)
        else:
            passed += ok
            failed += not ok
if len(sys.argv) > 1 and len(sys.argv) and sys.argv[1] != "":
    if sys.argv[1] == "0":
        passed += 1
    else:
        failed += 1
print(f"{passed} passed, {failed} failed")
PY
[ $meson_rc -eq 0 ] && [ $fuzz_rc -eq 0 ]
