#!/bin/sh
# Fuzz the WTSP message parser.
#
#   scripts/fuzz.sh [SECONDS]
#
# Builds the libFuzzer targets with clang in build-fuzz/ (at the top of
# the repository), then runs fuzz-message for SECONDS (default 30) on a
# copy of the seed corpus, tests/fuzz/corpus/. Prints one line at the end:
# "fuzz: N runs in S s, no crash", or the file that reproduces a crash
# (in build-fuzz/fuzz-artifacts/), and then exits non-zero. Replay a
# crash with: build-fuzz/tests/fuzz/fuzz-message FILE
set -eu

seconds=${1:-30}
case $seconds in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$repo/build-fuzz
fuzzer=$build/tests/fuzz/fuzz-message

if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" "$repo" -Dfuzzing=true >"$repo/build-fuzz.log" 2>&1 || {
    cat "$repo/build-fuzz.log" >&2; exit 1; }
  mv "$repo/build-fuzz.log" "$build/setup.log"
else
  meson configure "$build" -Dfuzzing=true >/dev/null
fi
ninja -C "$build" tests/fuzz/fuzz-message >"$build/ninja.log" 2>&1 || {
  cat "$build/ninja.log" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-message.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cp "$repo"/tests/fuzz/corpus/* "$work"/
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
log=$build/fuzz-message.log

# WTSP_FUZZ_SEED makes a run repeatable (the test command's short run uses
# one); without it every run explores differently
if "$fuzzer" -max_total_time="$seconds" ${WTSP_FUZZ_SEED:+-seed=$WTSP_FUZZ_SEED} \
    -dict="$repo/tests/fuzz/wtsp.dict" \
    -artifact_prefix="$artifacts/" \
    "$work" >"$log" 2>&1; then
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log")
  secs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log")
  echo "fuzz: ${runs:-?} runs in ${secs:-?} s, no crash"
else
  crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
  tail -n 40 "$log" >&2
  echo "fuzz: crash: ${crash:-see $log}"
  exit 1
fi
