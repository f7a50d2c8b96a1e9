#!/usr/bin/python3
"""Glass-to-glass latency of a video call: from the moment a frame leaves
the camera to the moment the far end renders it, decoded. 640x480 VP8 at
30 fps (both ways, with Opus audio, as in a call), jitterbuffer latency
50 ms, both ends in this process.

    netns.sh glass-to-glass.py --server-binary PATH [--seconds 10]
    netns.sh glass-to-glass.py --stock [--seconds 10]

The caller's camera is a live videotestsrc that turns from black to white
and back every --period ms (its pattern property). Capture: the time the
first frame of a new colour leaves the source (a probe on its pad).
Glass: the time the far end's fakesink (sync=true, as a display sink)
renders the first decoded frame of that colour (its handoff, after the
clock wait). Each colour change seen at both ends is one sample; the
period is far longer than the latency, so the pairs cannot be mistaken.

Default: two webrtccall bins, alice calling bob (auto-answer=true), through
the reference server (--server-binary). --stock: two stock webrtcbins with
direct in-process signaling and the bin's media (stock-calls.py's Peer).

Its last line, for bench.py:

    glass-to-glass: frames=N median_ms=.. p95_ms=.. min_ms=.. max_ms=..

A benchmark, not a test: it prints; it exits 1 when the call did not
connect or too few colour changes came through.
"""
import argparse
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import GLib, Gst, GstVideo  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "10.99.0.1"
WIDTH, HEIGHT = 640, 480
BLACK, WHITE = 2, 3  # videotestsrc's patterns
CAMERA = (f"videotestsrc name=camera is-live=true pattern={BLACK} ! "
          f"video/x-raw,format=I420,width={WIDTH},height={HEIGHT},"
          "framerate=30/1")
AUDIO = ("audiotestsrc is-live=true wave=silence ! audio/x-raw,"
         "format=S16LE,rate=48000,channels=1")
GLASS = ("videoconvert ! video/x-raw,format=I420 ! "
         "fakesink name=sink sync=true signal-handoffs=true")


def load_stock():
    spec = importlib.util.spec_from_file_location(
        "stock_calls", os.path.join(HERE, "stock-calls.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Glass:
    """The colour changes seen at the camera and at the far end's sink
    (streaming threads), and the toggling of the camera (main thread)"""

    def __init__(self, period):
        self.period = period
        self.lock = threading.Lock()
        self.captured, self.rendered = [], []
        self.colour = {}  # "captured"/"rendered": the last colour seen
        self.camera = None
        self.toggling = False

    def note(self, where, white):
        now = time.monotonic()
        with self.lock:
            if self.colour.get(where) == white:
                return
            first = where not in self.colour
            self.colour[where] = white
            if self.toggling and not first:
                getattr(self, where).append((now, white))

    def watch_camera(self, camera):
        self.camera = camera
        centre = (HEIGHT // 2) * WIDTH + WIDTH // 2  # I420, no padding

        def probe(pad, info):
            luma = info.get_buffer().extract_dup(centre, 1)[0]
            self.note("captured", luma > 128)
            return Gst.PadProbeReturn.OK
        camera.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, probe)

    def watch_sink(self, sink):
        where = {}

        def handoff(sink, buf, pad):
            if "offset" not in where:
                info = GstVideo.VideoInfo.new_from_caps(pad.get_current_caps())
                where["offset"] = (info.offset[0] + (HEIGHT // 2) *
                                   info.stride[0] + WIDTH // 2)
            meta = GstVideo.buffer_get_video_meta(buf)
            offset = where["offset"] if meta is None else (
                meta.offset[0] + (HEIGHT // 2) * meta.stride[0] + WIDTH // 2)
            self.note("rendered", buf.extract_dup(offset, 1)[0] > 128)
        sink.connect("handoff", handoff)

    def start(self):
        """Toggles the camera's colour every period from now on"""
        with self.lock:
            self.toggling = True
        GLib.timeout_add(self.period, self.toggle)

    def toggle(self):
        if not self.toggling:
            return False
        pattern = self.camera.get_property("pattern")
        self.camera.set_property(
            "pattern", WHITE if int(pattern) == BLACK else BLACK)
        return True

    def stop(self):
        with self.lock:
            self.toggling = False

    def samples(self):
        """Each rendered change against the last captured one of its colour
        before it, in ms"""
        out = []
        with self.lock:
            for t, white in self.rendered:
                before = [c for c, w in self.captured if w == white and c <= t]
                if before:
                    out.append((t - before[-1]) * 1000)
        return out


def run_loop(done, seconds):
    ctx, deadline = GLib.MainContext.default(), time.monotonic() + seconds
    tick = GLib.timeout_add(20, lambda: True)
    while not done() and time.monotonic() < deadline:
        ctx.iteration(True)
    GLib.source_remove(tick)
    return done()


class OurEnd:
    """A pipeline of one webrtccall bin sending the camera (or a plain
    source) and audio; its remote video ends in GLASS"""

    def __init__(self, url, user, glass, camera, extra=""):
        self.token = f"/tmp/glass-{os.getpid()}-{user}.token"
        with open(self.token, "w") as f:
            f.write(user)
        video = CAMERA if camera else CAMERA.replace("name=camera ", "")
        self.pipeline = Gst.parse_launch(
            f"webrtccall name=call location={url} token-file={self.token} "
            f"latency=50 {extra} {video} ! call.video_sink "
            f"{AUDIO} ! call.audio_sink")
        self.call = self.pipeline.get_by_name("call")
        self.glass, self.camera, self.states, self.errors = \
            glass, camera, [], []
        self.call.connect("pad-added", self.on_pad)
        if camera:
            glass.watch_camera(self.pipeline.get_by_name("camera"))
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)
        self.pipeline.set_state(Gst.State.PLAYING)

    def on_pad(self, call, pad):
        video = pad.get_name().startswith("video")
        out = Gst.parse_bin_from_description(
            GLASS if video else "fakesink sync=true", True)
        self.pipeline.add(out)
        out.sync_state_with_parent()
        if video and not self.camera:  # the far end of the camera
            self.glass.watch_sink(out.get_by_name("sink"))
        pad.link(out.get_static_pad("sink"))

    def on_message(self, bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            self.errors.append(msg.parse_error()[0].message)
        elif msg.type == Gst.MessageType.ELEMENT and \
                msg.get_structure().get_name() == "webrtccall-state":
            self.states.append(msg.get_structure().get_string("state"))

    def close(self):
        self.pipeline.set_state(Gst.State.NULL)
        os.unlink(self.token)


def measure_ours(args, glass):
    server = subprocess.Popen(
        [args.server_binary, "--port", "0", "--host", HOST, "--lines", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = None
        for line in server.stdout:
            m = re.match(r"listening (\S+)", line)
            if m:
                url = m.group(1)
                break
        if url is None:
            sys.exit("glass-to-glass: the reference server did not start")
        callee = OurEnd(url, "bob", glass, False, "auto-answer=true")
        caller = OurEnd(url, "alice", glass, True)
        ends = (caller, callee)
        if not run_loop(lambda: all("registered" in e.states for e in ends)
                        or any(e.errors for e in ends), 20):
            return f"not registered: {[e.states + e.errors for e in ends]}"
        caller.call.emit("dial", "bob")
        if not run_loop(lambda: "connected" in callee.states and
                        "rendered" in glass.colour or
                        any(e.errors for e in ends), 20):
            return f"not connected: {[e.states + e.errors for e in ends]}"
        hold(args, glass)
        caller.call.emit("hangup")
        run_loop(lambda: "ended" in caller.states, 5)
        for end in ends:
            end.close()
    finally:
        server.terminate()
        server.wait()
    return None


def measure_stock(args, glass):
    stock = load_stock()
    args.video, args.latency = True, 50

    class Camera(stock.Peer):
        SENDS = [stock.AUDIO_SEND,
                 f"{CAMERA} ! {stock.VIDEO_ENCODE}"]

    class Far(stock.Peer):
        SENDS = [stock.AUDIO_SEND, stock.VIDEO_SEND]

        def output(self, name):
            tail = GLASS if name == "VP8" else "fakesink name=sink sync=true"
            out = Gst.parse_bin_from_description(
                f"{stock.RECEIVE[name]} ! {tail}", True)
            if name == "VP8":
                glass.watch_sink(out.get_by_name("sink"))
            return out

    side = stock.in_process_call(args, Camera, Far)
    caller = side["offerer"]
    glass.watch_camera(caller.pipeline.get_by_name("camera"))
    caller.dial()
    if not run_loop(lambda: "rendered" in glass.colour or caller.errors, 20):
        return f"not connected: {caller.status()}"
    hold(args, glass)
    for peer in side.values():
        peer.close()
    return None


def hold(args, glass):
    """A second for the call to settle, then the colour changes"""
    run_loop(lambda: False, 1)
    glass.start()
    run_loop(lambda: False, args.seconds)
    glass.stop()
    run_loop(lambda: False, 0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stock", action="store_true")
    parser.add_argument("--server-binary")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--period", type=int, default=400,
                        help="ms between colour changes")
    args = parser.parse_args()
    if not args.stock and not args.server_binary:
        parser.error("--server-binary PATH (or --stock)")
    Gst.init(None)
    glass = Glass(args.period)
    failure = (measure_stock if args.stock else measure_ours)(args, glass)
    if failure:
        sys.exit(f"glass-to-glass: {failure}")
    samples = glass.samples()
    changes = len(glass.captured)
    print(f"{'stock webrtcbin' if args.stock else 'webrtccall'}: "
          f"{changes} colour changes captured, {len(samples)} rendered, "
          "latencies in order: " + " ".join(f"{s:.0f}" for s in samples) +
          " ms", flush=True)
    samples.sort()
    if len(samples) < max(5, changes // 2):
        sys.exit("glass-to-glass: too few colour changes came through")
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(f"glass-to-glass: frames={len(samples)} "
          f"median_ms={statistics.median(samples):.0f} p95_ms={p95:.0f} "
          f"min_ms={samples[0]:.0f} max_ms={samples[-1]:.0f}")


if __name__ == "__main__":
    main()
