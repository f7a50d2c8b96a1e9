#!/usr/bin/python3
"""The benchmark suite: each section measures the project's figure and
its baseline in the same run, alternating, and the run ends with one
markdown table (docs/performance.md keeps it).

    bench.py [--build DIR] [SECTION...]

Sections (default: all):
  setup        warm setup: calls in a row from one process, through the
               reference server, vs stock webrtcbin <-> webrtcbin with
               direct in-process signaling, same media
  first        the first call of a fresh process: start -> connected and
               dial -> connected, vs the warm figure
  concurrency  N = 1, 10, 40, 100 concurrent calls between two processes:
               connected, setup median and max, CPU, threads, fds and RSS
               per call, vs stock webrtcbin carrying the same media, and
               the media alone (no network, no webrtcbin)
  record       the recording server (pipelines/record-calls.py) taking M
               concurrent incoming calls as they come, load from
               pre-encoded input: CPU per recorded call, every file
               playable, the largest M held
  glass        glass-to-glass: 640x480 VP8 at latency=50, capture to
               decoded frame on the far side, vs stock webrtcbin
  memory       RSS, threads and fds over 1000 sequential calls

Must run as root inside a network namespace (scripts/bench.sh does it).
A benchmark prints figures; it fails only if something could not be
measured (a call that did not connect, say).
"""
import argparse
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"
HOST = "10.99.0.1"
TICKS = os.sysconf("SC_CLK_TCK")


def log(text):
    print(text, flush=True)


def fields(text, prefix):
    """The key=value pairs of the last line of @text starting with
    @prefix, as floats where they are numbers."""
    found = None
    for line in text.splitlines():
        if line.startswith(prefix):
            found = line
    if found is None:
        return None
    out = {}
    for key, value in re.findall(r"([\w-]+)=([^\s;,]+)", found):
        try:
            out[key] = float(value)
        except ValueError:
            out[key] = value
    return out


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICKS


class Failed(Exception):
    pass


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.env = dict(os.environ, GST_PLUGIN_PATH=f"{self.build}/gst")
        self.env.pop("GST_PLUGIN_PATH_1_0", None)
        self.tmp = tempfile.mkdtemp(prefix="wtsp-bench.")
        self.rows = []      # (figure, ours, baseline, ratio, goal)
        self.results = {}
        self.procs = []

    # Processes

    def spawn(self, cmd, out):
        p = subprocess.Popen(cmd, stdout=open(out, "w"),
                             stderr=subprocess.STDOUT, env=self.env,
                             start_new_session=True)
        self.procs.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        if p in self.procs:
            self.procs.remove(p)

    def run(self, name, cmd, timeout, summary=None):
        """Runs @cmd to its end. Returns: its output (also in a file). With
        @summary (a line prefix), an exit 1 that still printed that line
        (calls that did not all connect) is a figure, not a failure."""
        out = os.path.join(self.tmp, f"{name}.out")
        p = self.spawn(cmd, out)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop(p)
            raise Failed(f"{name} did not finish within {timeout} s "
                         f"(see {out})")
        self.procs.remove(p)
        with open(out) as f:
            text = f.read()
        if p.returncode == 1 and summary and fields(text, summary):
            return text
        if p.returncode != 0:
            tail = "\n".join(text.splitlines()[-5:])
            raise Failed(f"{name} failed (exit {p.returncode}):\n{tail}")
        return text

    def server(self, lines=2):
        out = os.path.join(self.tmp, f"server-{time.monotonic_ns()}.out")
        p = self.spawn([f"{self.build}/tests/server/signaling-server",
                        "--port", "0", "--host", HOST, "--lines",
                        str(lines)], out)
        for _ in range(100):
            with open(out) as f:
                m = re.search(r"^listening (\S+)", f.read(), re.M)
            if m:
                return p, m.group(1)
            time.sleep(0.05)
        raise Failed("the reference server did not start")

    def recorder(self, url, calls=0):
        out = os.path.join(self.tmp, f"recorder-{time.monotonic_ns()}.out")
        rec_dir = tempfile.mkdtemp(dir=self.tmp, prefix="rec.")
        env_token = os.path.join(self.tmp, "bob.token")
        with open(env_token, "w") as f:
            f.write("bob")
        cmd = [PY, f"{TOP}/pipelines/record-calls.py", "--server", url,
               "--dir", rec_dir]
        if calls:
            # a burst of M calls: the last waits for the M-1 before it
            cmd += ["--calls", str(calls), "--claim-timeout",
                    str(max(5000, calls * 300))]
        self.env["WTSP_TOKEN_FILE"] = env_token
        p = self.spawn(cmd, out)
        del self.env["WTSP_TOKEN_FILE"]
        time.sleep(1.5)
        return p, rec_dir, out

    def row(self, figure, ours, baseline="", ratio="", goal=""):
        self.rows.append((figure, ours, baseline, ratio, goal))
        log(f"| {figure} | {ours} | {baseline} | {ratio} | {goal} |")

    # Sections

    def setup(self):
        srv, url = self.server()
        rec, _, _ = self.recorder(url)
        ours, stock, firsts = [], [], []
        calls = self.args.setup_calls
        try:
            for r in range(self.args.rounds):
                text = self.run(f"setup-ours-{r}", [
                    PY, f"{HERE}/bench-calls.py", "--server", url,
                    "--token", "alice", "--number", "bob",
                    "--calls", str(calls + 1), "--talk", "1", "--gap",
                    "0.5"], 300)
                f = fields(text, "ours-setup:")
                ours.append(f["median_ms"])
                firsts.append(f["first_ms"])
                log(f"setup round {r + 1}: ours median {f['median_ms']:.0f}"
                    f" ms ({f['min_ms']:.0f}-{f['max_ms']:.0f})")
                text = self.run(f"setup-stock-{r}", [
                    PY, f"{HERE}/stock-calls.py", "setup", "--calls",
                    str(calls + 1), "--video"], 300)
                f = fields(text, "stock-setup:")
                stock.append(f["median_ms"])
                log(f"setup round {r + 1}: stock median "
                    f"{f['median_ms']:.0f} ms ({f['min_ms']:.0f}-"
                    f"{f['max_ms']:.0f})")
        finally:
            self.stop(rec)
            self.stop(srv)
        o, s = statistics.median(ours), statistics.median(stock)
        self.results["warm"] = o
        self.row("setup, warm (dial → connected, median of "
                 f"{self.args.rounds}×{calls} calls, audio+video)",
                 f"{o:.0f} ms", f"{s:.0f} ms (stock webrtcbin, direct "
                 "signaling)", f"{o / s:.2f}×", "≤ 1.2×")

    def first(self):
        srv, url = self.server()
        rec, _, _ = self.recorder(url)
        try:
            text = self.run("first-call", [
                PY, f"{HERE}/first-call.py", "--server", url, "--token",
                "alice", "--number", "bob", "--runs",
                str(self.args.first_runs)], 300)
            f = fields(text, "first-call:")
            warm = self.results.get("warm")
            if warm is None:
                text = self.run("first-warm", [
                    PY, f"{HERE}/bench-calls.py", "--server", url,
                    "--token", "alice", "--number", "bob", "--calls", "6",
                    "--talk", "1", "--gap", "0.5"], 300)
                warm = fields(text, "ours-setup:")["median_ms"]
        finally:
            self.stop(rec)
            self.stop(srv)
        dial = f["dial_to_connected_median_ms"]
        self.row("first call of a fresh process, dial → connected (median "
                 f"of {int(f['runs'])} processes)", f"{dial:.0f} ms",
                 f"{warm:.0f} ms (warm)", f"{dial - warm:+.0f} ms",
                 "≤ warm + 50 ms")
        self.row("first call of a fresh process, process start → connected",
                 f"{f['start_to_connected_median_ms']:.0f} ms (registered "
                 f"at {f['start_to_registered_median_ms']:.0f} ms)",
                 f"{warm:.0f} ms (warm)", "", "")

    def concurrency(self):
        media = self.run("media-alone", [
            PY, f"{HERE}/stock-calls.py", "media-alone", "--chains", "10",
            "--seconds", "10"], 120)
        per_chain = fields(media, "media-alone:")["cpu_pct_per_chain"]
        for n in self.args.concurrency:
            ours = self.run(f"concurrent-ours-{n}", [
                PY, f"{HERE}/concurrent-calls.py", "--calls", str(n),
                "--hold", "10", "--server-binary",
                f"{self.build}/tests/server/signaling-server"], 600,
                "ours-concurrent:")
            o = fields(ours, "ours-concurrent:")
            stock = self.run(f"concurrent-stock-{n}", [
                PY, f"{HERE}/stock-calls.py", "concurrent", "--calls",
                str(n), "--hold", "10"], 900, "stock-concurrent:")
            s = fields(stock, "stock-concurrent:")
            if "setup_median_ms" not in o or "setup_median_ms" not in s:
                # not all connected: that count is the figure
                self.row(f"{n} concurrent calls: connected",
                         f"{int(o['connected'])}/{n}"
                         + ("" if "setup_median_ms" in o else
                            f" (see {self.tmp}/concurrent-ours-{n}.out)"),
                         f"{int(s['connected'])}/{n}"
                         + ("" if "setup_median_ms" in s else
                            f" (see {self.tmp}/concurrent-stock-{n}.out)"),
                         "", "")
                continue
            if n == 1:
                self.results["single"] = o["setup_median_ms"]
            single = self.results.get("single")
            self.row(f"{n} concurrent calls: connected, setup median / max",
                     f"{int(o['connected'])}/{n}, "
                     f"{o['setup_median_ms']:.0f} / "
                     f"{o['setup_max_ms']:.0f} ms",
                     f"{int(s['connected'])}/{n}, "
                     f"{s['setup_median_ms']:.0f} / "
                     f"{s['setup_max_ms']:.0f} ms",
                     f"{o['setup_median_ms'] / single:.1f}× one call"
                     if single else "", "≤ 3× one call (40)")
            oc = (o["cpu_pct_per_call_caller"]
                  + o["cpu_pct_per_call_answerer"]) / 2
            sc = (s["cpu_pct_per_call_offerer"]
                  + s["cpu_pct_per_call_answerer"]) / 2
            self.row(f"{n} concurrent calls: CPU per call per side "
                     "(% of a core)", f"{oc:.2f} %",
                     f"{sc:.2f} % (media alone: {per_chain:.2f} %)",
                     f"{oc / sc:.2f}× stock, {oc / per_chain:.2f}× media",
                     "≤ 1.15× stock, ≤ 1.25× media")
            self.row(f"{n} concurrent calls: threads / fds / RSS per call",
                     f"{o['threads_per_call']:.1f} / "
                     f"{o['fds_per_call']:.1f} / "
                     f"{o['rss_kib_per_call'] / 1024:.1f} MiB",
                     f"{s['threads_per_call']:.1f} / "
                     f"{s['fds_per_call']:.1f} / "
                     f"{s['rss_kib_per_call'] / 1024:.1f} MiB", "",
                     "≤ 8 threads, ≤ 10 fds")

    def record_once(self, m, video):
        srv, url = self.server(lines=m + 1)
        rec, rec_dir, rec_out = self.recorder(url, calls=m)
        seconds = self.args.record_seconds
        cmd = [PY, f"{HERE}/record-load.py", "--server", url, "--token",
               "alice", "--number", "bob", "--calls", str(m), "--seconds",
               str(seconds), "--timeout", "120"]
        if video:
            cmd.append("--video")
        out = os.path.join(self.tmp, f"record-load-{m}.out")
        load = self.spawn(cmd, out)
        # the recorder's CPU while every call is up
        t0 = c0 = None
        deadline = time.monotonic() + 150
        cpu = gen = None
        while load.poll() is None and time.monotonic() < deadline:
            with open(out) as f:
                up = f.read().count("connected in")
            if t0 is None and up >= m:
                time.sleep(1)
                t0, c0 = time.monotonic(), cpu_seconds(rec.pid)
                g0 = cpu_seconds(load.pid)
            elif t0 is not None and time.monotonic() - t0 >= seconds - 2:
                cpu = (cpu_seconds(rec.pid) - c0) / (time.monotonic() - t0)
                gen = (cpu_seconds(load.pid) - g0) / (time.monotonic() - t0)
                break
            time.sleep(0.1)
        try:
            load.wait(150)
        except subprocess.TimeoutExpired:
            pass
        self.stop(load)
        # the recorder ends once it finished M files
        try:
            rec.wait(max(20, m))  # M files to finish, under load
        except subprocess.TimeoutExpired:
            pass
        self.stop(rec)
        self.stop(srv)
        with open(out) as f:
            summary = fields(f.read(), "record-load:") or {}
        files = sorted(os.path.join(rec_dir, n) for n in os.listdir(rec_dir)
                       if n.endswith(".mkv"))
        check = subprocess.run(
            [PY, f"{TOP}/tests/e2e/record-check.py", "--seconds",
             str(seconds - 1)] + (["--video"] if video else []) + files,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=self.env)
        playable = 0
        m_play = re.search(r"^(\d+) of (\d+) files play", check.stdout, re.M)
        if m_play:
            playable = int(m_play.group(1))
        connected = int(summary.get("connected", 0))
        held = connected == m and playable == m
        log(f"record {m} {'audio+video' if video else 'audio'}: "
            f"{connected} connected, {playable}/{len(files)} files play, "
            f"recorder CPU {cpu * 100 if cpu else 0:.1f} % "
            f"({cpu * 100 / m if cpu else 0:.2f} % per call); the load "
            f"generator {gen * 100 / m if gen else 0:.2f} % per call")
        return held, cpu, connected, playable

    def record(self):
        largest = 0
        for m in self.args.record:
            held, cpu, connected, playable = self.record_once(m, False)
            self.row(f"recording server, {m} concurrent audio calls: CPU "
                     "per recorded call, files playable",
                     f"{cpu * 100 / m:.2f} % of a core, "
                     f"{playable}/{m} play" if cpu else
                     f"{connected}/{m} connected, {playable}/{m} play", "",
                     "", "holds 100")
            if held:
                largest = max(largest, m)
        held, cpu, connected, playable = self.record_once(10, True)
        self.row("recording server, 10 concurrent audio+video calls: CPU "
                 "per recorded call", f"{cpu * 100 / 10:.2f} % of a core, "
                 f"{playable}/10 play" if cpu else f"{connected}/10 "
                 "connected", "", "", "")
        self.row("recording server: largest M held (every call connected, "
                 "every file plays)", f"{largest}", "", "", "≥ 100")

    def glass(self):
        ours, stock = [], []
        for r in range(self.args.rounds):
            text = self.run(f"glass-ours-{r}", [
                PY, f"{HERE}/glass-to-glass.py", "--seconds", "10",
                "--server-binary",
                f"{self.build}/tests/server/signaling-server"], 180)
            ours.append(fields(text, "glass-to-glass:"))
            text = self.run(f"glass-stock-{r}", [
                PY, f"{HERE}/glass-to-glass.py", "--seconds", "10",
                "--stock"], 180)
            stock.append(fields(text, "glass-to-glass:"))
        om = statistics.median(f["median_ms"] for f in ours)
        op = statistics.median(f["p95_ms"] for f in ours)
        sm = statistics.median(f["median_ms"] for f in stock)
        sp = statistics.median(f["p95_ms"] for f in stock)
        self.row("glass-to-glass, 640x480 VP8, latency=50: median / p95",
                 f"{om:.0f} / {op:.0f} ms", f"{sm:.0f} / {sp:.0f} ms",
                 f"{om / sm:.2f}×", "≤ 80 ms median")

    def memory(self):
        srv, url = self.server()
        rec, _, _ = self.recorder(url)
        calls = self.args.memory_calls
        try:
            text = self.run("memory", [
                PY, f"{HERE}/bench-calls.py", "--server", url, "--token",
                "alice", "--number", "bob", "--calls", str(calls),
                "--talk", "0.3", "--gap", "0.2", "--every", "100",
                "--timeout", str(calls * 5 + 60)], calls * 5 + 120)
        finally:
            self.stop(rec)
            self.stop(srv)
        f = fields(text, "ours-setup:")
        # bench-calls.py: "bench: N calls, ...; from call 2 to call N: ..."
        m = re.search(r"from call 2 to call \d+: threads (\d+) -> "
                      r"(\d+), fds (\d+) -> (\d+), RSS ([\d.]+) -> "
                      r"([\d.]+) MiB", text)
        self.row(f"{calls} sequential calls: RSS, threads, fds from call 2 "
                 "to the last", f"RSS {m.group(5)} → {m.group(6)} MiB "
                 f"({f['rss_kib_per_call']:.1f} KiB per call in the second "
                 f"half), threads {m.group(1)} → {m.group(2)}, fds "
                 f"{m.group(3)} → {m.group(4)}", "", "", "flat")

    def table(self):
        machine = (f"{platform.node()}: {cpu_model()}, {os.cpu_count()} "
                   f"cores, Linux {platform.release()}, "
                   f"{gst_version()}; {time.strftime('%Y-%m-%d')}")
        log("")
        log(f"Machine: {machine}")
        log("")
        log("| figure | ours | baseline | ratio | goal |")
        log("|---|---|---|---|---|")
        for r in self.rows:
            log("| " + " | ".join(r) + " |")

    def cleanup(self):
        for p in list(self.procs):
            self.stop(p)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
    return m.group(1) if m else platform.machine()


def gst_version():
    out = subprocess.run(["gst-launch-1.0", "--version"],
                         stdout=subprocess.PIPE, text=True).stdout
    m = re.search(r"GStreamer ([\d.]+)", out)
    return f"GStreamer {m.group(1)}" if m else "GStreamer"


SECTIONS = ["setup", "first", "concurrency", "record", "glass", "memory"]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[5:22]))
    parser.add_argument("sections", nargs="*", metavar="SECTION")
    parser.add_argument("--build", default=os.path.join(TOP, "build"))
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternating rounds of ours and the baseline")
    parser.add_argument("--setup-calls", type=int, default=10)
    parser.add_argument("--first-runs", type=int, default=5)
    parser.add_argument("--concurrency", default="1,10,40,100")
    parser.add_argument("--record", default="10,40,100")
    parser.add_argument("--record-seconds", type=int, default=12)
    parser.add_argument("--memory-calls", type=int, default=1000)
    args = parser.parse_args()
    for name in args.sections:
        if name not in SECTIONS:
            parser.error(f"no section {name!r}: one of {', '.join(SECTIONS)}")
    args.concurrency = [int(n) for n in args.concurrency.split(",")]
    args.record = [int(n) for n in args.record.split(",")]
    bench = Bench(args)
    failed = []
    try:
        for name in args.sections or SECTIONS:
            log(f"== {name}")
            try:
                getattr(bench, name)()
            except (Failed, KeyError, TypeError, AttributeError) as e:
                failed.append(name)
                bench.row(f"{name}: could not be measured", str(e)
                          .splitlines()[0][:200])
            bench.cleanup()
    finally:
        bench.cleanup()
    bench.table()
    if failed:
        log(f"bench: sections that could not be measured: "
            f"{', '.join(failed)} (outputs in {bench.tmp})")
        sys.exit(1)
    log(f"bench: outputs in {bench.tmp}")


if __name__ == "__main__":
    main()
