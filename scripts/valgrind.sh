#!/usr/bin/env bash
# One real call under valgrind's memcheck: the webrtccall suite's case
# CASE (default test_basic_call: alice calls bob through the reference
# server, video and audio both ways, hangs up), both bins in the one
# process valgrind watches, in a network namespace of its own.
#
#   ./scripts/valgrind.sh [CASE]
#
# Suppressions: GLib's own (glib.supp, from libglib2.0-dev) and
# tests/sanitizers/valgrind.supp (third-party leaks that are not ours:
# each entry says why). Prints valgrind's leak summary, then every
# definitely-lost record with a frame in gst/, and ends with
# "valgrind: N bytes definitely lost in gst/ (M in all)"; exits non-zero
# if N is not 0 or the case failed. The whole log: build/valgrind/CASE.log
# (WTSP_BUILD=DIR: another build directory than build/).
set -uo pipefail
cd "$(dirname "$0")/.."
case=${1:-test_basic_call}
./scripts/setup.sh >/dev/null || exit 1
command -v valgrind >/dev/null || {
  echo "valgrind: not installed (apt-get install valgrind)"; exit 1; }

src=$PWD
build=$src/${WTSP_BUILD:-build}
out=$build/valgrind
mkdir -p "$out"
log=$out/$case.log
rm -f "$log"

start=$SECONDS
# G_SLICE and gc-friendly: GLib's allocations as plain malloc, freed
# memory cleared, so that valgrind sees what is really lost
nice -n 19 tests/e2e/netns.sh env \
  GST_PLUGIN_PATH_1_0="$build/gst" \
  GST_REGISTRY_1_0="$out/registry.bin" \
  WTSP_SIGNALING_SERVER="$build/tests/server/signaling-server" \
  GST_CHECKS="$case" CK_FORK=no WTSP_TEST_SLOWDOWN=20 \
  G_SLICE=always-malloc G_DEBUG=gc-friendly \
  valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
  --errors-for-leak-kinds=definite --num-callers=40 \
  --suppressions=/usr/share/glib-2.0/valgrind/glib.supp \
  --suppressions="$src/tests/sanitizers/valgrind.supp" \
  --gen-suppressions=all --log-file="$log" \
  "$build/tests/check/test-webrtccall" > "$out/$case.out" 2>&1
rc=$?
tail -3 "$out/$case.out"
echo "valgrind: ran in $((SECONDS - start)) s (exit $rc)"

python3 - "$log" "$rc" gst/*.c <<'EOF'
import os, re, sys

log, rc = sys.argv[1], int(sys.argv[2])
# a frame of ours: one of gst/'s files (valgrind prints the base name),
# or the plugin itself where it has no line information
ours_re = re.compile(r"\((?:%s):\d+\)|libgstwtsp\.so" % "|".join(
    re.escape(os.path.basename(f)) for f in sys.argv[3:]))
text = open(log).read()
summary = text[text.find("LEAK SUMMARY"):].splitlines()[:8]
print("\n".join(line.split("== ", 1)[-1] for line in summary))

# One record: from "N bytes ... definitely lost in loss record" to the
# blank line after its stack
ours = total = 0
records = re.findall(r"==\d+== ([\d,]+ \(?[\d,]* ?(?:direct, [\d,]+ indirect\) )?bytes in [\d,]+ blocks are definitely lost.*?)\n==\d+== \n", text, re.S)
for record in records:
    size = int(re.match(r"([\d,]+)", record).group(1).replace(",", ""))
    total += size
    if ours_re.search(record):
        ours += size
        print("\n".join(l.split("== ", 1)[-1] for l in record.splitlines()))
errors = re.search(r"ERROR SUMMARY: (\d+) errors", text)
print(f"valgrind: {ours} bytes definitely lost in gst/ ({total} in all), "
      f"{errors.group(1) if errors else '?'} errors")
sys.exit(0 if ours == 0 and rc == 0 else 1)
EOF
