#!/usr/bin/python3
"""N concurrent calls between two processes through the reference server:
setup, and what each call costs in CPU, threads, fds and memory.

    concurrent-calls.py --server-binary PATH --calls N [--hold 10] [--video]

A caller process with N webrtccall bins in one pipeline (one signaling
session: their settings are equal) and an answerer process (this script,
--answer) with N bins, auto-answer=true; the server runs with --lines N.
Opus audio both ways (--video adds 320x240 VP8). Once every bin is
registered, a warm-up call is made and ended, both processes note their
threads, fds and RSS, then all N dial at once; once all are connected the
calls are held --hold s, over which both measure their CPU. Per call: the
rise from before the calls to the end of the hold (as stock-calls.py
measures it: threads that only set a call up are gone), divided by N.
Last line:

    ours-concurrent: calls=N connected=C setup_median_ms=.. setup_max_ms=..
        cpu_pct_per_call_caller=.. cpu_pct_per_call_answerer=..
        threads_per_call=.. fds_per_call=.. rss_kib_per_call=..

Run it in a network namespace (tests/e2e/netns.sh); bench.py does.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def resources():
    pid = os.getpid()
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f
                   if line.startswith("VmRSS:"))
    return {"cpu": (int(parts[11]) + int(parts[12])) / TICKS,
            "time": time.monotonic(),
            "threads": len(os.listdir(f"/proc/{pid}/task")),
            "fds": len(os.listdir(f"/proc/{pid}/fd")), "rss": rss}


def per_call(before, during, after, n):
    cpu = (after["cpu"] - during["cpu"]) / (after["time"] - during["time"])
    return {"cpu_pct_per_call": cpu * 100 / n,
            "threads": (before["threads"], after["threads"]),
            "threads_per_call": (after["threads"] - before["threads"]) / n,
            "fds_per_call": (after["fds"] - before["fds"]) / n,
            "rss_kib_per_call": (after["rss"] - before["rss"]) / n}


class Side:
    """N bins of one account in one pipeline."""

    def __init__(self, args, token, answer):
        self.args = args
        self.n = args.calls
        token_file = f"/tmp/concurrent-{os.getpid()}.token"
        with open(token_file, "w") as f:
            f.write(token)
        self.token_file = token_file
        desc = ""
        for i in range(self.n):
            desc += (f" webrtccall name=c{i} location={args.server} "
                     f"token-file={token_file} auto-answer={answer} "
                     "audiotestsrc is-live=true ! audio/x-raw,format=S16LE,"
                     f"rate=48000,channels=1 ! c{i}.audio_sink")
            if args.video:
                desc += (" videotestsrc is-live=true ! video/x-raw,"
                         "format=I420,width=320,height=240,framerate=30/1 ! "
                         f"c{i}.video_sink")
        self.pipeline = Gst.parse_launch(desc)
        self.bins = [self.pipeline.get_by_name(f"c{i}")
                     for i in range(self.n)]
        for b in self.bins:
            b.connect("pad-added", self.on_pad_added)
        self.index = {b: i for i, b in enumerate(self.bins)}
        self.states = [[] for _ in range(self.n)]
        self.loop = GLib.MainLoop()
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)
        self.waiting = None     # (predicate, then)

    def on_pad_added(self, element, pad):
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("async", False)
        self.pipeline.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))

    def on_message(self, bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            sys.exit(f"concurrent-calls: {msg.src.get_name()}: "
                     f"{msg.parse_error()[0].message}")
        if msg.type == Gst.MessageType.WARNING:
            # stderr: the answerer's stdout answers the caller
            print(f"warning {msg.src.get_name()}: "
                  f"{msg.parse_warning()[0].message}", file=sys.stderr,
                  flush=True)
            return
        if msg.type != Gst.MessageType.ELEMENT or msg.src not in self.index:
            return
        s = msg.get_structure()
        if s.get_name() != "webrtccall-state":
            return
        self.states[self.index[msg.src]].append(
            (s.get_string("state"), time.monotonic()))
        self.check()

    def check(self):
        if self.waiting and self.waiting[0]():
            then = self.waiting[1]
            self.waiting = None
            then()

    def when(self, predicate, then):
        self.waiting = (predicate, then)
        GLib.idle_add(lambda: self.check() and False)

    def count(self, state, since):
        return sum(1 for st in self.states
                   if any(s == state and t >= since for s, t in st))

    def last(self, i):
        return self.states[i][-1][0] if self.states[i] else "none"


def run_answerer(args):
    side = Side(args, "bob", "true")
    side.pipeline.set_state(Gst.State.PLAYING)
    before = {}

    def command(channel, condition):
        line = sys.stdin.readline()
        if not line:
            side.loop.quit()
            return False
        cmd = line.strip()
        if cmd == "before":
            before.update(resources())
            print(json.dumps({"ok": True}), flush=True)
        elif cmd == "during":
            before["during"] = resources()
            print(json.dumps({"ok": True}), flush=True)
        elif cmd == "after":
            r = per_call(before, before["during"], resources(), args.calls)
            print(json.dumps(r), flush=True)
        elif cmd == "quit":
            side.loop.quit()
            return False
        return True

    GLib.io_add_watch(GLib.IOChannel.unix_new(0), GLib.IO_IN, command)
    print(json.dumps({"ready": True}), flush=True)
    side.loop.run()
    side.pipeline.set_state(Gst.State.NULL)
    os.unlink(side.token_file)


def ask(answerer, cmd):
    answerer.stdin.write(cmd + "\n")
    answerer.stdin.flush()
    return json.loads(answerer.stdout.readline())


def run_caller(args, answerer):
    side = Side(args, "alice", "false")
    side.pipeline.set_state(Gst.State.PLAYING)
    n = args.calls
    result = {}
    marks = {}

    def give_up():
        missing = [f"{i} ({side.last(i)})" for i in range(n)
                   if side.count("connected", marks.get("dial", 0)) < n
                   and not any(s == "connected" and t >= marks.get("dial", 0)
                               for s, t in side.states[i])]
        result["failed"] = f"not connected in time: {', '.join(missing)}"
        side.loop.quit()
        return False

    def registered():
        # a warm-up call on bin 0: plugins, the DTLS certificate
        marks["warm"] = time.monotonic()
        side.bins[0].emit("dial", "bob")
        side.when(lambda: side.count("connected", marks["warm"]) >= 1,
                  warm_connected)

    def warm_connected():
        side.bins[0].emit("hangup")
        side.when(lambda: side.count("registered", marks["warm"]) >= 1,
                  lambda: GLib.timeout_add(1500, dial_all))

    def dial_all():
        marks["before"] = resources()
        ask(answerer, "before")
        marks["dial"] = time.monotonic()
        for b in side.bins:
            b.emit("dial", "bob")
        GLib.timeout_add_seconds(args.timeout, give_up)
        side.when(lambda: side.count("connected", marks["dial"]) >= n,
                  all_connected)
        return False

    def all_connected():
        GLib.timeout_add(1000, hold)

    def hold():
        marks["during"] = resources()
        ask(answerer, "during")
        GLib.timeout_add(int(args.hold * 1000), held)
        return False

    def held():
        result["caller"] = per_call(marks["before"], marks["during"],
                                    resources(), n)
        result["answerer"] = ask(answerer, "after")
        side.loop.quit()
        return False

    side.when(lambda: side.count("registered", 0) >= n, registered)
    side.loop.run()
    setups = []
    for st in side.states:
        calling = next((t for s, t in st if s == "calling"
                        and t >= marks.get("dial", 1e18)), None)
        connected = next((t for s, t in st if s == "connected"
                          and t >= marks.get("dial", 1e18)), None)
        if calling and connected:
            setups.append((connected - marks["dial"]) * 1000)
    for b in side.bins:
        b.emit("hangup")
    time.sleep(1)
    side.pipeline.set_state(Gst.State.NULL)
    os.unlink(side.token_file)
    return result, setups


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-binary", default="signaling-server")
    parser.add_argument("--server", help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--hold", type=float, default=10)
    parser.add_argument("--video", action="store_true")
    parser.add_argument("--timeout", type=int, default=120)
    parser.add_argument("--answer", action="store_true",
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    Gst.init(None)
    if args.answer:
        run_answerer(args)
        return

    # WTSP_BENCH_SERVER_LOG=FILE keeps the server's log, to see why a
    # call did not connect
    log = os.environ.get("WTSP_BENCH_SERVER_LOG")
    server_err = open(log, "w") if log else subprocess.DEVNULL
    server = subprocess.Popen(
        [args.server_binary, "--port", "0", "--host", "10.99.0.1",
         "--lines", str(args.calls)], stdout=subprocess.PIPE,
        stderr=server_err, text=True)
    m = re.match(r"listening (\S+)", server.stdout.readline())
    if not m:
        sys.exit("concurrent-calls: the server did not start")
    args.server = m.group(1)
    cmd = [sys.executable, os.path.abspath(__file__), "--answer", "--server",
           args.server, "--calls", str(args.calls)]
    if args.video:
        cmd.append("--video")
    answerer = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
    try:
        json.loads(answerer.stdout.readline())
        result, setups = run_caller(args, answerer)
        answerer.stdin.write("quit\n")
        answerer.stdin.flush()
        answerer.wait(120)
    finally:
        if answerer.poll() is None:
            answerer.kill()
        server.terminate()
        server.wait()
    n = args.calls
    if "caller" not in result:
        print(f"concurrent-calls: {len(setups)} of {n} connected; "
              f"{result.get('failed', '')}")
        print(f"ours-concurrent: calls={n} connected={len(setups)}")
        sys.exit(1)
    c, a = result["caller"], result["answerer"]
    for name, side in (("caller", c), ("answerer", a)):
        print(f"{name}: threads {side['threads'][0]} -> {side['threads'][1]}"
              f" ({side['threads_per_call']:.1f}/call), fds/call "
              f"{side['fds_per_call']:.1f}, RSS/call "
              f"{side['rss_kib_per_call']:.0f} KiB")
    print(f"ours-concurrent: calls={n} connected={len(setups)} "
          f"setup_median_ms={statistics.median(setups):.0f} "
          f"setup_max_ms={max(setups):.0f} "
          f"cpu_pct_per_call_caller={c['cpu_pct_per_call']:.2f} "
          f"cpu_pct_per_call_answerer={a['cpu_pct_per_call']:.2f} "
          f"threads_per_call={c['threads_per_call']:.1f} "
          f"fds_per_call={c['fds_per_call']:.1f} "
          f"rss_kib_per_call={c['rss_kib_per_call']:.0f}", flush=True)
    sys.exit(0 if len(setups) == n else 1)


if __name__ == "__main__":
    main()
