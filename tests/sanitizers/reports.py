#!/usr/bin/env python3
"""Sorts the sanitizer reports of a run (scripts/sanitize.sh) by whose code
they are in.

    reports.py SRCDIR BUILDDIR LSAN_SUPP LOGDIR...

Reads every report the sanitizers wrote under LOGDIR (log_path files of
AddressSanitizer, LeakSanitizer and UBSan, one per process) and puts each
report (an error, a runtime error, or one leak: "Direct/Indirect leak of N
byte(s) ... allocated from:" and its stack) in one class:

  gst      a frame of the stack is in our gst/ sources: fails the run
  error    any other ASan error or UBSan runtime error: fails the run (the
           process died of it, or our compiled code did it)
  server   a leak with a frame in tests/server/ (the reference server):
           listed
  suppressed  third-party frames only, and one of them matches a pattern of
           LSAN_SUPP (LeakSanitizer's own "leak:PATTERN" syntax: the
           pattern, with * wildcards, is found in a frame's function, file
           or module name)
  unmatched   third-party frames only, no pattern matches: listed

The suppression file is applied here and not by LeakSanitizer, which
suppresses a leak if *any* frame matches: a pattern naming a GLib
function would then also hide our leaks made through it. Here a report
with one of our frames is never suppressed.

Our frames are found by module (a binary of BUILDDIR) and source file (under
SRCDIR), so that GStreamer's own ../gst/ paths (with debug symbols
installed) are not taken for ours. Prints the listed reports, one per
distinct stack with its count, then a line "sanitizer: G gst, S server, E
error, P suppressed, U unmatched"; exits 1 if G or E is not 0.
"""
import collections
import os
import re
import sys

FRAME = re.compile(r"^\s*#(\d+) 0x[0-9a-f]+ ?(.*?) \{(.*)\}\s*$")
LEAK = re.compile(r"^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object\(s\)")
ASAN_ERROR = re.compile(r"^==\d+==ERROR: AddressSanitizer: (.*)")
UBSAN_ERROR = re.compile(r"^(.*?:\d+(?::\d+)?): runtime error: (.*)")
# Frames of the sanitizer runtime and the allocator: never ours, never
# worth a pattern
RUNTIME = re.compile(r"libsanitizer|/lib(asan|ubsan|lsan)\.so|libclang_rt")


def parse_frame(line):
    m = FRAME.match(line)
    if not m:
        return None
    rest, module = m.group(2), m.group(3)
    # rest is "in FUNCTION LOCATION" or just "LOCATION", where LOCATION is
    # "file:line[:col]" or "(module+0xoffset)"
    func, loc = "", rest
    if rest.endswith(")") and " (" in rest:
        head, _, tail = rest.rpartition(" (")
        loc = "(" + tail
        func = head
    elif " " in rest:
        func, _, loc = rest.rpartition(" ")
    if func.startswith("in "):
        func = func[3:]
    src = ""
    if not loc.startswith("("):
        src = re.sub(r":\d+(:\d+)?$", "", loc)
    return {"func": func.strip(), "loc": loc, "src": src, "module": module}


def load_patterns(path):
    pats = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line.startswith("leak:"):
                continue
            pat = line[5:].strip()
            rx = re.escape(pat).replace(r"\*", ".*")
            if rx.startswith(r"\^"):
                rx = "^" + rx[2:]
            if rx.endswith(r"\$"):
                rx = rx[:-2] + "$"
            pats.append((pat, re.compile(rx)))
    return pats


class Report:
    def __init__(self, kind, title, pid, path):
        self.kind = kind          # leak, asan, ubsan
        self.title = title
        self.pid = pid
        self.path = path
        self.frames = []
        self.bytes = 0
        self.objects = 0


LSAN_FATAL = "LeakSanitizer has encountered a fatal error"
lsan_fatal = []


def parse_file(path):
    reports = []
    cur = None
    pid = os.path.basename(path).rpartition(".")[2]
    in_error = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if LSAN_FATAL in line:
                lsan_fatal.append(path)
                continue
            m = LEAK.match(line)
            if m:
                cur = Report("leak", line, pid, path)
                cur.bytes, cur.objects = int(m.group(2)), int(m.group(3))
                reports.append(cur)
                continue
            m = ASAN_ERROR.match(line)
            if m and "LeakSanitizer" not in line:
                cur = Report("asan", m.group(1), pid, path)
                in_error = cur
                reports.append(cur)
                continue
            m = UBSAN_ERROR.match(line)
            if m:
                cur = Report("ubsan", line, pid, path)
                reports.append(cur)
                continue
            fr = parse_frame(line)
            if fr and cur is not None:
                if fr["func"] or fr["src"] or not RUNTIME.search(fr["loc"]):
                    cur.frames.append(fr)
                continue
            if line.startswith("SUMMARY:"):
                cur = None
                in_error = None
            elif in_error is not None and line and not line.startswith(" "):
                # "freed by thread T1 here:", "previously allocated by...":
                # the stacks of one ASan error stay in one report
                cur = in_error
    return reports


def main():
    srcdir, builddir, supp = (os.path.realpath(a) for a in sys.argv[1:4])
    logdirs = sys.argv[4:]
    patterns = load_patterns(supp)

    def ours(fr):
        """gst, server, tests or None"""
        mod = os.path.realpath(fr["module"]) if fr["module"] else ""
        if not mod.startswith(builddir + os.sep):
            return None
        if not fr["src"]:
            return None
        src = os.path.normpath(os.path.join(builddir, fr["src"]))
        rel = os.path.relpath(src, srcdir)
        if rel.startswith("gst" + os.sep):
            return "gst"
        if rel.startswith(os.path.join("tests", "server") + os.sep):
            return "server"
        return None

    def match(rep):
        for fr in rep.frames:
            for text in (fr["func"], fr["src"], fr["module"]):
                if not text:
                    continue
                for pat, rx in patterns:
                    if rx.search(text):
                        return pat
        return None

    reports = []
    for d in logdirs:
        for name in sorted(os.listdir(d)):
            reports += parse_file(os.path.join(d, name))

    classes = collections.OrderedDict(
        (c, collections.OrderedDict())
        for c in ("gst", "error", "server", "unmatched", "suppressed"))
    counts = collections.Counter()
    used = collections.Counter()
    for rep in reports:
        owners = {o for o in map(ours, rep.frames) if o}
        if "gst" in owners:
            cls = "gst"
        elif rep.kind != "leak":
            cls = "error"
        elif "server" in owners:
            cls = "server"
        else:
            pat = match(rep)
            cls = "suppressed" if pat else "unmatched"
            if pat:
                used[pat] += 1
        counts[cls] += 1
        key = (rep.kind, rep.title if rep.kind != "leak" else "",
               tuple(fr["func"] or fr["loc"] for fr in rep.frames))
        group = classes[cls].setdefault(key, [])
        group.append(rep)

    titles = {
        "gst": "in our gst/ sources (these fail the run)",
        "error": "memory errors and undefined behaviour outside gst/ (these fail the run)",
        "server": "in the reference server, tests/server/ (listed, not failing)",
        "unmatched": "third-party only, no suppression matches (listed, not failing: "
                     "add a pattern to tests/sanitizers/lsan.supp if it is theirs)",
    }
    for cls, title in titles.items():
        groups = classes[cls]
        if not groups:
            continue
        print("=== %d sanitizer report(s) %s, %d distinct" %
              (counts[cls], title, len(groups)))
        for key, reps in groups.items():
            r = reps[0]
            if r.kind == "leak":
                head = "%s leak, %d time(s), %d byte(s) in %d object(s) in all" % (
                    r.title.split()[0], len(reps), sum(x.bytes for x in reps),
                    sum(x.objects for x in reps))
            else:
                head = "%s, %d time(s): %s" % (r.kind, len(reps), r.title)
            print("--- %s (first in %s)" % (head, r.path))
            for i, fr in enumerate(r.frames):
                mark = "*" if ours(fr) else " "
                print("  %s #%d %s %s" % (mark, i, fr["func"] or "", fr["loc"]))
        print()
    if lsan_fatal:
        print("LeakSanitizer's tracer crashed at exit in %d process(es), whose "
              "leaks are then unknown (a known LSan flake, not counted): %s" % (
                  len(lsan_fatal), " ".join(lsan_fatal)))
    if used:
        print("suppressed by tests/sanitizers/lsan.supp: " +
              ", ".join("%s %d" % kv for kv in used.most_common()))
    print("sanitizer: %d gst, %d server, %d error, %d suppressed, %d unmatched" % (
        counts["gst"], counts["server"], counts["error"],
        counts["suppressed"], counts["unmatched"]))
    return 1 if counts["gst"] or counts["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
