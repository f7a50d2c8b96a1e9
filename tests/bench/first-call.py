#!/usr/bin/python3
"""The first call of a fresh process: how long from the process's start
to `connected`, and from the dial to `connected`, over N processes.

    first-call.py --server URL --token alice --number bob [--runs 5]

Each run starts a new Python process with one webrtccall bin whose
`number` is set, as a gst-launch line would (it dials once registered):
640x480 video and 48 kHz audio from test sources, the far end's media to
fakesinks. The process's start is taken before it is spawned; its states
come back with CLOCK_MONOTONIC times (system-wide). Prints a line per
run and:

    first-call: runs=N start_to_connected_median_ms=.. dial_to_connected_median_ms=..
        start_to_registered_median_ms=.. (min, max of each)

The far end must answer (pipelines/record-calls.py, say).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time


def child(args):
    """One fresh process: one call, its state times on stdout."""
    import gi

    gi.require_version("Gst", "1.0")
    from gi.repository import GLib, Gst

    Gst.init(None)
    print(f"t init {time.monotonic():.6f}", flush=True)
    token_file = f"/tmp/first-call-{os.getpid()}.token"
    with open(token_file, "w") as f:
        f.write(args.token)
    pipeline = Gst.parse_launch(
        f"webrtccall name=call location={args.server} "
        f"token-file={token_file} number={args.number} "
        "videotestsrc is-live=true ! video/x-raw,format=I420,width=640,"
        "height=480,framerate=30/1 ! call.video_sink "
        "audiotestsrc is-live=true ! audio/x-raw,format=S16LE,rate=48000,"
        "channels=1 ! call.audio_sink")
    loop = GLib.MainLoop()
    rc = [1]

    def on_pad_added(element, pad):
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("async", False)
        pipeline.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))

    def on_message(bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            print(f"error {msg.parse_error()[0].message}", flush=True)
            loop.quit()
        elif msg.type == Gst.MessageType.ELEMENT and \
                msg.get_structure().get_name() == "webrtccall-state":
            state = msg.get_structure().get_string("state")
            print(f"t {state} {time.monotonic():.6f}", flush=True)
            if state == "connected":
                rc[0] = 0
                call.emit("hangup")
            elif state == "ended":
                loop.quit()

    call = pipeline.get_by_name("call")
    call.connect("pad-added", on_pad_added)
    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.timeout_add_seconds(20, loop.quit)
    pipeline.set_state(Gst.State.PLAYING)
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    os.unlink(token_file)
    return rc[0]


def one_run(args):
    """Spawns one child. Returns: {event: ms since its start} or None"""
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child",
         "--server", args.server, "--token", args.token,
         "--number", args.number],
        stdout=subprocess.PIPE, text=True, timeout=60)
    times = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "t" and parts[1] not in times:
            times[parts[1]] = (float(parts[2]) - start) * 1000
        elif parts and parts[0] == "error":
            print(f"first-call: {line}", flush=True)
    if out.returncode != 0 or "connected" not in times:
        return None
    return times


def spread(values):
    return (f"{statistics.median(values):.0f} "
            f"({min(values):.0f}-{max(values):.0f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--number", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", action="store_true",
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.exit(child(args))

    rows = []
    for i in range(args.runs):
        t = one_run(args)
        if t is None:
            print(f"first-call: run {i + 1} did not connect")
            sys.exit(1)
        rows.append(t)
        print(f"run {i + 1}: Gst.init {t['init']:.0f} ms, registered "
              f"{t['registered']:.0f} ms, calling {t['calling']:.0f} ms, "
              f"connected {t['connected']:.0f} ms after the process "
              f"started (dial to connected "
              f"{t['connected'] - t['calling']:.0f} ms)", flush=True)
        time.sleep(1)
    start = [t["connected"] for t in rows]
    dial = [t["connected"] - t["calling"] for t in rows]
    reg = [t["registered"] for t in rows]
    print(f"first-call: runs={len(rows)} start_to_connected_median_ms="
          f"{statistics.median(start):.0f} dial_to_connected_median_ms="
          f"{statistics.median(dial):.0f} start_to_registered_median_ms="
          f"{statistics.median(reg):.0f}; start to connected {spread(start)},"
          f" dial to connected {spread(dial)}, start to registered "
          f"{spread(reg)}")


if __name__ == "__main__":
    main()
