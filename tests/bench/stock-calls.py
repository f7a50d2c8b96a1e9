#!/usr/bin/python3
"""The baseline of the project's call benchmarks: stock webrtcbin talking to
stock webrtcbin, signalled directly, carrying both ways what a webrtccall
bin carries (gst/webrtccall-codecs.c): Opus 32 kbit/s in 20 ms frames and,
with --video, VP8 640x480 30 fps 1 Mbit/s.

    netns.sh stock-calls.py setup --calls 10 [--talk 0.5]
    netns.sh stock-calls.py concurrent --calls 40 [--hold 10]
    stock-calls.py media-alone --chains 10 [--seconds 10]

setup: K calls in a row between two webrtcbins of one process, each built
  fresh, held --talk s, set to NULL. Setup time: from the dial (building the
  offerer's pipeline) to "connected" as webrtccall means it, connection-state
  connected and the first buffer of the far end's media out of the
  offerer's webrtcbin. Rows add when (ms) the offer went, the answer came,
  ICE+DTLS connected, the first buffer came out and was decoded. Call 1
  (plugin loading, the first DTLS certificate) is apart: "first".
concurrent: N calls at once between this process (the offerer) and a copy
  of it (the answerer; JSON lines over a pipe). After a warm-up call both
  note their threads, fds and RSS, then dial all N; once connected, the
  calls are held --hold s, over which both measure their CPU. Per call:
  the rise over the figures before the calls, divided by N.
media-alone: N chains that encode, payload, depayload and decode in real
  time, with no network nor webrtcbin: one side of one call's media.

Calls need tests/e2e/netns.sh (libnice gathers no candidates on lo). As in
webrtccall: bundle-policy=max-bundle, jitterbuffer latency 50 ms (its
default; --latency), libnice UPnP off, RTCP every second, trickle ICE, no
STUN. A benchmark, not a test: it prints; it exits 1 when calls fail.
"""
import argparse
import ctypes
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

AUDIO_SEND = (
    "audiotestsrc is-live=true ! audio/x-raw,format=S16LE,rate=48000,"
    "channels=1 ! audioconvert ! audioresample ! audio/x-raw,rate=48000 ! "
    "opusenc bitrate=32000 frame-size=20 inband-fec=true ! "
    "rtpopuspay pt=111 ! application/x-rtp,media=audio,encoding-name=OPUS,"
    "payload=111,clock-rate=48000,encoding-params=(string)2")
VIDEO_SOURCE = ("videotestsrc is-live=true ! video/x-raw,format=I420,"
                "width=640,height=480,framerate=30/1")
VIDEO_ENCODE = (
    "videoconvert ! vp8enc deadline=1 "
    "cpu-used=8 threads=1 end-usage=cbr target-bitrate=1000000 "
    "keyframe-max-dist=60 lag-in-frames=0 error-resilient=partitions ! "
    "rtpvp8pay pt=96 picture-id-mode=15-bit mtu=1200 ! application/x-rtp,"
    "media=video,encoding-name=VP8,payload=96,clock-rate=90000,"
    "rtcp-fb-nack=(boolean)true,rtcp-fb-nack-pli=(boolean)true,"
    "rtcp-fb-ccm-fir=(boolean)true")
VIDEO_SEND = f"{VIDEO_SOURCE} ! {VIDEO_ENCODE}"
RECEIVE = {
    "OPUS": "rtpopusdepay ! opusdec plc=true",
    "VP8": "rtpvp8depay request-keyframe=true wait-for-keyframe=true ! "
           "vp8dec",
}
ELEMENTS = ("webrtcbin audiotestsrc audioconvert audioresample opusenc "
            "rtpopuspay rtpopusdepay opusdec videotestsrc videoconvert "
            "vp8enc rtpvp8pay rtpvp8depay vp8dec fakesink capsfilter")
EVENTS = ("offer", "answer", "ice", "first", "decoded")
CONNECTED = GstWebRTC.WebRTCPeerConnectionState.CONNECTED
FAILED = GstWebRTC.WebRTCPeerConnectionState.FAILED
GOBJECT = ctypes.CDLL("libgobject-2.0.so.0")
GOBJECT.g_object_ref.argtypes = [ctypes.c_void_p]
TICK = os.sysconf("SC_CLK_TCK")


def usage():
    """CPU seconds, wall time, threads, fds and RSS (KiB) of this process"""
    with open("/proc/self/stat") as f:
        stat = f.read().rsplit(")", 1)[1].split()  # field 3 is stat[0]
    with open("/proc/self/status") as f:
        rss = next(int(line.split()[1]) for line in f
                   if line.startswith("VmRSS:"))
    return {"cpu": (int(stat[11]) + int(stat[12])) / TICK,
            "wall": time.monotonic(), "rss": rss,
            "threads": len(os.listdir("/proc/self/task")),
            "fds": len(os.listdir("/proc/self/fd"))}


def cpu_pct(a, b):
    return 100 * (b["cpu"] - a["cpu"]) / (b["wall"] - a["wall"])


def rise(before, after, n):
    return {k: (after[k] - before[k]) / n for k in ("threads", "fds", "rss")}


def preload():
    """Loads the plugins, so that no baseline leaves their code out"""
    for name in ELEMENTS.split():
        if Gst.ElementFactory.make(name, None) is None:
            sys.exit(f"stock-calls: no element {name}")


def wait(done, seconds, tick=20):
    """Runs the main loop until done() or seconds passed; returns done()"""
    ctx, deadline = GLib.MainContext.default(), time.monotonic() + seconds
    source = GLib.timeout_add(tick, lambda: True)
    while not done() and time.monotonic() < deadline:
        ctx.iteration(True)
    GLib.source_remove(source)
    return done()


class Peer:
    """One side of one call: a pipeline of a webrtcbin and its senders.
    send(msg) is called on any thread; receive(msg) on the main one. The
    times of EVENTS (monotonic, from any thread) go to self.t. A subclass
    may send other chains (SENDS) and end its outputs otherwise (output())"""

    SENDS = None  # the chains into webrtcbin: AUDIO_SEND [VIDEO_SEND]

    def __init__(self, args, send):
        self.send, self.t0, self.t = send, time.monotonic(), {}
        self.errors, self.probes, self.outputs = [], [], []
        self.closing, self.candidates = False, 0
        chains = self.SENDS or \
            [AUDIO_SEND] + ([VIDEO_SEND] if args.video else [])
        self.pipeline = Gst.parse_launch(
            "webrtcbin name=w bundle-policy=max-bundle "
            f"latency={args.latency} " + " ".join(f"{c} ! w." for c in chains))
        self.webrtc = self.pipeline.get_by_name("w")
        # as webrtccall's make_webrtc(): UPnP costs fds and finds nothing
        ice = self.webrtc.get_property("ice-agent")
        if ice.__grefcount__ == 1:
            # webrtcbin 1.22 leaves its agent floating: PyGObject's wrapper
            # took webrtcbin's ref, and would free the agent under it.
            # hash() of a wrapper is its GObject's address.
            GOBJECT.g_object_ref(hash(ice))
        try:
            ice.get_property("agent").set_property("upnp", False)
        except TypeError as e:
            sys.exit(f"stock-calls: cannot turn UPnP off: {e}")
        self.handlers = [self.webrtc.connect(*h) for h in (
            ("on-ice-candidate", self.on_candidate),
            ("pad-added", self.on_pad),
            ("deep-element-added", self.on_element),
            ("notify::connection-state", self.on_state))]
        self.bus = self.pipeline.get_bus()
        self.bus.add_signal_watch()
        self.bus_handler = self.bus.connect("message::error", self.on_error)
        if self.pipeline.set_state(Gst.State.PLAYING) == \
                Gst.StateChangeReturn.FAILURE:
            self.errors.append("the pipeline did not start")

    # webrtcbin's threads
    def on_element(self, webrtc, sub, element):
        factory = element.get_factory()
        if factory and factory.get_name() == "rtpsession":
            element.set_property("rtcp-min-interval", Gst.SECOND)

    def on_candidate(self, webrtc, mline, candidate):
        self.candidates += 1
        self.send({"type": "candidate", "mline": mline,
                   "candidate": candidate})

    def on_state(self, webrtc, pspec):
        state = webrtc.get_property("connection-state")
        if state == CONNECTED:
            self.t.setdefault("ice", time.monotonic())
        elif state == FAILED:
            self.errors.append("connection-state failed (ICE or DTLS)")

    def on_pad(self, webrtc, pad):
        if pad.get_direction() != Gst.PadDirection.SRC or self.closing:
            return
        caps = pad.get_current_caps() or pad.query_caps(None)
        name = caps.get_structure(0).get_string("encoding-name")
        if name not in RECEIVE:
            self.errors.append(f"unexpected stream {caps.to_string()}")
            return
        out = self.output(name)
        self.outputs.append(out)
        self.pipeline.add(out)
        out.sync_state_with_parent()
        self.first(pad, "first")
        self.first(out.get_by_name("sink").get_static_pad("sink"), "decoded")
        pad.link(out.get_static_pad("sink"))

    def output(self, name):
        """A bin decoding @name (a RECEIVE key) into a fakesink named sink"""
        return Gst.parse_bin_from_description(
            RECEIVE[name] + " ! fakesink name=sink async=false", True)

    def first(self, pad, event):
        """Notes when the first buffer passes pad, then goes (no Python
        on the media path)"""
        entry = [pad, None, False]

        def probe(pad, info):
            self.t.setdefault(event, time.monotonic())
            entry[2] = True
            return Gst.PadProbeReturn.REMOVE
        entry[1] = pad.add_probe(Gst.PadProbeType.BUFFER, probe)
        self.probes.append(entry)

    def on_error(self, bus, msg):
        self.errors.append(f"{msg.src.get_name()}: "
                           f"{msg.parse_error()[0].message}")

    def on_description(self, promise, kind):
        """Sends our offer or answer, then sets it: candidates follow it"""
        reply = promise.get_reply()
        if self.closing:
            return
        if kind == "remote" and reply is None:  # the offer is set
            self.webrtc.emit("create-answer", None, self.promise("answer"))
        elif reply is None or not reply.has_field(kind):
            self.errors.append(f"no {kind}: {reply and reply.to_string()}")
        else:
            desc = reply.get_value(kind)
            self.t.setdefault(kind, time.monotonic())
            self.send({"type": kind, "sdp": desc.sdp.as_text()})
            self.webrtc.emit("set-local-description", desc, None)

    def promise(self, kind):
        return Gst.Promise.new_with_change_func(
            lambda p, _: self.on_description(p, kind), None)

    # the main thread
    def dial(self):
        self.webrtc.emit("create-offer", None, self.promise("offer"))

    def receive(self, msg):
        if self.closing:
            return
        if msg["type"] == "candidate":
            self.webrtc.emit("add-ice-candidate", msg["mline"],
                             msg["candidate"])
            return
        _, sdp = GstSdp.SDPMessage.new_from_text(msg["sdp"])
        offer = msg["type"] == "offer"
        if not offer:
            self.t["answer"] = time.monotonic()
        self.webrtc.emit(
            "set-remote-description", GstWebRTC.WebRTCSessionDescription.new(
                GstWebRTC.WebRTCSDPType.OFFER if offer else
                GstWebRTC.WebRTCSDPType.ANSWER, sdp),
            self.promise("remote") if offer else None)

    @property
    def setup_ms(self):
        if "ice" in self.t and "first" in self.t:
            return (max(self.t["ice"], self.t["first"]) - self.t0) * 1000
        return None

    def over(self):
        return self.setup_ms is not None or bool(self.errors)

    def breakdown(self):
        return ", ".join(f"{e} {(self.t[e] - self.t0) * 1000:.0f}"
                         for e in EVENTS if e in self.t)

    def status(self):
        """Why it is not connected"""
        if self.errors:
            return "; ".join(self.errors)
        states = ", ".join(f"{p} {self.webrtc.get_property(p).value_nick}"
                           for p in ("signaling-state", "ice-connection-state",
                                     "connection-state"))
        return (f"reached: {self.breakdown() or 'nothing'} (ms); "
                f"{self.candidates} local candidates; {states}")

    def close(self):
        """To NULL, and nothing of ours left attached"""
        if self.pipeline is None:
            return
        self.closing = True
        self.pipeline.set_state(Gst.State.NULL)
        for out in self.outputs:  # in case one came while going down
            out.set_state(Gst.State.NULL)
        for pad, probe, fired in self.probes:
            if not fired:
                pad.remove_probe(probe)
        for handler in self.handlers:
            self.webrtc.disconnect(handler)
        self.bus.disconnect(self.bus_handler)
        self.bus.remove_signal_watch()
        self.pipeline = self.webrtc = self.bus = None
        self.probes, self.outputs = [], []


class Channel:
    """JSON lines over two fds (it owns wfd): read on the main loop, written
    by a thread of its own, so that neither side can block the other"""

    def __init__(self, rfd, wfd, handler):
        self.handler, self.buf, self.lines = handler, b"", queue.Queue()
        self.writer = threading.Thread(target=self.write, args=(wfd,),
                                       daemon=True)
        self.writer.start()
        GLib.unix_fd_add_full(GLib.PRIORITY_DEFAULT, rfd,
                              GLib.IOCondition.IN | GLib.IOCondition.HUP,
                              self.readable)

    def send(self, msg):
        self.lines.put(json.dumps(msg).encode() + b"\n")

    def write(self, wfd):
        try:
            for line in iter(self.lines.get, None):
                while line:
                    line = line[os.write(wfd, line):]
        except OSError:
            pass
        os.close(wfd)

    def close(self):
        self.lines.put(None)
        self.writer.join(5)

    def readable(self, fd, condition):
        data = os.read(fd, 65536)
        *lines, self.buf = (self.buf + data).split(b"\n")
        for line in lines:
            self.handler(json.loads(line))
        if not data:
            self.handler({"type": "eof"})
        return bool(data)


def in_process_call(args, offerer=None, answerer=None):
    """A call in this process: an offerer (a Peer class) and, once its
    offer comes, an answerer, their messages passed on the main loop.
    Returns: {"offerer": peer, "answerer": peer once it exists}"""
    offerer, answerer = offerer or Peer, answerer or Peer
    side = {}

    def deliver(msg, to):
        if to not in side:
            side[to] = answerer(args, lambda m: GLib.idle_add(
                deliver, m, "offerer"))
        side[to].receive(msg)
        return False
    side["offerer"] = offerer(args, lambda m: GLib.idle_add(
        deliver, m, "answerer"))
    return side


def run_setup(args):
    setups = []
    for i in range(1, args.calls + 1):
        side = in_process_call(args)
        offerer = side["offerer"]
        offerer.dial()
        wait(lambda: offerer.over() or (
            "answerer" in side and side["answerer"].errors), args.timeout)
        setup = offerer.setup_ms
        if setup is None:
            print(f"call {i}: not connected after {args.timeout} s: "
                  f"offerer: {offerer.status()}; answerer: " + (
                      side["answerer"].status() if "answerer" in side
                      else "got no offer"))
        else:
            wait(lambda: False, args.talk)
        for peer in side.values():
            peer.close()
        wait(lambda: not GLib.MainContext.default().pending(), 1)
        if setup is None:
            return 1
        u = usage()
        print(f"call {i:3d}: setup {setup:5.0f} ms ({offerer.breakdown()}); "
              f"after teardown {u['threads']} threads, {u['fds']} fds, "
              f"{u['rss'] / 1024:.1f} MiB", flush=True)
        setups.append(setup)
    rest = setups[1:] or setups
    print(f"stock-setup: calls={args.calls} "
          f"median_ms={statistics.median(rest):.0f} "
          f"min_ms={min(rest):.0f} max_ms={max(rest):.0f} "
          f"first_ms={setups[0]:.0f}")
    return 0


def run_concurrent(args):
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "answerer",
         f"--latency={args.latency}"] + (["--video"] if args.video else []),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    peers, got = {}, {}

    def on_message(msg):
        if msg.get("call") in peers:
            peers[msg["call"]].receive(msg)
        elif "call" not in msg:
            got[msg["type"]] = msg

    chan = Channel(proc.stdout.fileno(), os.dup(proc.stdin.fileno()),
                   on_message)
    proc.stdin.close()
    try:
        return concurrent(args, chan, peers, got)
    finally:
        for p in peers.values():
            p.close()
        chan.send({"type": "quit"})
        chan.close()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            print("stock-concurrent: the answerer did not exit: killed")
            proc.kill()


def concurrent(args, chan, peers, got):
    def dial(i):
        peers[i] = Peer(args, lambda m: chan.send(dict(m, call=i)))
        peers[i].dial()

    def reply(kind):
        chan.send({"type": kind})
        wait(lambda: kind in got or "eof" in got, 30)
        if kind not in got:
            sys.exit(f"stock-concurrent: the answerer sent no {kind}")
        return got.pop(kind)

    preload()
    dial(-1)
    if not wait(peers[-1].over, args.timeout) or peers[-1].errors:
        print(f"warm-up call: not connected: {peers[-1].status()}")
        return 1
    print(f"warm-up call: setup {peers[-1].setup_ms:.0f} ms")
    wait(lambda: False, 0.5)
    peers.pop(-1).close()
    chan.send({"type": "hangup", "call": -1})
    wait(lambda: False, 1)
    base = {"answerer": reply("baseline"), "offerer": usage()}
    print("before the calls: " + "; ".join(
        f"{w} {u['threads']} threads, {u['fds']} fds, "
        f"{u['rss'] / 1024:.1f} MiB" for w, u in base.items()), flush=True)

    n = args.calls
    for i in range(n):
        dial(i)
    wait(lambda: all(p.over() for p in peers.values()), args.timeout)
    for i, p in peers.items():
        if p.setup_ms is None:
            print(f"call {i}: not connected: {p.status()}")
    setups = [p.setup_ms for p in peers.values() if p.setup_ms] or [0]
    connected = len([p for p in peers.values() if p.setup_ms])
    median, top = statistics.median(setups), max(setups)
    print(f"{connected} of {n} connected; setup median {median:.0f} ms, "
          f"max {top:.0f} ms", flush=True)

    chan.send({"type": "measure"})
    a = usage()
    wait(lambda: False, args.hold, tick=200)
    b = usage()
    far = reply("report")
    cpu = {"offerer": cpu_pct(a, b) / n, "answerer": far["cpu_pct"] / n}
    per = {"offerer": rise(base["offerer"], b, n),
           "answerer": rise(base["answerer"], far, n)}
    for w in per:
        print(f"{w}: {cpu[w] * n:.1f} % of a core over {args.hold} s, "
              f"{cpu[w]:.2f} %/call; per call {per[w]['threads']:.1f} "
              f"threads, {per[w]['fds']:.1f} fds, {per[w]['rss']:.0f} KiB")
    chan.send({"type": "quit"})  # both sides go down at once
    t, slowest = time.monotonic(), 0
    for p in peers.values():
        t1 = time.monotonic()
        p.close()
        slowest = max(slowest, time.monotonic() - t1)
    print(f"teardown of {n} calls: {(time.monotonic() - t) * 1000:.0f} ms "
          f"(slowest {slowest * 1000:.0f} ms)")
    o, f = per["offerer"], per["answerer"]
    print(f"stock-concurrent: calls={n} connected={connected} "
          f"setup_median_ms={median:.0f} setup_max_ms={top:.0f} "
          f"cpu_pct_per_call_offerer={cpu['offerer']:.2f} "
          f"cpu_pct_per_call_answerer={cpu['answerer']:.2f} "
          f"threads_per_call={o['threads']:.1f} fds_per_call={o['fds']:.1f} "
          f"rss_kib_per_call={o['rss']:.0f} "
          f"answerer_threads_per_call={f['threads']:.1f} "
          f"answerer_fds_per_call={f['fds']:.1f} "
          f"answerer_rss_kib_per_call={f['rss']:.0f}")
    return 0 if connected == n else 1


def run_answerer(args):
    """The far end of concurrent: answers what comes on stdin"""
    out = os.dup(1)
    os.dup2(2, 1)  # stdout is the channel's alone
    peers, state = {}, {}

    def on_message(msg):
        kind, i = msg["type"], msg.get("call")
        if kind == "hangup":
            if i in peers:
                peers.pop(i).close()
        elif i is not None:
            if i not in peers:
                peers[i] = Peer(args, lambda m: chan.send(dict(m, call=i)))
            peers[i].receive(msg)
        elif kind == "measure":
            state["measure"] = usage()
        elif kind in ("baseline", "report"):
            u = usage()
            chan.send(dict(u, type=kind, cpu_pct=cpu_pct(
                state["measure"], u) if kind == "report" else 0))
        else:  # quit, eof
            state["quit"] = True

    preload()
    chan = Channel(0, out, on_message)
    wait(lambda: "quit" in state, 24 * 3600, tick=500)
    for p in peers.values():
        p.close()
    chan.close()
    return 0


def run_media_alone(args):
    preload()
    base = usage()
    desc = f"{AUDIO_SEND} ! {RECEIVE['OPUS']} ! fakesink sync=true"
    if args.video:
        desc += f" {VIDEO_SEND} ! {RECEIVE['VP8']} ! fakesink sync=true"
    pipelines = [Gst.parse_launch(desc) for _ in range(args.chains)]
    for p in pipelines:
        p.set_state(Gst.State.PLAYING)
    wait(lambda: False, 2)
    a = usage()
    wait(lambda: False, args.seconds, tick=200)
    b = usage()
    errors = set()
    for p in pipelines:
        msg = p.get_bus().pop_filtered(Gst.MessageType.ERROR)
        if msg:
            errors.add(msg.parse_error()[0].message)
        p.set_state(Gst.State.NULL)
    n, per = args.chains, rise(base, b, args.chains)
    print(f"{n} chains: {cpu_pct(a, b):.1f} % of a core over {args.seconds} "
          f"s; per chain {per['threads']:.1f} threads, {per['rss']:.0f} KiB")
    print(f"media-alone: chains={n} cpu_pct_per_chain={cpu_pct(a, b) / n:.2f}")
    if errors:
        print(f"media-alone: errors: {'; '.join(errors)}")
    return 1 if errors else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--video", action="store_true",
                        help="VP8 video as well as Opus audio")
    common.add_argument("--latency", type=int, default=50,
                        help="webrtcbin jitterbuffer ms (webrtccall's 50)")
    common.add_argument("--timeout", type=float, default=30,
                        help="seconds a call may take to connect")
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("setup", parents=[common], help="calls in a row")
    p.add_argument("--calls", type=int, default=10)
    p.add_argument("--talk", type=float, default=0.5,
                   help="seconds each call stays connected")
    p = sub.add_parser("concurrent", parents=[common],
                       help="calls at once between two processes")
    p.add_argument("--calls", type=int, default=10)
    p.add_argument("--hold", type=float, default=10,
                   help="seconds over which CPU is measured")
    sub.add_parser("answerer", parents=[common], help="(for concurrent)")
    p = sub.add_parser("media-alone", parents=[common],
                       help="the media of calls without the calls")
    p.add_argument("--chains", type=int, default=1)
    p.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    Gst.init(None)
    sys.exit({"setup": run_setup, "concurrent": run_concurrent,
              "answerer": run_answerer,
              "media-alone": run_media_alone}[args.mode](args))


if __name__ == "__main__":
    main()
