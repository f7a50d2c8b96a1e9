#!/usr/bin/python3
"""Answers every call and records each one to its own file.

    WTSP_SERVER=ws://127.0.0.1:8080/signaling/v1 WTSP_TOKEN=recorder \\
        pipelines/record-calls.py --dir recordings [--calls N]

Each call becomes DIR/<call-id>.mkv: the far end's video (VP8 or H264) and
audio (Opus, or G.711) as they came, without transcoding
(encoded-output=true). The webrtccall bin sends EOS on its pads when the
call ends; the file is then finished and its branch removed, and the bin
waits for the next call. Ctrl-C finishes the calls in progress first.

Calls are taken as they come, as many at once as the account has lines:
the recorder starts with one bin (claim-timeout, --claim-timeout MS,
default 5000); a call that finds
every bin busy is posted as webrtccall-unclaimed and waits, and the
recorder adds a bin with take-call set to it. A bin whose call ended
takes the next one.
"""
import argparse
import os
import signal
import sys
import tempfile
import threading

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


class Recorder:
    def __init__(self, args, token_file):
        self.args = args
        self.loop = GLib.MainLoop()
        self.token_file = token_file
        self.recorded = 0
        self.branches = {}  # call-id -> mux, filesink, path, queues
        # pad-added comes from the streaming threads of video and audio
        self.lock = threading.Lock()
        self.pipeline = Gst.Pipeline.new("recorder")
        self.bins = []
        self.add_bin(None)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

    # Main thread. The bins share one session (their settings are equal):
    # a later one finds it in the pipeline
    def add_bin(self, take_call):
        call = Gst.ElementFactory.make("webrtccall", f"call{len(self.bins)}")
        if call is None:
            sys.exit("webrtccall not found: set GST_PLUGIN_PATH to build/gst")
        call.set_property("location", self.args.server)
        call.set_property("token-file", self.token_file)
        call.set_property("auto-answer", True)
        call.set_property("encoded-output", True)
        call.set_property("claim-timeout", self.args.claim_timeout)
        if take_call:
            call.set_property("take-call", take_call)
        call.connect("pad-added", self.on_pad_added)
        call.connect("no-more-pads", self.on_no_more_pads)
        self.pipeline.add(call)
        self.bins.append(call)
        if take_call:
            call.sync_state_with_parent()
        return call

    def branch_for(self, call_id):
        if call_id in self.branches:
            return self.branches[call_id]
        path = os.path.join(self.args.dir, f"{call_id}.mkv")
        mux = Gst.ElementFactory.make("matroskamux")
        sink = Gst.ElementFactory.make("filesink")
        sink.set_property("location", path)
        self.pipeline.add(mux)
        self.pipeline.add(sink)
        mux.link(sink)
        # Removes the branch once the file has its EOS: written and closed
        sink.get_static_pad("sink").add_probe(
            Gst.PadProbeType.EVENT_DOWNSTREAM, self.on_sink_event, call_id)
        sink.sync_state_with_parent()
        mux.sync_state_with_parent()
        branch = {"mux": mux, "sink": sink, "path": path, "queues": []}
        self.branches[call_id] = branch
        print(f"recording call {call_id} to {path}", flush=True)
        return branch

    # Streaming thread: link at once, the data is already coming
    def on_pad_added(self, element, pad):
        call_id = element.get_property("call-id")
        kind = "video" if pad.get_name().startswith("video") else "audio"
        with self.lock:
            branch = self.branch_for(call_id)
        queue = Gst.ElementFactory.make("queue")
        self.pipeline.add(queue)
        queue.sync_state_with_parent()
        mux_pad = branch["mux"].request_pad_simple(f"{kind}_%u")
        src = queue.get_static_pad("src")
        src.link(mux_pad)
        # The muxer writes its header with the first buffer: hold buffers
        # until every stream of the call has its pad (no-more-pads)
        probe = src.add_probe(Gst.PadProbeType.BLOCK | Gst.PadProbeType.BUFFER,
                              lambda *_: Gst.PadProbeReturn.OK)
        with self.lock:
            branch["queues"].append(queue)
            branch.setdefault("blocks", []).append((src, probe))
        pad.link(queue.get_static_pad("sink"))

    def on_no_more_pads(self, element):
        call_id = element.get_property("call-id")
        with self.lock:
            branch = self.branches.get(call_id)
            blocks = branch.pop("blocks", []) if branch else []
        for src, probe in blocks:
            src.remove_probe(probe)

    def on_sink_event(self, pad, info, call_id):
        if info.get_event().type == Gst.EventType.EOS:
            GLib.idle_add(self.finish, call_id)
        return Gst.PadProbeReturn.OK

    def finish(self, call_id):
        with self.lock:
            branch = self.branches.pop(call_id, None)
        if branch is None:
            return False
        for element in branch["queues"] + [branch["mux"], branch["sink"]]:
            # locked first: the pipeline's own state changes meanwhile
            # (a new bin's, a new branch's) leave it alone
            element.set_locked_state(True)
            if element.set_state(Gst.State.NULL) == \
                    Gst.StateChangeReturn.FAILURE:
                print(f"warning: {element.get_name()} of {branch['path']} "
                      "did not stop", file=sys.stderr)
            self.pipeline.remove(element)
        self.recorded += 1
        print(f"finished {branch['path']} "
              f"({os.path.getsize(branch['path'])} bytes)", flush=True)
        if self.args.calls and self.recorded >= self.args.calls:
            self.loop.quit()
        return False

    def on_message(self, bus, msg):
        if msg.type == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s.get_name() == "webrtccall-unclaimed":
                # every bin is in a call: one more for this one
                print(f"call {s.get_string('call-id')} from "
                      f"{s.get_string('caller')}: a bin of its own "
                      f"({len(self.bins) + 1} bins)", flush=True)
                self.add_bin(s.get_string("call-id"))
            elif s.get_name() == "webrtccall-state":
                line = f"call state {s.get_string('state')}"
                for field in ("call-id", "caller", "code", "reason"):
                    if s.has_field(field):
                        line += f" {field}={s.get_value(field)}"
                print(line, flush=True)
        elif msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            print(f"error: {err.message} ({debug})", file=sys.stderr)
            self.loop.quit()
        elif msg.type == Gst.MessageType.WARNING:
            err, _ = msg.parse_warning()
            print(f"warning: {err.message}", file=sys.stderr)
        # EOS of the pipeline after a call is only the end of that call's
        # file: the recorder goes on

    def run(self):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT,
                             self.stop)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM,
                             self.stop)
        if self.pipeline.set_state(Gst.State.PLAYING) == \
                Gst.StateChangeReturn.FAILURE:
            sys.exit("could not start the pipeline")
        self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)

    def give_up(self):
        print(f"stopping with {len(self.branches)} file(s) unfinished",
              file=sys.stderr)
        self.loop.quit()
        return False

    def stop(self):
        if self.branches:
            # Hang up: the bin's EOS finishes the file, then finish() quits
            self.args.calls = self.recorded + len(self.branches)
            for call in self.bins:
                call.emit("hangup")
            # a file whose call already ended has nothing more to wait for
            GLib.timeout_add_seconds(5, self.give_up)
        else:
            self.loop.quit()
        return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get(
        "WTSP_SERVER", "ws://127.0.0.1:8080/signaling/v1"))
    parser.add_argument("--dir", default="recordings")
    parser.add_argument("--calls", type=int, default=0,
                        help="stop after this many calls (0: never)")
    parser.add_argument("--claim-timeout", type=int, default=5000,
                        metavar="MS", help="how long a call that finds "
                        "every bin busy waits for a new one (default 5000; "
                        "a burst of many calls at once needs more)")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    token_file = os.environ.get("WTSP_TOKEN_FILE")
    if not token_file:
        token = os.environ.get("WTSP_TOKEN")
        if not token:
            sys.exit("Set WTSP_TOKEN or WTSP_TOKEN_FILE (the session token)")
        fd, token_file = tempfile.mkstemp()
        os.write(fd, token.encode())
        os.close(fd)

    Gst.init(None)
    Recorder(args, token_file).run()


if __name__ == "__main__":
    main()
