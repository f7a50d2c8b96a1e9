#!/usr/bin/python3
"""Places N calls in a row from one webrtccall bin, in one process, and
prints what each call cost: setup time, and the process's threads, file
descriptors and resident memory once the call is over.

    bench-calls.py --server URL --token alice --number bob [--calls 10]
    bench-calls.py --server URL --token-file FILE --number bob ...

A benchmark, not a test: it measures and prints. The far end must answer
(e.g. pipelines/record-calls.py). scripts/bench.sh runs it in a network
namespace (its warm setup and memory sections), scripts/soak.sh too. Its
last line, for them:

    ours-setup: calls=N median_ms=.. min_ms=.. max_ms=.. first_ms=.. rss_kib_per_call=..

(the median, min and max from call 2: the first is reported apart;
rss_kib_per_call: the growth from the middle call to the last, per call)
"""
import argparse
import os
import statistics
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def resources():
    pid = os.getpid()
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    threads = len(os.listdir(f"/proc/{pid}/task"))
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f
                   if line.startswith("VmRSS:"))
    return threads, fds, rss


class Bench:
    def __init__(self, args, token_file):
        self.args = args
        self.loop = GLib.MainLoop()
        self.pipeline = Gst.parse_launch(
            f"webrtccall name=call location={args.server} "
            f"token-file={token_file} "
            "videotestsrc is-live=true ! video/x-raw,format=I420,width=640,"
            "height=480,framerate=30/1 ! call.video_sink "
            "audiotestsrc is-live=true ! audio/x-raw,format=S16LE,rate=48000,"
            "channels=1 ! call.audio_sink")
        self.call = self.pipeline.get_by_name("call")
        self.call.connect("pad-added", self.on_pad_added)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)
        self.done = 0
        self.setups = []
        self.rows = []
        self.baseline = None
        self.failed = None

    def on_pad_added(self, element, pad):
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("async", False)
        self.pipeline.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))

    def dial(self):
        self.t0 = time.monotonic()
        self.call.emit("dial", self.args.number)
        return False

    def hangup(self):
        self.call.emit("hangup")
        return False

    def on_message(self, bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, _ = msg.parse_error()
            self.failed = err.message
            self.loop.quit()
        if msg.type != Gst.MessageType.ELEMENT:
            return
        s = msg.get_structure()
        if s.get_name() != "webrtccall-state":
            return
        state = s.get_string("state")
        if state == "registered" and self.done == 0 and not self.setups:
            GLib.timeout_add(500, self.dial)
        elif state == "connected" and len(self.setups) == self.done:
            self.setups.append((time.monotonic() - self.t0) * 1000)
            GLib.timeout_add(int(self.args.talk * 1000), self.hangup)
        elif state == "ended":
            code = s.get_value("code")
            if code not in (200,):
                self.failed = f"call {self.done + 1} ended with {code}"
                self.loop.quit()
                return
            GLib.timeout_add(int(self.args.gap * 1000), self.after_call)

    def after_call(self):
        self.done += 1
        threads, fds, rss = resources()
        # the first call loads plugins and makes caches: measure from call 2
        if self.done == 2:
            self.baseline = (threads, fds, rss)
        self.rows.append((self.done, self.setups[-1], threads, fds, rss))
        if self.done % self.args.every == 0 or self.done == 1:
            print(f"call {self.done:4d}: setup {self.setups[-1]:6.0f} ms, "
                  f"after: {threads} threads, {fds} fds, "
                  f"{rss / 1024:.1f} MiB", flush=True)
        if self.done >= self.args.calls:
            self.loop.quit()
        else:
            self.dial()
        return False

    def run(self):
        self.pipeline.set_state(Gst.State.PLAYING)
        GLib.timeout_add_seconds(self.args.timeout, self.loop.quit)
        self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)
        if self.failed or self.done < 3:
            print(f"bench: failed after {self.done} calls: {self.failed}")
            return 1
        t0, f0, r0 = self.baseline
        _, _, t1, f1, r1 = self.rows[-1]
        n = self.done - 2
        print(f"bench: {self.done} calls, setup median "
              f"{statistics.median(self.setups):.0f} ms "
              f"(min {min(self.setups):.0f}, max {max(self.setups):.0f}); "
              f"from call 2 to call {self.done}: threads {t0} -> {t1}, "
              f"fds {f0} -> {f1}, RSS {r0 / 1024:.1f} -> {r1 / 1024:.1f} MiB "
              f"({(r1 - r0) / n:.0f} KiB per call)")
        growth = 0
        if self.done >= 4:
            # the second half: a plateau or a leak
            half = self.rows[self.done // 2 - 1]
            growth = (r1 - half[4]) / (self.done - half[0])
            print(f"bench: from call {half[0]} to call {self.done}: "
                  f"threads {half[2]} -> {t1}, fds {half[3]} -> {f1}, "
                  f"RSS {half[4] / 1024:.1f} -> {r1 / 1024:.1f} MiB "
                  f"({(r1 - half[4]) / 1024:+.1f} MiB)")
        warm = self.setups[1:]
        print(f"ours-setup: calls={self.done} "
              f"median_ms={statistics.median(warm):.0f} "
              f"min_ms={min(warm):.0f} max_ms={max(warm):.0f} "
              f"first_ms={self.setups[0]:.0f} "
              f"rss_kib_per_call={growth:.1f} threads={t1} fds={f1} "
              f"rss_kib={r1}", flush=True)
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--token", help="the token itself (test servers)")
    who.add_argument("--token-file", help="a file holding it")
    parser.add_argument("--number", required=True)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--talk", type=float, default=2,
                        help="seconds each call stays connected")
    parser.add_argument("--gap", type=float, default=1,
                        help="seconds between a call's end and the next")
    parser.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--every", type=int, default=1,
                        help="print a row every N calls")
    args = parser.parse_args()

    Gst.init(None)
    if args.token_file:
        sys.exit(Bench(args, args.token_file).run())
    token_file = f"/tmp/bench-{os.getpid()}.token"
    with open(token_file, "w") as f:
        f.write(args.token)
    try:
        sys.exit(Bench(args, token_file).run())
    finally:
        os.unlink(token_file)


if __name__ == "__main__":
    main()
