#!/usr/bin/python3
"""Checks that recordings play: every stream of each file decodes, for
about the length of the call.

    record-check.py --seconds S [--video] FILE...

A file passes with at least S - 1 seconds of decoded audio (Opus or
G.711) and, with --video, a video stream with at least (S - 1) * 15
decoded frames. Prints one line per file and a summary; exit code 1 if
any file fails.
"""
import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def decode(path):
    """Decodes @path as fast as it goes. Returns: (audio seconds, video
    frames, error or None)"""
    pipeline = Gst.parse_launch(
        f"filesrc location={path} ! decodebin name=d")
    counts = {"audio": 0, "video": 0}

    def on_pad(dbin, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        kind = caps.get_structure(0).get_name().split("/")[0]
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)
        pipeline.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))

        def count(_pad, info):
            buf = info.get_buffer()
            if kind == "audio":
                counts["audio"] += buf.duration if \
                    buf.duration != Gst.CLOCK_TIME_NONE else 0
            elif kind == "video":
                counts["video"] += 1
            return Gst.PadProbeReturn.OK
        sink.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, count)

    pipeline.get_by_name("d").connect("pad-added", on_pad)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(
        30 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    error = None
    if msg is None:
        error = "no EOS within 30 s"
    elif msg.type == Gst.MessageType.ERROR:
        error = msg.parse_error()[0].message
    return counts["audio"] / Gst.SECOND, counts["video"], error


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--video", action="store_true")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    Gst.init(None)
    if not args.files:
        sys.exit("record-check: no files")
    bad = 0
    audio_min, video_min = None, None
    for path in args.files:
        audio, video, error = decode(path)
        problem = error
        if not problem and audio < args.seconds - 1:
            problem = f"only {audio:.1f} s of audio"
        if not problem and args.video and video < (args.seconds - 1) * 15:
            problem = f"only {video} video frames"
        print(f"{path}: audio {audio:.1f} s, video {video} frames"
              f"{': ' + problem if problem else ''}")
        bad += problem is not None
        audio_min = audio if audio_min is None else min(audio_min, audio)
        video_min = video if video_min is None else min(video_min, video)
    print(f"{len(args.files) - bad} of {len(args.files)} files play "
          f"(least: audio {audio_min:.1f} s, video {video_min} frames)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
