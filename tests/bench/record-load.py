#!/usr/bin/python3
"""Load for a recording server: M concurrent calls from one process, fed
from a pre-encoded file, so that the generator spends nothing on
encoding.

    record-load.py --server URL --token alice --number bob --calls M \\
        [--seconds S] [--video] [--input FILE]

M webrtccall bins in one pipeline (one signaling session: the server
needs --lines M), each reading FILE (made once if it is missing: Opus
audio, VP8 video with --video, one keyframe a second) through its own
demuxer, paced by the clock, into the bin's encoded inputs. All dial at
once, stay S seconds from the last one connected, then hang up.
Prints one line per call and a summary:

    record-load: calls=M connected=C setup_median_ms=.. setup_max_ms=..

Exit code 1 if not every call connected. Used by scripts/bench.sh (the
recording server section) and tests/e2e/record-calls.sh.
"""
import argparse
import os
import statistics
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

# The bin's own encoder settings (gst/webrtccall-codecs.c), with a
# keyframe a second so that a call starting mid-file soon has a picture
AUDIO_ENC = ("audiotestsrc num-buffers={n} samplesperbuffer=960 freq=440 ! "
             "audio/x-raw,format=S16LE,rate=48000,channels=1 ! "
             "opusenc bitrate=32000 frame-size=20 ! mux.")
VIDEO_ENC = ("videotestsrc num-buffers={n} pattern=ball ! "
             "video/x-raw,format=I420,width=640,height=480,framerate=30/1 ! "
             "vp8enc deadline=1 cpu-used=8 threads=1 end-usage=cbr "
             "target-bitrate=1000000 keyframe-max-dist=30 lag-in-frames=0 ! "
             "mux.")


def make_input(path, seconds, video):
    """Encodes the input once: seconds of Opus (and VP8) in Matroska."""
    desc = (f"matroskamux name=mux ! filesink location={path}.part "
            + AUDIO_ENC.format(n=seconds * 50))
    if video:
        desc += " " + VIDEO_ENC.format(n=seconds * 30)
    pipeline = Gst.parse_launch(desc)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(
        Gst.CLOCK_TIME_NONE, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if msg.type == Gst.MessageType.ERROR:
        sys.exit(f"record-load: could not make {path}: "
                 f"{msg.parse_error()[0].message}")
    os.rename(path + ".part", path)


class Load:
    def __init__(self, args, token_file):
        self.args = args
        self.loop = GLib.MainLoop()
        self.pipeline = Gst.Pipeline.new("load")
        self.calls = []
        for i in range(args.calls):
            desc = (f"webrtccall name=call{i} location={args.server} "
                    f"token-file={token_file} "
                    f"filesrc location={args.input} ! matroskademux name=d{i} "
                    f"d{i}.audio_0 ! queue ! identity sync=true ! "
                    f"call{i}.audio_sink")
            if args.video:
                desc += (f" d{i}.video_0 ! queue ! identity sync=true ! "
                         f"call{i}.video_sink")
            part = Gst.parse_bin_from_description(desc, False)
            self.pipeline.add(part)
            call = part.get_by_name(f"call{i}")
            call.connect("pad-added", self.on_pad_added)
            self.calls.append({"bin": call, "index": i, "dialled": None,
                               "connected": None, "ended": None,
                               "last": None})
        self.by_bin = {c["bin"]: c for c in self.calls}
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)
        self.registered = 0
        self.failed = None
        self.hold_timer = None

    # A streaming thread: the far end's media, to a fakesink at once
    def on_pad_added(self, element, pad):
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("async", False)
        self.pipeline.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))

    def on_message(self, bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            self.failed = f"{msg.src.get_name()}: {err.message} ({debug})"
            self.loop.quit()
            return
        if msg.type == Gst.MessageType.WARNING:
            err, _ = msg.parse_warning()
            print(f"warning: {msg.src.get_name()}: {err.message}",
                  file=sys.stderr, flush=True)
            return
        if msg.type != Gst.MessageType.ELEMENT:
            return
        s = msg.get_structure()
        c = self.by_bin.get(msg.src)
        if s.get_name() != "webrtccall-state" or c is None:
            return
        state = s.get_string("state")
        c["last"] = state
        now = time.monotonic()
        if state == "registered" and c["dialled"] is None:
            self.registered += 1
            if self.registered == len(self.calls):
                for d in self.calls:
                    d["dialled"] = time.monotonic()
                    d["bin"].emit("dial", self.args.number)
        elif state == "connected" and c["connected"] is None:
            c["connected"] = now
            print(f"call {c['index']:3d}: connected in "
                  f"{(now - c['dialled']) * 1000:.0f} ms", flush=True)
            if all(d["connected"] for d in self.calls):
                self.hold_timer = GLib.timeout_add(
                    int(self.args.seconds * 1000), self.hang_up)
        elif state == "ended" and c["ended"] is None:
            c["ended"] = (s.get_value("code"), s.get_string("reason"))
            if c["connected"] is None:
                self.failed = (f"call {c['index']} ended before it connected:"
                               f" {c['ended'][0]} {c['ended'][1]}")
                self.loop.quit()
            elif all(d["ended"] for d in self.calls):
                self.loop.quit()

    def hang_up(self):
        for c in self.calls:
            c["bin"].emit("hangup")
        return False

    def give_up(self):
        if not self.failed:
            waiting = [f"{c['index']} ({c['last']})" for c in self.calls
                       if c["connected"] is None]
            self.failed = (f"timed out; not connected: "
                           f"{', '.join(waiting) or 'none'}")
        self.loop.quit()
        return False

    def run(self):
        self.pipeline.set_state(Gst.State.PLAYING)
        GLib.timeout_add_seconds(self.args.timeout, self.give_up)
        self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)
        setups = [(c["connected"] - c["dialled"]) * 1000 for c in self.calls
                  if c["connected"]]
        print(f"record-load: calls={len(self.calls)} connected={len(setups)}"
              f" setup_median_ms="
              f"{statistics.median(setups) if setups else 0:.0f}"
              f" setup_max_ms={max(setups) if setups else 0:.0f}",
              flush=True)
        if self.failed:
            print(f"record-load: failed: {self.failed}", flush=True)
            return 1
        return 0 if len(setups) == len(self.calls) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--number", required=True)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10,
                        help="how long the calls stay up, all connected")
    parser.add_argument("--video", action="store_true")
    parser.add_argument("--input", help="the pre-encoded input (made if "
                        "missing; default in /tmp, per kind)")
    parser.add_argument("--timeout", type=int, default=180)
    args = parser.parse_args()

    Gst.init(None)
    # long enough for the slowest call to start and last the whole time
    length = int(args.seconds + args.timeout)
    if args.input is None:
        args.input = (f"/tmp/record-load-{'av' if args.video else 'a'}-"
                      f"{length}s.mkv")
    if not os.path.exists(args.input):
        make_input(args.input, length, args.video)
    token_file = f"/tmp/record-load-{os.getpid()}.token"
    with open(token_file, "w") as f:
        f.write(args.token)
    try:
        sys.exit(Load(args, token_file).run())
    finally:
        os.unlink(token_file)


if __name__ == "__main__":
    main()
