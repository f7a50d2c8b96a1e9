#!/usr/bin/python3
"""The calling side of tests/e2e/janus-call.sh, and its check of a WAV file.

    janus-call.py call --server URL --token-file FILE --number bob
        [--duration S] [--far-end-hangup HOST:PORT] [--timeout S]
        [--min-buffers N] [--min-rms DB] [--freq HZ]
    janus-call.py wav FILE [--min-rms DB] [--freq HZ] [--wait S]

call: one webrtccall pipeline, audio only (the far end is a SIP phone):

    webrtccall name=call location=URL token-file=FILE number=bob
    audiotestsrc is-live=true wave=sine freq=880 ! audio/x-raw,rate=48000,channels=1 ! call.audio_sink
    call.audio_src_0 ! queue ! audioconvert ! audio/x-raw,format=S16LE,channels=1
        ! level interval=200000000 post-messages=true ! fakesink

It waits for the webrtccall-state "connected", talks for --duration
seconds while it counts the decoded audio buffers, reads the level
messages and counts the zero crossings of what it hears (the far end's
tone), then hangs up itself (the "hangup" action) or, with
--far-end-hangup, has baresip hang up (ctrl_tcp's "hangup" command at
HOST:PORT), and waits for "ended". It passes if the call connected, ended
with code 200, and the audio was there: at least --min-buffers buffers,
a median rms above --min-rms dB, and (with --freq) a tone within 15 % of
--freq Hz. Every wait is bounded; a failure names what was not seen.

Output: one "state NAME ..." line per webrtccall-state, then
"result: ok|FAIL: ..." with the figures (setup ms, buffers, rms, peak,
tone, how the call ended). Exit status 0 if it passed, 1 if not.

wav: the recording baresip's sndfile module made of what it received
(16-bit PCM). It passes if it has at least 1 s of audio whose rms (after
the first 0.5 s) is above --min-rms dBFS and, with --freq, whose tone is
within 15 % of --freq Hz. --wait S: wait up to S s for the file to be
finished (libsndfile writes the header's sizes when baresip closes it).

Run with /usr/bin/python3 (Debian's python3-gi; a pyenv python3 on PATH
may lack gi). GST_PLUGIN_PATH must hold the build's gst/ directory.
"""
import argparse
import array
import json
import math
import os
import socket
import statistics
import sys
import threading
import time
import wave

FREQ_TOLERANCE = 0.15


def tone_ok(measured, wanted):
    return abs(measured - wanted) <= wanted * FREQ_TOLERANCE


def db(rms):
    return 20 * math.log10(rms / 32768) if rms > 0 else -200.0


# ---------------------------------------------------------------- wav

def check_wav(args):
    deadline = time.monotonic() + args.wait
    why = None
    while True:
        try:
            with wave.open(args.file) as w:
                ch, width = w.getnchannels(), w.getsampwidth()
                rate, n = w.getframerate(), w.getnframes()
                data = w.readframes(n)
            if width != 2:
                why = f"{width * 8}-bit samples, expected 16"
            elif n < rate:
                why = f"only {n / rate:.2f} s of audio"
            else:
                why = None
        except (OSError, EOFError, wave.Error) as e:
            why = f"cannot be read: {e}"
        if why is None or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    if why is not None:
        print(f"result: FAIL: {args.file}: {why}")
        return 1
    samples = array.array("h")
    samples.frombytes(data[: len(data) // 2 * 2])
    if sys.byteorder != "little":
        samples.byteswap()
    mono = samples[::ch][rate // 2:]  # the first channel, past 0.5 s
    rms = math.sqrt(sum(x * x for x in mono) / len(mono))
    crossings = sum(1 for a, b in zip(mono, mono[1:]) if (a < 0) != (b < 0))
    freq = crossings / 2 / (len(mono) / rate)
    seconds = len(samples) / ch / rate  # the header may be unfinished
    figures = (f"{seconds:.2f} s, {ch} ch {rate} Hz, rms {db(rms):.1f} dBFS, "
               f"tone ~{freq:.0f} Hz")
    failures = []
    if db(rms) <= args.min_rms:
        failures.append(f"silent (rms {db(rms):.1f} dBFS <= {args.min_rms})")
    if args.freq and not tone_ok(freq, args.freq):
        failures.append(f"tone ~{freq:.0f} Hz, expected {args.freq} Hz")
    if failures:
        print(f"result: FAIL: {'; '.join(failures)}: {figures}")
        return 1
    print(f"result: ok: {figures}")
    return 0


# ---------------------------------------------------------------- call

def baresip_command(address, command, params=""):
    """One ctrl_tcp command (netstring-framed JSON); returns its response."""
    host, _, port = address.rpartition(":")
    msg = json.dumps({"command": command, "params": params,
                      "token": "janus-call"}).encode()
    with socket.create_connection((host, int(port)), timeout=3) as s:
        s.sendall(b"%d:%s," % (len(msg), msg))
        buf = b""
        end = time.monotonic() + 3
        # events arrive on the same socket: read until the response
        while b'"response"' not in buf and time.monotonic() < end:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    return buf.decode(errors="replace")


class Call:
    def __init__(self, args):
        import gi
        gi.require_version("Gst", "1.0")
        from gi.repository import GLib, Gst
        self.Gst, self.GLib = Gst, GLib
        Gst.init(None)
        self.args = args
        self.t0 = time.monotonic()
        self.states = []          # (state, seconds since start)
        self.calling_at = None
        self.connected_at = None
        self.ended = None         # (code, reason)
        self.errors = []
        self.levels = []          # (rms dB, peak dB) per level message
        self.buffers = 0
        self.samples = 0
        self.crossings = 0
        self.last_sample = 0
        self.lock = threading.Lock()
        self.stats = None
        self.failure = None
        self.hangup_sent = False

        launch = (
            f"webrtccall name=call location={args.server} "
            f"token-file={args.token_file} number={args.number} "
            f"audiotestsrc is-live=true wave=sine freq={args.send_freq} ! "
            "audio/x-raw,rate=48000,channels=1 ! call.audio_sink "
            "call.audio_src_0 ! queue ! audioconvert ! "
            "audio/x-raw,format=S16LE,channels=1 ! "
            "level interval=200000000 post-messages=true ! "
            "fakesink name=rx sync=false")
        try:
            self.pipeline = Gst.parse_launch(launch)
        except GLib.Error as e:
            sys.exit(f"result: FAIL: cannot build the pipeline ({e.message}):"
                     " is GST_PLUGIN_PATH the build's gst/?")
        self.call = self.pipeline.get_by_name("call")
        self.pipeline.get_by_name("rx").get_static_pad("sink").add_probe(
            Gst.PadProbeType.BUFFER, self.on_buffer)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)
        self.loop = GLib.MainLoop()

    def now(self):
        return time.monotonic() - self.t0

    # streaming thread: what we hear
    def on_buffer(self, pad, info):
        buf = info.get_buffer()
        ok, m = buf.map(self.Gst.MapFlags.READ)
        if ok:
            s = array.array("h")
            s.frombytes(bytes(m.data)[: m.size // 2 * 2])
            buf.unmap(m)
            if sys.byteorder != "little":
                s.byteswap()
            with self.lock:
                self.buffers += 1
                if self.connected_at is not None:
                    prev = self.last_sample
                    for x in s:
                        if (x < 0) != (prev < 0):
                            self.crossings += 1
                        prev = x
                    self.samples += len(s)
                if len(s):
                    self.last_sample = s[-1]
        return self.Gst.PadProbeReturn.OK

    def fail(self, why):
        if self.failure is None:
            self.failure = why
        self.loop.quit()

    def on_message(self, bus, msg):
        Gst = self.Gst
        t = msg.type
        if t == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            self.errors.append(f"{msg.src.get_name()}: {err.message}")
            print(f"error {msg.src.get_name()}: {err.message} ({dbg})",
                  flush=True)
            self.fail(f"error from {msg.src.get_name()}: {err.message}")
        elif t == Gst.MessageType.WARNING:
            err, _ = msg.parse_warning()
            print(f"warning {msg.src.get_name()}: {err.message}", flush=True)
        elif t == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s.get_name() == "webrtccall-state":
                self.on_state(s)
            elif s.get_name() == "level" and self.connected_at is not None:
                rms = max(s.get_value("rms"))
                peak = max(s.get_value("peak"))
                self.levels.append((rms, peak))

    def on_state(self, s):
        state = s.get_string("state")
        fields = " ".join(f"{s.nth_field_name(i)}={s.get_value(s.nth_field_name(i))}"
                          for i in range(s.n_fields())
                          if s.nth_field_name(i) != "state")
        print(f"state {state} at {self.now():.3f} s {fields}".rstrip(),
              flush=True)
        self.states.append((state, self.now()))
        if state == "calling" and self.calling_at is None:
            self.calling_at = self.now()
        elif state == "connected" and self.connected_at is None:
            self.connected_at = self.now()
            self.GLib.timeout_add(int(self.args.duration * 1000),
                                  self.hang_up)
        elif state == "ended":
            ok, code = s.get_int("code")
            self.ended = (code if ok else None, s.get_string("reason"))
            self.stats = self.call.get_property("stats")
            self.loop.quit()

    def hang_up(self):
        self.hangup_sent = True
        if self.args.far_end_hangup:
            addr = self.args.far_end_hangup

            def ask():
                try:
                    r = baresip_command(addr, "hangup")
                    print(f"baresip hangup -> {r.strip()[:200]}", flush=True)
                except OSError as e:
                    self.GLib.idle_add(self.fail, f"could not ask baresip "
                                       f"({addr}) to hang up: {e}")
            print(f"asking baresip to hang up at {self.now():.3f} s",
                  flush=True)
            threading.Thread(target=ask, daemon=True).start()
        else:
            print(f"hanging up at {self.now():.3f} s", flush=True)
            self.call.emit("hangup")
        # ended must follow within 10 s
        self.GLib.timeout_add(10000, self.no_end)
        return False

    def no_end(self):
        if self.ended is None:
            who = "baresip's" if self.args.far_end_hangup else "our"
            self.fail(f"no webrtccall-state ended within 10 s of {who} "
                      "hangup")
        return False

    def timeout(self):
        seen = ", ".join(st for st, _ in self.states) or "none"
        if self.connected_at is None:
            self.fail(f"no webrtccall-state connected within "
                      f"{self.args.timeout} s (states seen: {seen})")
        else:
            self.fail(f"no webrtccall-state ended within {self.args.timeout}"
                      f" s (states seen: {seen})")
        return False

    def stop(self):
        """To NULL on a helper thread: a call that never connected can make
        webrtcbin's teardown block; give up after 10 s."""
        done = threading.Event()

        def down():
            self.pipeline.set_state(self.Gst.State.NULL)
            done.set()
        threading.Thread(target=down, daemon=True).start()
        if not done.wait(10):
            print("warning: the pipeline did not reach NULL within 10 s",
                  flush=True)
            return False
        return True

    def run(self):
        self.GLib.timeout_add(int(self.args.timeout * 1000), self.timeout)
        if self.pipeline.set_state(self.Gst.State.PLAYING) == \
                self.Gst.StateChangeReturn.FAILURE:
            self.fail("the pipeline did not go to PLAYING")
        else:
            self.loop.run()
        stopped = self.stop()
        return self.report(stopped)

    def report(self, stopped):
        a = self.args
        with self.lock:
            buffers, samples, crossings = \
                self.buffers, self.samples, self.crossings
        setup = (f"{(self.connected_at - self.calling_at) * 1000:.0f} ms"
                 if self.connected_at is not None and self.calling_at
                 is not None else "-")
        rms = statistics.median(r for r, _ in self.levels) \
            if self.levels else None
        peak = max(p for _, p in self.levels) if self.levels else None
        freq = crossings / 2 / (samples / 48000) if samples else 0
        stat = ""
        if self.stats is not None:
            ok, ms = self.stats.get_double("setup-ms")
            _, rx = self.stats.get_int("audio-buffers-received")
            _, tx = self.stats.get_int("audio-packets-sent")
            stat = f" (stats: setup {ms:.0f} ms, {rx} buffers in, {tx} " \
                "packets out)"
        ended = (f"ended {self.ended[0]} \"{self.ended[1]}\""
                 if self.ended else "not ended")
        figures = (f"setup {setup}, {buffers} audio buffers, "
                   f"rms {rms:.1f} dB, peak {peak:.1f} dB, "
                   if rms is not None else
                   f"setup {setup}, {buffers} audio buffers, no level, ") + \
            f"tone ~{freq:.0f} Hz, {ended}{stat}"

        failures = []
        if self.failure:
            failures.append(self.failure)
        elif self.connected_at is None:
            failures.append(f"the call ended before it connected: {ended}")
        elif not self.hangup_sent:
            failures.append(f"the call ended {self.now() - self.connected_at:.1f}"
                            f" s after connected, before the hangup: {ended}")
        if self.connected_at is not None:
            if self.ended is not None and self.ended[0] != 200:
                failures.append(f"ended with code {self.ended[0]}, "
                                "expected 200")
            if buffers < a.min_buffers:
                failures.append(f"{buffers} audio buffers received, "
                                f"expected >= {a.min_buffers}")
            if rms is None:
                failures.append("no level message after connected")
            elif rms <= a.min_rms:
                failures.append(f"silent: median rms {rms:.1f} dB <= "
                                f"{a.min_rms}")
            if a.freq and not tone_ok(freq, a.freq):
                failures.append(f"heard a tone of ~{freq:.0f} Hz, expected "
                                f"{a.freq} Hz (baresip's)")
        if not stopped:
            failures.append("the pipeline did not stop")
        if failures:
            print(f"result: FAIL: {'; '.join(failures)}: {figures}",
                  flush=True)
            return 1
        print(f"result: ok: {figures}", flush=True)
        return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("call", help="place a call and check it")
    c.add_argument("--server", required=True, help="ws://HOST:PORT/...")
    c.add_argument("--token-file", required=True)
    c.add_argument("--number", default="bob")
    c.add_argument("--duration", type=float, default=4,
                   help="seconds from connected to the hangup")
    c.add_argument("--far-end-hangup", metavar="HOST:PORT",
                   help="baresip's ctrl_tcp: it hangs up, not we")
    c.add_argument("--timeout", type=float, default=30,
                   help="bound of the whole call (s)")
    c.add_argument("--send-freq", type=int, default=880)
    c.add_argument("--min-buffers", type=int, default=50)
    c.add_argument("--min-rms", type=float, default=-50)
    c.add_argument("--freq", type=int, default=0,
                   help="the tone we must hear (Hz); 0: any")
    w = sub.add_parser("wav", help="check a recording")
    w.add_argument("file")
    w.add_argument("--min-rms", type=float, default=-50)
    w.add_argument("--freq", type=int, default=0)
    w.add_argument("--wait", type=float, default=0)
    args = p.parse_args()
    if args.mode == "wav":
        return check_wav(args)
    rc = Call(args).run()
    sys.stdout.flush()
    # webrtcbin's threads may linger after a failed call: do not wait
    os._exit(rc)


if __name__ == "__main__":
    sys.exit(main())
