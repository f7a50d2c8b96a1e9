#!/usr/bin/python3
"""Our side of tests/e2e/janus-call.sh (one webrtccall pipeline), and its check of a WAV file.

    janus-call.py call --server URL --token-file FILE --number NUMBER
        [--duration S] [--far-end-hangup HOST:PORT | --far-end-ends]
        [--hangup-after-ringing S] [--expect-code N] [--no-connect]
        [--watch-registration] [--timeout S] [--min-buffers N]
        [--min-rms DB] [--freq HZ] [--send-freq HZ]
        [--far-end-hold HOST:PORT | --far-end-transfer HOST:PORT URI]
        [--baresip HOST:PORT] [--far-end-dtmf DIGITS] [--send-dtmf TONES]
        [--rtp-sniff FAR NEAR] [--hold-after S [--unhold-after S]]
        [--audio-codecs LIST] [--transfer-to TARGET [--transfer-after S]
        [--expect-transfer-status N] [--consult NUMBER]]
    janus-call.py answer --server URL --token-file FILE
        [--dial-from HOST:PORT URI] [--expect-caller NAME]
        [--expect-refer TEXT [--expect-replaces TEXT]] [--accept-transfers]
        (and the above
        but --number and --watch-registration)
    janus-call.py register --server URL --token-file FILE
        --expect registered|registration_failed [--fresh] [--dial NUMBER]
        [--timeout S]
    janus-call.py wav FILE [--min-rms DB] [--freq HZ] [--wait S]

call: one webrtccall pipeline, audio only (the far end is a SIP phone):

    webrtccall name=call location=URL token-file=FILE number=NUMBER
    audiotestsrc is-live=true wave=sine freq=880 ! audio/x-raw,rate=48000,channels=1 ! call.audio_sink
        (--send-freq, --channels)
    call.audio_src_0 ! queue ! audioconvert ! audioresample
        ! audio/x-raw,format=S16LE,channels=1,rate=48000 ! level interval=200000000 post-messages=true ! fakesink

It waits for the webrtccall-state "connected", talks for --duration
seconds while it counts the decoded audio buffers, reads the level
messages and counts the zero crossings of what it hears (the far end's
tone), then ends the call: we hang up (the "hangup" action), or with
--far-end-hangup baresip does (ctrl_tcp's "hangup" command at HOST:PORT),
or with --far-end-ends the far end hangs up by itself (sipp's BYE; it must
come within --duration + 15 s of connected). It passes if the call
connected, ended with code --expect-code (200), and the audio was there:
at least --min-buffers buffers, a median rms above --min-rms dB, and
(with --freq) a tone within 15 % of --freq Hz.

--drop-signaling-after S: S s after connected our WebSocket's TCP
connection is killed (ss -K, in the test's namespace); the signaling
link must be "ready" again (wtsp-connection), the call must go on (audio
keeps coming, no ended before the hangup) and end with our hangup, 200.

--expect-early-media: the state "progress" (a 183 with SDP) must come,
and at least 25 audio buffers before "accepted" (the 200).

--far-end-hold HOST:PORT: 2 s after connected baresip holds the call
(ctrl_tcp "hold": a re-INVITE); the bin must post "held" within 5 s;
1.5 s later baresip resumes and the bin must post "connected" within 5 s.
--far-end-transfer HOST:PORT URI: 1 s after connected baresip transfers
us to URI (a REFER); the bin must post webrtccall-transfer with refer-to
URI and a refer-id within 5 s. Either way the call goes on to the hangup.

--baresip HOST:PORT keeps baresip's ctrl_tcp open for the run and
records its events (CALL_DTMF_START/END: the keys it got). DTMF:
--far-end-dtmf DIGITS: 1 s after connected baresip presses DIGITS
(sndcode); the bin must post one webrtccall-dtmf per key, in order.
--send-dtmf TONES: then we press TONES (send-dtmf); baresip's events
must show them in order. --rtp-sniff FAR NEAR reads the RTP between
baresip's ports FAR and Janus' NEAR (LOW-HIGH) off lo with a raw socket
(root): each telephone-event on the wire (payload type, duration, end
packets), and the packets each way before, during and after a hold.
--hold-after S: we hold S s after connected (the "hold" action) and
unhold --unhold-after s after "holding": the bin must post holding, then
connected, within 5 s of each, and our audio sender must send nothing
while held. --audio-codecs LIST: the bin's audio-codecs (PCMU: a G.711
call).

--transfer-to TARGET: --transfer-after s (1) after connected we transfer
the far end to TARGET (the "transfer" action: Janus sends a REFER). The
bin must post webrtccall-transfer "transferring", then the NOTIFYs'
progress, the last with subscription-state terminated and status
--expect-transfer-status (200: the bin then hangs up itself, ended 200;
any other: the bin warns that the transfer failed, the call goes on and
we hang up 1 s later). With --consult NUMBER the transfer is
attended: a second webrtccall bin of the same session (call2) dials
NUMBER --transfer-after s after connected, and once it is connected the
transfer names its call id (replace-call-id: Janus' REFER then carries
Replaces); call2 is hung up after the first call ended.

A call that must not connect (--no-connect): it passes if the call ended
before "connected" with code --expect-code (486, 404, 603...). With
--hangup-after-ringing S we hang up S s after "ringing" (a CANCEL on the
SIP side) and the call must end with --expect-code (487).

answer: the same pipeline without a number and with auto-answer=true:
the call comes to us. First the session must be SIP-registered (the
watch below); once the bin is ready ("registered" state) we print
"ready" and, with --dial-from HOST:PORT URI, ask baresip (ctrl_tcp at
HOST:PORT) to dial URI; otherwise the script starts the caller when it
sees "ready". --expect-caller: the "incoming" state's caller must be
NAME. --expect-refer TEXT: the far end transfers us (a REFER): a
webrtccall-transfer whose refer-to contains TEXT must come (and with
--expect-replaces TEXT, an attended transfer, its replace-call-id must
contain TEXT); the call goes on. --accept-transfers: the bin takes
the transfer (accept-transfers=true): the call must end "transferred
to ...", the bin's new call to the target must connect within 15 s, and
we hang it up 2 s later (ended 200).

The watch (--watch-registration; always for answer and register): before
the webrtccall pipeline, a signalingsrc pipeline (signalingsrc ! fakesink,
the same location and token file: the server's same session) reports the
SIP registration the server tells it (registration.status of the state
handshake; the registering, registered, registration_failed events) as
"registration STATUS (from)" lines, until it is registered ("sip-
registered") or failed (signalingsrc's error "SIP registration failed:
CODE REASON"), within 15 s. The session outlives the connection: the
webrtccall pipeline that follows (force=true, as the watcher's socket may
not be closed yet on the server) finds it registered. Why not watch from
the same pipeline: signalingsrc does not share a webrtccall's session (a
second connection, refused with 4431), and webrtccall posts nothing about
the SIP registration (its "registered" state is the WTSP session being
ready).

register: the watch alone, which must end with --expect: "registered"
(with --fresh, a new session: "registering" must come first) or
"registration_failed" (and signalingsrc's error on the bus). With --dial
NUMBER, a webrtccall pipeline then dials NUMBER and the result tells what
it saw (states, warnings, errors, the ended code); it must not connect.

Every wait is bounded; a failure names what was not seen. Output: one
"state NAME ..." line per webrtccall-state, then "result: ok|FAIL: ..."
with the figures (setup ms, buffers, rms, peak, tone, how the call ended).
Exit status 0 if it passed, 1 if not.

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
import subprocess
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


class BaresipCtrl:
    """baresip's ctrl_tcp kept open for the whole run: ctrl_tcp sends its
    events (CALL_DTMF_START, CALL_REMOTE_SDP...) to its one connection, and
    a new connection replaces the last, so every command of the run goes
    through this one too."""

    def __init__(self, address, t0):
        host, _, port = address.rpartition(":")
        self.t0 = t0
        self.sock = socket.create_connection((host, int(port)), timeout=3)
        self.sock.settimeout(None)
        self.lock = threading.Lock()
        self.events = []          # (seconds since t0, type, param)
        self.responses = []       # the decoded responses, in order
        self.cond = threading.Condition(self.lock)
        self.closed = None        # why the connection ended
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        buf = b""
        try:
            while True:
                chunk = self.sock.recv(4096)
                if not chunk:
                    break
                buf += chunk
                # netstrings: LEN:JSON,
                while True:
                    colon = buf.find(b":")
                    if colon < 0 or not buf[:colon].isdigit():
                        break
                    n = int(buf[:colon])
                    if len(buf) < colon + 1 + n + 1:
                        break
                    body = buf[colon + 1:colon + 1 + n]
                    buf = buf[colon + 1 + n + 1:]
                    self.on_message(body)
        except OSError as e:
            self.closed = str(e)
        with self.cond:
            if self.closed is None:
                self.closed = "closed by baresip"
            self.cond.notify_all()

    def on_message(self, body):
        try:
            msg = json.loads(body)
        except ValueError:
            return
        now = time.monotonic() - self.t0
        with self.cond:
            if msg.get("event"):
                self.events.append((now, msg.get("type"), msg.get("param")))
            elif msg.get("response"):
                self.responses.append(msg)
            self.cond.notify_all()
        if msg.get("event") and msg.get("type") not in ("VU_TX_REPORT",
                                                        "VU_RX_REPORT"):
            print(f"baresip event {msg.get('type')} {msg.get('param', '')} "
                  f"at {now:.3f} s", flush=True)

    def command(self, command, params=""):
        """Sends a command, returns its response (a dict); raises OSError
        if none comes within 3 s."""
        msg = json.dumps({"command": command, "params": params,
                          "token": "janus-call"}).encode()
        with self.cond:
            before = len(self.responses)
            self.sock.sendall(b"%d:%s," % (len(msg), msg))
            end = time.monotonic() + 3
            while len(self.responses) == before and self.closed is None:
                left = end - time.monotonic()
                if left <= 0:
                    raise OSError(f"no response to {command} within 3 s")
                self.cond.wait(left)
            if len(self.responses) == before:
                raise OSError(f"ctrl_tcp connection ended: {self.closed}")
            return self.responses[before]

    def events_of(self, types, since=0.0):
        with self.lock:
            return [e for e in self.events if e[1] in types and e[0] >= since]


class RtpSniffer:
    """The plain RTP between the far end (a SIP phone) and Janus' SIP side,
    read off the loopback interface (everything here is on one address of
    the test's namespace, so it goes through lo): a packet socket, root
    only. Keeps every RTP packet's time, direction, payload type,
    timestamp, marker and the first 4 payload bytes."""

    def __init__(self, far_ports, near_ports, t0):
        self.far = far_ports      # (low, high): the phone's RTP ports
        self.near = near_ports    # Janus' SIP-side RTP ports
        self.t0 = t0
        self.lock = threading.Lock()
        self.packets = []         # (t, "to"|"from", pt, ts, marker, head, n)
        # ETH_P_IP on lo; SOCK_DGRAM: the IP packet without a link header
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                                  socket.htons(0x0800))
        self.sock.bind(("lo", 0x0800))
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        far_lo, far_hi = self.far
        near_lo, near_hi = self.near
        while True:
            try:
                data, addr = self.sock.recvfrom(2048)
            except OSError:
                return
            # lo shows each packet twice: going out (PACKET_OUTGOING, 4)
            # and coming in; keep the one coming in
            if addr[2] == 4 or len(data) < 20 or data[0] >> 4 != 4 or \
                    data[9] != 17:
                continue
            ihl = (data[0] & 15) * 4
            udp = data[ihl:]
            if len(udp) < 8 + 12:
                continue
            sport, dport = (udp[0] << 8) | udp[1], (udp[2] << 8) | udp[3]
            if far_lo <= dport <= far_hi and near_lo <= sport <= near_hi:
                way = "to"
            elif far_lo <= sport <= far_hi and near_lo <= dport <= near_hi:
                way = "from"
            else:
                continue
            rtp = udp[8:]
            # RTP version 2, not RTCP (payload types 200-204 with M)
            if rtp[0] >> 6 != 2 or 200 <= rtp[1] <= 204:
                continue
            cc = rtp[0] & 15
            head = 12 + 4 * cc
            if rtp[0] & 0x10 and len(rtp) >= head + 4:  # an extension
                head += 4 + 4 * ((rtp[head + 2] << 8) | rtp[head + 3])
            payload = rtp[head:]
            pkt = (time.monotonic() - self.t0, way, rtp[1] & 0x7f,
                   int.from_bytes(rtp[4:8], "big"), bool(rtp[1] & 0x80),
                   bytes(payload[:4]), len(payload))
            with self.lock:
                self.packets.append(pkt)

    def audio_pt(self, way):
        """The payload type most packets of that way have: the codec's"""
        with self.lock:
            pts = [p[2] for p in self.packets if p[1] == way]
        return max(set(pts), key=pts.count) if pts else None

    def audio_count(self, way, start, end):
        """Audio packets (not telephone-events) of that way in [start, end)"""
        pt = self.audio_pt(way)
        with self.lock:
            return sum(1 for p in self.packets if p[1] == way and
                       p[2] == pt and start <= p[0] < end)

    def events(self, way):
        """RFC 4733 events of that way: 4-byte payloads of a dynamic payload
        type that is not the codec's, one event per RTP timestamp. Returns
        [(key, pt, duration units, end packets, first t, last t, clock)]:
        clock, the units per second the duration field grew by between the
        event's first and last packets that are not an end (None if under
        60 ms apart)"""
        pt_audio = self.audio_pt(way)
        out = {}
        with self.lock:
            for t, w, pt, ts, _, head, n in self.packets:
                if w != way or pt == pt_audio or pt < 96 or n != 4:
                    continue
                units = (head[2] << 8) | head[3]
                e = out.setdefault((pt, ts), [head[0], pt, 0, 0, t, t,
                                              (t, units), None])
                e[2] = max(e[2], units)
                e[5] = t
                if head[1] & 0x80:
                    e[3] += 1
                else:
                    e[7] = (t, units)
        keys = "0123456789*#ABCD"
        events = []
        for e in sorted(out.values(), key=lambda e: e[4]):
            (t0, u0), last = e[6], e[7]
            clock = (last[1] - u0) / (last[0] - t0) \
                if last is not None and last[0] - t0 >= 0.06 else None
            events.append((keys[e[0]] if e[0] < 16 else f"event {e[0]}",
                           *e[1:6], clock))
        return events

    @staticmethod
    def text(events):
        return ", ".join(
            f"{k} (pt {pt}, {units} units, {ends} end packets, "
            f"{(last - first) * 1000:.0f} ms of packets"
            + (f", ~{clock / 1000:.0f} kHz" if clock else "") + ")"
            for k, pt, units, ends, first, last, clock in events) or "none"


def gst():
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import GLib, Gst
    Gst.init(None)
    return GLib, Gst


def stop_pipeline(Gst, pipeline):
    """To NULL on a helper thread: a call that never connected can make
    webrtcbin's teardown block; give up after 10 s."""
    done = threading.Event()

    def down():
        pipeline.set_state(Gst.State.NULL)
        done.set()
    threading.Thread(target=down, daemon=True).start()
    if not done.wait(10):
        print("warning: the pipeline did not reach NULL within 10 s",
              flush=True)
        return False
    return True


class Watch:
    """signalingsrc ! fakesink on the account: what the server says of the
    SIP registration, until registered or failed."""

    def __init__(self, args, t0, timeout=15):
        self.GLib, self.Gst = gst()
        self.args = args
        self.t0 = t0
        self.timeout = timeout
        self.entries = []     # (status, "state"|"event", code, reason)
        self.errors = []
        self.warnings = []
        self.outcome = None   # "registered", "registration_failed", or why not
        launch = (f"signalingsrc name=watch location={args.server} "
                  f"token-file={args.token_file} ! fakesink sync=false")
        self.pipeline = self.Gst.parse_launch(launch)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)
        self.loop = self.GLib.MainLoop()

    def now(self):
        return time.monotonic() - self.t0

    def finish(self, outcome):
        if self.outcome is None:
            self.outcome = outcome
        self.loop.quit()

    def on_message(self, bus, msg):
        Gst = self.Gst
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            self.errors.append(f"signalingsrc: {err.message}")
            print(f"error signalingsrc: {err.message}", flush=True)
            if "registration failed" in err.message:
                self.finish("registration_failed")
            else:
                self.finish(f"signalingsrc failed: {err.message}")
        elif msg.type == Gst.MessageType.WARNING:
            err, _ = msg.parse_warning()
            self.warnings.append(f"signalingsrc: {err.message}")
            print(f"warning signalingsrc: {err.message}", flush=True)
        elif msg.type == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s.get_name() == "wtsp-message":
                self.on_wtsp_message(s)

    def on_wtsp_message(self, s):
        kind, type_ = s.get_string("kind"), s.get_string("type")
        try:
            msg = json.loads(s.get_string("json") or "{}")
        except ValueError:
            msg = {}
        if kind == "state":
            reg = msg.get("registration") or {}
            entry = (reg.get("status"), "state", reg.get("code"),
                     reg.get("reason"))
        elif kind == "event" and type_ in ("registering", "registered",
                                           "registration_failed",
                                           "unregistering", "unregistered"):
            entry = (type_, "event", msg.get("code"), msg.get("reason"))
        else:
            return
        self.entries.append(entry)
        extra = f" {entry[2]} {entry[3]}" if entry[2] else ""
        print(f"registration {entry[0]} ({entry[1]}) at {self.now():.3f} s"
              f"{extra}", flush=True)
        if entry[0] == "registered":
            print("sip-registered", flush=True)
            # a moment for what follows (nothing should)
            self.GLib.timeout_add(200, lambda: self.finish("registered"))
        # registration_failed: signalingsrc's error follows at once

    def on_timeout(self):
        last = self.entries[-1][0] if self.entries else "nothing"
        self.finish(f"the SIP registration was neither registered nor "
                    f"failed within {self.timeout} s (last: {last})")
        return False

    def run(self):
        self.GLib.timeout_add(int(self.timeout * 1000), self.on_timeout)
        if self.pipeline.set_state(self.Gst.State.PLAYING) == \
                self.Gst.StateChangeReturn.FAILURE:
            self.outcome = "the signalingsrc pipeline did not go to PLAYING"
        else:
            self.loop.run()
        stop_pipeline(self.Gst, self.pipeline)
        return self.outcome

    def statuses(self):
        return [st for st, _, _, _ in self.entries]

    def text(self):
        if not self.entries:
            return "registration: nothing seen"
        return "registration: " + " -> ".join(
            f"{st}({src}{' ' + str(code) if code else ''})"
            for st, src, code, _ in self.entries)


class Call:
    """The webrtccall pipeline: mode "call" (number=), "answer"
    (auto-answer=true) or "dial" (the register mode's --dial: the dial
    action, and only a report)."""

    def __init__(self, args, mode, t0, force=False):
        self.GLib, self.Gst = gst()
        Gst, GLib = self.Gst, self.GLib
        self.args = args
        self.mode = mode
        self.t0 = t0
        self.states = []          # (state, seconds since start)
        self.calling_at = None
        self.ringing_at = None
        self.incoming = None      # the "incoming" state's fields
        self.connected_at = None
        self.ended = None         # (code, reason)
        self.ended_at = None
        self.errors = []          # texts of ERROR messages
        self.warnings = []        # texts of WARNING messages
        self.levels = []          # (rms dB, peak dB) per level message
        self.buffers = 0
        self.samples = 0
        self.crossings = 0
        self.last_sample = 0
        self.lock = threading.Lock()
        self.stats = None
        self.failure = None
        self.hangup_sent = False
        self.dialed = False
        self.hold_asked_at = self.held_at = None
        self.resume_asked_at = self.resumed_at = None
        self.transfer_asked_at = None
        self.transferred = None   # --accept-transfers: (reason, time)
        self.second = []          # and the new call's (state, time)
        self.transfer_sent_at = None  # --transfer-to: when we asked
        self.our_transfer = []    # its webrtccall-transfer messages
        self.transfer = None      # the webrtccall-transfer's fields
        self.progress_at = self.accepted_at = None
        self.dropped_at = self.relinked_at = None
        self.link_states = []     # wtsp-connection states after the drop
        self.buffers_at_drop = 0
        self.early_buffers = 0    # audio buffers before accepted
        self.dtmf = []            # (tone, duration ms, seconds) received
        self.far_dtmf_asked_at = None
        self.dtmf_sent_at = None
        self.dtmf_send_ok = None  # what send-dtmf returned
        self.dtmf_done_at = None  # the DTMF steps are over
        self.hold_at = self.holding_at = None
        self.unhold_at = self.unheld_at = None
        self.sent_at_holding = self.sent_at_unhold = None
        self.hung_up_at = None
        self.ctrl = None          # BaresipCtrl (--baresip)
        self.sniffer = None       # RtpSniffer (--rtp-sniff)

        props = [f"location={args.server}", f"token-file={args.token_file}"]
        if force:
            props.append("force=true")
        if getattr(args, "audio_codecs", None):
            props.append(f"audio-codecs={args.audio_codecs}")
        if mode == "call":
            props.append(f"number={args.number}")
        elif mode == "answer":
            props.append("auto-answer=true")
            if getattr(args, "accept_transfers", False):
                props.append("accept-transfers=true")
        launch = (
            f"webrtccall name=call {' '.join(props)} "
            f"audiotestsrc is-live=true wave=sine freq={args.send_freq} ! "
            f"audio/x-raw,rate=48000,channels={args.channels} ! "
            "call.audio_sink "
            "call.audio_src_0 ! queue ! audioconvert ! audioresample ! "
            "audio/x-raw,format=S16LE,channels=1,rate=48000 ! "
            "level interval=200000000 post-messages=true ! "
            "fakesink name=rx sync=false")
        if getattr(args, "consult", None):
            # the consultation call of an attended transfer: a second bin
            # of the same session (GstContext), idle until dialled
            launch += (
                f" webrtccall name=call2 location={args.server} "
                f"token-file={args.token_file} "
                f"audiotestsrc is-live=true wave=sine freq={args.send_freq} ! "
                "audio/x-raw,rate=48000,channels=1 ! call2.audio_sink "
                "call2.audio_src_0 ! fakesink sync=false")
        try:
            self.pipeline = Gst.parse_launch(launch)
        except GLib.Error as e:
            sys.exit(f"result: FAIL: cannot build the pipeline ({e.message}):"
                     " is GST_PLUGIN_PATH the build's gst/?")
        self.call = self.pipeline.get_by_name("call")
        self.call2 = self.pipeline.get_by_name("call2")
        self.consult_states = []  # --consult: call2's (state, time)
        self.consult_id = None
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

    def quit(self):
        self.loop.quit()
        return False

    def on_message(self, bus, msg):
        Gst = self.Gst
        t = msg.type
        src = msg.src.get_name() if msg.src else "?"
        if t == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            self.errors.append(f"{src}: {err.message}")
            print(f"error {src}: {err.message} ({dbg})", flush=True)
            if self.mode == "dial" and "registration failed" in err.message:
                # what an application that dials anyway gets
                if not self.dialed:
                    self.dialed = True
                    print(f"dialling {self.args.dial} anyway at "
                          f"{self.now():.3f} s", flush=True)
                    self.call.emit("dial", self.args.dial)
                    self.GLib.timeout_add(5000, self.quit)
            else:
                self.fail(f"error from {src}: {err.message}")
        elif t == Gst.MessageType.WARNING:
            err, _ = msg.parse_warning()
            self.warnings.append(f"{src}: {err.message}")
            print(f"warning {src}: {err.message}", flush=True)
        elif t == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if src == "call2":
                if s.get_name() == "webrtccall-state":
                    self.on_consult_state(s)
            elif s.get_name() == "webrtccall-state":
                self.on_state(s)
            elif s.get_name() == "wtsp-connection" and \
                    self.dropped_at is not None:
                st = s.get_string("state")
                self.link_states.append(st)
                print(f"signaling {st} at {self.now():.3f} s", flush=True)
                if st == "ready" and self.relinked_at is None:
                    self.relinked_at = self.now()
            elif s.get_name() == "webrtccall-transfer":
                self.transfer = {s.nth_field_name(i): str(s.get_value(
                    s.nth_field_name(i))) for i in range(s.n_fields())}
                print(f"transfer at {self.now():.3f} s {self.transfer}",
                      flush=True)
                if self.transfer_asked_at is not None:
                    self.transfer["after"] = self.now() - \
                        self.transfer_asked_at
                if self.transfer_sent_at is not None:
                    self.on_our_transfer(self.transfer)
            elif s.get_name() == "webrtccall-dtmf":
                ok, ms = s.get_uint("duration")
                self.dtmf.append((s.get_string("tone"), ms if ok else None,
                                  self.now()))
                print(f"dtmf {s.get_string('tone')} {ms} ms at "
                      f"{self.now():.3f} s line {s.get_value('line')}",
                      flush=True)
                self.check_far_dtmf()
            elif s.get_name() == "level" and self.connected_at is not None:
                rms = max(s.get_value("rms"))
                peak = max(s.get_value("peak"))
                self.levels.append((rms, peak))

    def ask_baresip(self, addr, command, params=""):
        """A ctrl_tcp command to baresip, off the main loop; a failure to
        reach it fails the run."""
        def ask():
            try:
                if self.ctrl is not None:
                    r = json.dumps(self.ctrl.command(command, params))
                    if '"ok": false' in r:
                        raise OSError(f"it answered {r[:200]}")
                else:
                    r = baresip_command(addr, command, params)
                print(f"baresip {command} {params} -> {r.strip()[:200]}",
                      flush=True)
            except OSError as e:
                self.GLib.idle_add(self.fail, f"could not ask baresip "
                                   f"({addr}) to {command} {params}: {e}")
        print(f"asking baresip to {command} {params} at {self.now():.3f} s",
              flush=True)
        threading.Thread(target=ask, daemon=True).start()

    def drop_signaling(self):
        """Kills our WebSocket's TCP connection (ss -K, inside the test's
        namespace): a signaling outage in the middle of the call."""
        if self.ended is not None:
            return False
        from urllib.parse import urlsplit
        u = urlsplit(self.args.server)
        cmd = ["ss", "-K", "dst", u.hostname, "dport", "=", str(u.port)]
        with self.lock:
            self.buffers_at_drop = self.buffers
        self.dropped_at = self.now()
        r = subprocess.run(cmd, capture_output=True, text=True)
        killed = sum(1 for line in r.stdout.splitlines()
                     if "ESTAB" in line)
        print(f"dropped the signaling link at {self.dropped_at:.3f} s "
              f"({' '.join(cmd)}: rc {r.returncode}, {killed} socket(s))",
              flush=True)
        if killed == 0:
            self.fail(f"ss -K killed no socket to {u.hostname}:{u.port} "
                      f"(rc {r.returncode}: {r.stderr.strip()[:200]})")
        return False

    def far_end_step(self):
        """--far-end-hold: hold, then resume; --far-end-transfer: a REFER.
        Each step waits for what the bin must post, 5 s at most."""
        a = self.args
        if self.ended is not None:
            return False
        if a.far_end_hold:
            if self.held_at is None and self.hold_asked_at is None:
                self.hold_asked_at = self.now()
                self.ask_baresip(a.far_end_hold, "hold")
                self.GLib.timeout_add(5000, self.expect_step, "held")
            elif self.held_at is not None and self.resume_asked_at is None:
                self.resume_asked_at = self.now()
                self.ask_baresip(a.far_end_hold, "resume")
                self.GLib.timeout_add(5000, self.expect_step, "resumed")
        elif a.far_end_transfer and self.transfer_asked_at is None:
            self.transfer_asked_at = self.now()
            addr, uri = a.far_end_transfer
            self.ask_baresip(addr, "transfer", uri)
            self.GLib.timeout_add(5000, self.expect_step, "transfer")
        return False

    def expect_step(self, what):
        seen = {"held": self.held_at, "resumed": self.resumed_at,
                "transfer": self.transfer}[what]
        if seen is None and self.ended is None:
            self.fail({"held": "no webrtccall-state held within 5 s of "
                       "baresip's hold",
                       "resumed": "no webrtccall-state connected within 5 s "
                       "of baresip's resume",
                       "transfer": "no webrtccall-transfer message within 5 s"
                       " of baresip's transfer"}[what])
        return False

    # --far-end-dtmf, then --send-dtmf: from 1 s after connected, one
    # after the other; the hangup follows 1 s after the last
    def dtmf_step(self):
        a = self.args
        if self.ended is not None:
            return False
        if a.far_end_dtmf and self.far_dtmf_asked_at is None:
            self.far_dtmf_asked_at = self.now()
            self.ask_baresip(a.baresip, "sndcode", a.far_end_dtmf)
            # baresip sends a key as 12 packets of 20 ms, the next at once
            self.far_dtmf_timer = self.GLib.timeout_add(
                int((2 + 0.5 * len(a.far_end_dtmf)) * 1000),
                self.far_dtmf_over)
        elif a.send_dtmf and self.dtmf_sent_at is None:
            self.dtmf_sent_at = self.now()
            self.dtmf_send_ok = self.call.emit("send-dtmf", a.send_dtmf)
            print(f"send-dtmf {a.send_dtmf} at {self.dtmf_sent_at:.3f} s: "
                  f"{self.dtmf_send_ok}", flush=True)
            # ~440 ms a key with the defaults, 2 s a pause
            keys = len(a.send_dtmf.replace(",", ""))
            self.send_dtmf_deadline = self.now() + 3 + 0.6 * keys + \
                2 * a.send_dtmf.count(",")
            self.GLib.timeout_add(100, self.send_dtmf_poll)
        else:
            self.dtmf_done_at = self.now()
            self.GLib.timeout_add(1000, self.hang_up)
        return False

    def check_far_dtmf(self):
        """A webrtccall-dtmf came: all of baresip's keys there?"""
        a = self.args
        if not getattr(a, "far_end_dtmf", None) or \
                self.far_dtmf_asked_at is None or \
                self.far_dtmf_timer is None:
            return
        got = [t for t, _, at in self.dtmf if at >= self.far_dtmf_asked_at]
        if len(got) >= len(a.far_end_dtmf):
            self.GLib.source_remove(self.far_dtmf_timer)
            self.far_dtmf_timer = None
            self.GLib.timeout_add(500, self.dtmf_step)

    def far_dtmf_over(self):
        self.far_dtmf_timer = None
        print(f"baresip's keys: deadline at {self.now():.3f} s", flush=True)
        self.dtmf_step()
        return False

    def baresip_keys(self, since):
        """What baresip reported receiving since @since: [(key, ms from
        its CALL_DTMF_START to the CALL_DTMF_END that followed)]"""
        keys = []
        if self.ctrl is None:
            return keys
        for t, type_, param in self.ctrl.events_of(
                ("CALL_DTMF_START", "CALL_DTMF_END"), since):
            if type_ == "CALL_DTMF_START":
                keys.append([param, t, None])
            elif keys and keys[-1][2] is None:
                keys[-1][2] = t
        return [(k, (end - start) * 1000 if end is not None else None)
                for k, start, end in keys]

    def send_dtmf_poll(self):
        a = self.args
        if self.ended is not None:
            return False
        keys = len(a.send_dtmf.replace(",", ""))
        done = self.now() >= self.send_dtmf_deadline
        if not done and self.ctrl is not None:
            got = self.baresip_keys(self.dtmf_sent_at)
            done = len(got) >= keys and got[-1][1] is not None
        if not done and self.ctrl is None and self.sniffer is not None:
            done = sum(1 for e in self.sniffer.events("to") if e[3]) >= keys
        if done:
            self.dtmf_step()
            return False
        return True

    def packets_sent(self):
        st = self.call.get_property("stats")
        if st is None:
            return None
        ok, n = st.get_int("audio-packets-sent")
        return n if ok else None

    # --hold-after: we hold, then unhold; hang up 2 s after connected again
    def hold_step(self):
        a = self.args
        if self.ended is not None:
            return False
        # hold and unhold return nothing (the bin warns when it cannot):
        # the states the bin posts after them are what count
        if self.hold_at is None:
            self.hold_at = self.now()
            self.call.emit("hold")
            print(f"hold at {self.hold_at:.3f} s", flush=True)
            self.GLib.timeout_add(5000, self.expect_hold, "holding")
        elif self.holding_at is not None and self.unhold_at is None:
            self.unhold_at = self.now()
            self.sent_at_unhold = self.packets_sent()
            self.call.emit("unhold")
            print(f"unhold at {self.unhold_at:.3f} s", flush=True)
            self.GLib.timeout_add(5000, self.expect_hold, "connected")
        return False

    def expect_hold(self, what):
        seen = self.holding_at if what == "holding" else self.unheld_at
        if seen is None and self.ended is None:
            self.fail(f"no webrtccall-state {what} within 5 s of our "
                      f"{'hold' if what == 'holding' else 'unhold'} "
                      f"(states seen: {self.seen()})")
        return False

    def count_sent_at_holding(self):
        self.sent_at_holding = self.packets_sent()
        return False

    def on_ready(self):
        """The bin is ready (its first "registered" state)."""
        a = self.args
        if self.mode == "answer":
            print("ready", flush=True)
            if a.dial_from:
                self.ask_baresip(a.dial_from[0], "dial", a.dial_from[1])
        elif self.mode == "dial" and not self.dialed:
            self.dialed = True
            print(f"dialling {a.dial} at {self.now():.3f} s", flush=True)
            self.call.emit("dial", a.dial)

    def on_state(self, s):
        state = s.get_string("state")
        fields = " ".join(f"{s.nth_field_name(i)}={s.get_value(s.nth_field_name(i))}"
                          for i in range(s.n_fields())
                          if s.nth_field_name(i) != "state")
        print(f"state {state} at {self.now():.3f} s {fields}".rstrip(),
              flush=True)
        first = state not in (st for st, _ in self.states)
        self.states.append((state, self.now()))
        a = self.args
        if getattr(a, "accept_transfers", False):
            if state == "ended" and self.transferred is None and \
                    (s.get_string("reason") or "").startswith("transferred"):
                # the bin took the far end's REFER: the new call follows
                self.transferred = (s.get_string("reason"), self.now())
                self.GLib.timeout_add(15000, self.no_transfer_call)
                return
            if self.transferred is not None and state != "ended":
                self.second.append((state, self.now()))
                if state == "connected":
                    self.GLib.timeout_add(2000, self.hang_up)
                return
        if state == "registered" and first:
            self.on_ready()
        elif state == "calling" and self.calling_at is None:
            self.calling_at = self.now()
        elif state == "incoming" and self.incoming is None:
            self.calling_at = self.now()
            self.incoming = {k: s.get_value(k) for k in ("caller", "callee")
                             if s.has_field(k)}
        elif state == "progress" and self.progress_at is None:
            self.progress_at = self.now()
        elif state == "accepted" and self.accepted_at is None:
            self.accepted_at = self.now()
            with self.lock:
                self.early_buffers = self.buffers
        elif state == "ringing" and self.ringing_at is None:
            self.ringing_at = self.now()
            if getattr(a, "hangup_after_ringing", None) is not None:
                self.GLib.timeout_add(int(a.hangup_after_ringing * 1000),
                                      self.hang_up)
        elif state == "holding" and self.holding_at is None:
            self.holding_at = self.now()
            # what our sender still had on its way: 0.3 s for it
            self.GLib.timeout_add(300, self.count_sent_at_holding)
            self.GLib.timeout_add(int(a.unhold_after * 1000),
                                  self.hold_step)
        elif state == "connected" and self.holding_at is not None and \
                self.unheld_at is None:
            self.unheld_at = self.now()
            self.GLib.timeout_add(2000, self.hang_up)
        elif state == "held" and self.held_at is None:
            self.held_at = self.now()
            self.GLib.timeout_add(1500, self.far_end_step)
        elif state == "connected" and self.held_at is not None and \
                self.resumed_at is None:
            self.resumed_at = self.now()
        elif state == "connected" and self.connected_at is None:
            self.connected_at = self.now()
            if getattr(a, "drop_signaling_after", None):
                self.GLib.timeout_add(int(a.drop_signaling_after * 1000),
                                      self.drop_signaling)
            # a hold 2 s in: baresip records what it got until then
            # (its dump stops at the re-INVITE), >= 1 s to check
            if getattr(a, "far_end_hold", None):
                self.GLib.timeout_add(2000, self.far_end_step)
            elif getattr(a, "far_end_transfer", None):
                self.GLib.timeout_add(1000, self.far_end_step)
            if getattr(a, "consult", None):
                self.GLib.timeout_add(int(a.transfer_after * 1000),
                                      self.consult_step)
            elif getattr(a, "transfer_to", None):
                self.GLib.timeout_add(int(a.transfer_after * 1000),
                                      self.transfer_step)
            elif getattr(a, "far_end_dtmf", None) or \
                    getattr(a, "send_dtmf", None):
                self.GLib.timeout_add(1000, self.dtmf_step)
            elif getattr(a, "hold_after", None) is not None:
                self.GLib.timeout_add(int(a.hold_after * 1000),
                                      self.hold_step)
            elif self.mode == "dial":
                self.GLib.timeout_add(1000, self.hang_up)
            elif a.far_end_ends:
                self.GLib.timeout_add(int((a.duration + 15) * 1000),
                                      self.no_far_end_bye)
            else:
                self.GLib.timeout_add(int(a.duration * 1000), self.hang_up)
        elif state == "ended":
            ok, code = s.get_int("code")
            self.ended = (code if ok else None, s.get_string("reason"))
            self.ended_at = self.now()
            self.stats = self.call.get_property("stats")
            if self.call2 is not None and self.consult_states and \
                    self.consult_states[-1][0] not in ("ended", "registered"):
                # the consultation call ends too (its far end would hang
                # up once replaced; ours does not know it was)
                print(f"hanging up call2 at {self.now():.3f} s", flush=True)
                self.call2.emit("hangup")
                self.GLib.timeout_add(10000, self.quit)
                return
            # a moment for the warnings that may follow
            self.GLib.timeout_add(300 if self.mode == "dial" else 0,
                                  self.quit)

    # --consult: the second bin calls the consultation party first; once
    # it is connected, the transfer replaces that call (attended)
    def consult_step(self):
        if self.ended is not None:
            return False
        print(f"consulting {self.args.consult} at {self.now():.3f} s",
              flush=True)
        self.call2.emit("dial", self.args.consult)
        self.GLib.timeout_add(15000, self.no_consult)
        return False

    def no_consult(self):
        if self.consult_id is None and self.ended is None:
            self.fail(f"the consultation call to {self.args.consult} did "
                      "not connect within 15 s (its states: "
                      f"{', '.join(st for st, _ in self.consult_states)})")
        return False

    def on_consult_state(self, s):
        state = s.get_string("state")
        print(f"call2 state {state} at {self.now():.3f} s", flush=True)
        self.consult_states.append((state, self.now()))
        if state == "connected" and self.consult_id is None:
            self.consult_id = self.call2.get_property("call-id")
            print(f"consultation call-id {self.consult_id}", flush=True)
            # a consultation: talk a moment first
            self.GLib.timeout_add(2000, self.transfer_step)
        elif state == "ended" and self.ended is not None:
            self.GLib.timeout_add(300, self.quit)

    # --transfer-to: we transfer the far end (a REFER through Janus)
    def transfer_step(self):
        a = self.args
        if self.ended is not None:
            return False
        self.transfer_sent_at = self.now()
        print(f"transferring to {a.transfer_to} at "
              f"{self.transfer_sent_at:.3f} s", flush=True)
        if 200 <= a.expect_transfer_status < 300:
            # the bin hangs up itself once the target answered
            self.hangup_sent = True
        self.call.emit("transfer", a.transfer_to, self.consult_id)
        self.GLib.timeout_add(20000, self.no_transfer_end)
        return False

    def on_our_transfer(self, t):
        t = dict(t, at=self.now() - self.transfer_sent_at)
        self.our_transfer.append(t)
        if t.get("event") == "notify" and \
                t.get("subscription-state") == "terminated":
            status = int(t.get("status") or 0)
            if not 200 <= status < 300:
                # a failed transfer: the call goes on, we hang up
                self.GLib.timeout_add(1000, self.hang_up)

    def no_transfer_call(self):
        if self.ended is None and not any(st == "connected"
                                          for st, _ in self.second):
            self.fail("the call to the transfer target did not connect "
                      f"within 15 s (its states: "
                      f"{', '.join(st for st, _ in self.second) or 'none'})")
        return False

    def accepted_transfer_report(self):
        figures, failures = "", []
        if self.transferred is None:
            failures.append("the call never ended as transferred "
                            "(accept-transfers)")
            return figures, failures
        reason, t0 = self.transferred
        steps = ", ".join(f"{st} {(t - t0) * 1000:.0f} ms"
                          for st, t in self.second)
        figures += f"; {reason!r}, then the new call: {steps or 'nothing'}"
        if not any(st == "connected" for st, _ in self.second):
            failures.append("the call to the transfer target never "
                            "connected")
        return figures, failures

    def transfer_final(self):
        for t in self.our_transfer:
            if t.get("event") == "notify" and \
                    t.get("subscription-state") == "terminated":
                return t
        return None

    def no_transfer_end(self):
        if self.ended is None and self.transfer_final() is None:
            self.fail("no final NOTIFY (subscription terminated) within "
                      "20 s of our transfer")
        return False

    def transfer_report(self):
        a = self.args
        figures, failures = "", []
        steps = ", ".join(
            f"{t.get('event')}"
            + (f" {t.get('status')} ({t.get('subscription-state')})"
               if t.get("event") == "notify" else "")
            + f" {t['at'] * 1000:.0f} ms" for t in self.our_transfer)
        figures += f"; our transfer to {a.transfer_to}: {steps or 'nothing'}"
        if getattr(a, "consult", None):
            figures += (f" (attended: replacing our call {self.consult_id} "
                        f"to {a.consult}: "
                        f"{', '.join(st for st, _ in self.consult_states)})")
            if self.consult_id is None:
                failures.append(f"the consultation call to {a.consult} "
                                "never connected")
        final = self.transfer_final()
        if not any(t.get("event") == "transferring"
                   for t in self.our_transfer):
            failures.append("no webrtccall-transfer event=transferring "
                            "after our transfer")
        if final is None:
            failures.append("no webrtccall-transfer notify with "
                            "subscription-state terminated")
        elif int(final.get("status") or 0) != a.expect_transfer_status:
            failures.append(f"the transfer ended with {final.get('content')!r}"
                            f", expected status {a.expect_transfer_status}")
        want = "failed" if not 200 <= a.expect_transfer_status < 300 else None
        if want and not any("transfer of call" in w and want in w
                            for w in self.warnings):
            failures.append("no warning that the transfer failed")
        return figures, failures

    def hang_up(self):
        if self.ended is not None:
            return False
        self.hangup_sent = True
        self.hung_up_at = self.now()
        if getattr(self.args, "far_end_hangup", None):
            self.ask_baresip(self.args.far_end_hangup, "hangup")
        else:
            print(f"hanging up at {self.now():.3f} s", flush=True)
            self.call.emit("hangup")
        # ended must follow within 10 s
        self.GLib.timeout_add(10000, self.no_end)
        return False

    def no_end(self):
        if self.ended is None:
            who = "baresip's" if getattr(self.args, "far_end_hangup", None) \
                else "our"
            self.fail(f"no webrtccall-state ended within 10 s of {who} "
                      "hangup")
        return False

    def no_far_end_bye(self):
        if self.ended is None:
            self.fail(f"the far end did not hang up within "
                      f"{self.args.duration + 15:.0f} s of connected")
        return False

    def seen(self):
        return ", ".join(st for st, _ in self.states) or "none"

    def timeout(self):
        if self.mode == "answer" and self.incoming is None:
            self.fail(f"no incoming call within {self.args.timeout} s "
                      f"(states seen: {self.seen()})")
        elif self.connected_at is None and self.ended is None:
            what = "ended" if self.mode == "dial" or self.args.no_connect \
                else "connected"
            self.fail(f"no webrtccall-state {what} within "
                      f"{self.args.timeout} s (states seen: {self.seen()})")
        else:
            self.fail(f"no webrtccall-state ended within {self.args.timeout}"
                      f" s (states seen: {self.seen()})")
        return False

    def run(self):
        a = self.args
        self.GLib.timeout_add(int(a.timeout * 1000), self.timeout)
        self.far_dtmf_timer = None
        try:
            if getattr(a, "baresip", None):
                self.ctrl = BaresipCtrl(a.baresip, self.t0)
        except OSError as e:
            self.fail(f"could not connect to baresip's ctrl_tcp "
                      f"({a.baresip}): {e}")
            return stop_pipeline(self.Gst, self.pipeline)
        try:
            if getattr(a, "rtp_sniff", None):
                far, near = ([int(x) for x in r.split("-")]
                             for r in a.rtp_sniff)
                self.sniffer = RtpSniffer(far, near, self.t0)
        except (OSError, ValueError) as e:
            self.fail(f"cannot read RTP off lo (--rtp-sniff "
                      f"{' '.join(a.rtp_sniff)}; root?): {e}")
            return stop_pipeline(self.Gst, self.pipeline)
        if self.pipeline.set_state(self.Gst.State.PLAYING) == \
                self.Gst.StateChangeReturn.FAILURE:
            self.fail("the pipeline did not go to PLAYING")
        else:
            self.loop.run()
        return stop_pipeline(self.Gst, self.pipeline)

    def ended_text(self):
        return (f"ended {self.ended[0]} \"{self.ended[1]}\""
                if self.ended else "not ended")

    def dial_report(self):
        """What the user saw of a dial (register --dial), and failures"""
        figures = (f"dialled {self.args.dial}"
                   f"{' anyway after the error' if self.errors else ''}: "
                   f"states {self.seen()}, {self.ended_text()}")
        if self.warnings:
            figures += "; its warnings: " + " | ".join(self.warnings)
        if self.errors:
            figures += "; its errors: " + " | ".join(self.errors)
        failures = []
        if self.connected_at is not None:
            failures.append("the call connected")
        if self.failure:
            failures.append(self.failure)
        return figures, failures

    def report(self, stopped, watch):
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
        ended = self.ended_text()
        if a.no_connect:
            figures = f"states {self.seen()}, {ended}"
        else:
            figures = (f"setup {setup}, {buffers} audio buffers, "
                       f"rms {rms:.1f} dB, peak {peak:.1f} dB, "
                       if rms is not None else
                       f"setup {setup}, {buffers} audio buffers, no level, ") \
                + f"tone ~{freq:.0f} Hz, {ended}{stat}"
        if self.incoming is not None:
            figures = (f"incoming from {self.incoming.get('caller')} to "
                       f"{self.incoming.get('callee')}, " + figures)
        if watch is not None:
            figures += "; " + watch.text()
        if a.no_connect and self.warnings:
            figures += "; warnings: " + " | ".join(self.warnings)

        failures = []
        if self.failure:
            failures.append(self.failure)
        if a.no_connect:
            if self.connected_at is not None:
                failures.append(f"the call connected, expected it to end "
                                f"with {a.expect_code} before")
            elif self.ended is None:
                if not self.failure:
                    failures.append("the call did not end")
            elif self.ended[0] != a.expect_code:
                failures.append(f"ended with code {self.ended[0]}, expected "
                                f"{a.expect_code}")
            if a.hangup_after_ringing is not None:
                if self.ringing_at is None:
                    failures.append("no webrtccall-state ringing (so no "
                                    "hangup while ringing)")
                elif not self.hangup_sent and self.ended is not None:
                    failures.append("the call ended while ringing, before "
                                    "our hangup")
        elif self.failure:
            pass
        elif self.connected_at is None:
            failures.append(f"the call ended before it connected: {ended}")
        elif not self.hangup_sent and not a.far_end_ends:
            failures.append(f"the call ended {self.ended_at - self.connected_at:.1f}"
                            f" s after connected, before the hangup: {ended}")
        elif a.far_end_ends and self.ended is not None and \
                self.ended_at - self.connected_at < a.duration * 0.5:
            failures.append(f"the far end hung up only "
                            f"{self.ended_at - self.connected_at:.1f} s "
                            f"after connected (expected ~{a.duration} s)")
        if self.connected_at is not None and not a.no_connect:
            if self.ended is not None and self.ended[0] != a.expect_code:
                failures.append(f"ended with code {self.ended[0]}, "
                                f"expected {a.expect_code}")
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
                                f"{a.freq} Hz")
        if getattr(a, "far_end_hold", None):
            if self.held_at is None:
                failures.append("never held (no webrtccall-state held after "
                                "baresip's hold)")
            elif self.resumed_at is None:
                failures.append("never resumed (no webrtccall-state "
                                "connected after baresip's resume)")
            else:
                figures += (f"; held {(self.held_at - self.hold_asked_at) * 1000:.0f}"
                            f" ms after baresip's hold, connected again "
                            f"{(self.resumed_at - self.resume_asked_at) * 1000:.0f}"
                            " ms after its resume")
        if getattr(a, "drop_signaling_after", None):
            if self.dropped_at is None:
                failures.append("the signaling link was never dropped")
            elif self.relinked_at is None:
                failures.append(f"the signaling link was not ready again "
                                f"(states after the drop: "
                                f"{', '.join(self.link_states) or 'none'})")
            else:
                with self.lock:
                    after = self.buffers - self.buffers_at_drop
                figures += (f"; signaling dropped at {self.dropped_at:.3f} s,"
                            f" ready again after "
                            f"{(self.relinked_at - self.dropped_at) * 1000:.0f}"
                            f" ms ({', '.join(self.link_states)}), "
                            f"{after} audio buffers after the drop")
                if after < 50:
                    failures.append(f"only {after} audio buffers after the "
                                    "signaling drop: media stopped")
        if getattr(a, "expect_warning", None):
            want = a.expect_warning.replace("-", " ")
            if not any(want in w for w in self.warnings):
                failures.append(f"no warning saying \"{want}\" (warnings: "
                                f"{' | '.join(self.warnings) or 'none'})")
        if getattr(a, "expect_early_media", False):
            if self.progress_at is None:
                failures.append("no webrtccall-state progress (early media)")
            elif self.accepted_at is None:
                failures.append("no webrtccall-state accepted after progress")
            else:
                figures += (f"; early media: progress at "
                            f"{self.progress_at:.3f} s, "
                            f"{self.early_buffers} audio buffers before "
                            f"accepted at {self.accepted_at:.3f} s")
                if self.early_buffers < 25:
                    failures.append(f"{self.early_buffers} audio buffers "
                                    "before accepted: no early media "
                                    "(expected >= 25 in its 2 s)")
        if getattr(a, "far_end_transfer", None):
            want = a.far_end_transfer[1]
            if self.transfer is None:
                failures.append("no webrtccall-transfer message")
            else:
                t = self.transfer
                figures += (f"; transfer {t.get('after', 0) * 1000:.0f} ms "
                            f"after baresip's: refer-to {t.get('refer-to')}, "
                            f"referred-by {t.get('referred-by')}, refer-id "
                            f"{t.get('refer-id')}")
                if want not in (t.get("refer-to") or ""):
                    failures.append(f"the transfer's refer-to is "
                                    f"{t.get('refer-to')!r}, expected {want}")
                if not t.get("refer-id") or t.get("refer-id") == "(null)":
                    failures.append("the transfer has no refer-id")
        if getattr(a, "far_end_dtmf", None) or getattr(a, "send_dtmf", None):
            more, fails = self.dtmf_report()
            figures += more
            failures += fails
        if getattr(a, "transfer_to", None):
            more, fails = self.transfer_report()
            figures += more
            failures += fails
        if getattr(a, "hold_after", None) is not None:
            more, fails = self.hold_report()
            figures += more
            failures += fails
        if self.mode == "answer" and a.accept_transfers:
            more, fails = self.accepted_transfer_report()
            figures += more
            failures += fails
        if self.mode == "answer" and a.expect_refer:
            t = self.transfer
            if t is None:
                failures.append("no webrtccall-transfer message (the far "
                                "end's REFER)")
            else:
                figures += (f"; transferred by the far end: refer-to "
                            f"{t.get('refer-to')}, referred-by "
                            f"{t.get('referred-by')}, replace-call-id "
                            f"{t.get('replace-call-id')}")
                if a.expect_refer not in (t.get("refer-to") or ""):
                    failures.append(f"the transfer's refer-to is "
                                    f"{t.get('refer-to')!r}, expected "
                                    f"{a.expect_refer}")
                if a.expect_replaces and a.expect_replaces not in \
                        (t.get("replace-call-id") or ""):
                    failures.append(f"the transfer's replace-call-id is "
                                    f"{t.get('replace-call-id')!r}, "
                                    f"expected {a.expect_replaces}")
        if self.mode == "answer" and a.expect_caller and self.incoming and \
                self.incoming.get("caller") != a.expect_caller:
            failures.append(f"incoming caller {self.incoming.get('caller')!r}"
                            f", expected {a.expect_caller!r}")
        if not stopped:
            failures.append("the pipeline did not stop")
        return figures, failures


    def dtmf_report(self):
        """--far-end-dtmf and --send-dtmf: what each side got, in order"""
        a = self.args
        figures, failures = "", []
        dtmf_warnings = [w for w in self.warnings if "DTMF" in w]
        if a.far_end_dtmf:
            want = list(a.far_end_dtmf.upper())
            asked = self.far_dtmf_asked_at
            early = [t for t, _, at in self.dtmf if asked is None or
                     at < asked]
            got = [(t, ms, at) for t, ms, at in self.dtmf
                   if asked is not None and at >= asked]
            figures += (f"; baresip sent {a.far_end_dtmf}: the bin posted "
                        + (", ".join(f"{t} {ms} ms" for t, ms, _ in got)
                           or "nothing"))
            if got:
                figures += (f" (first {(got[0][2] - asked) * 1000:.0f} ms, "
                            f"last {(got[-1][2] - asked) * 1000:.0f} ms "
                            f"after baresip's sndcode)")
            if self.sniffer is not None:
                wire = self.sniffer.events("from")
                figures += ("; on the wire from baresip: "
                            + RtpSniffer.text(wire))
                if [e[0] for e in wire] != want:
                    failures.append(
                        f"baresip's telephone-events on the wire are "
                        f"{''.join(e[0] for e in wire) or 'none'}, expected "
                        f"{a.far_end_dtmf}")
                # the bin's durations are the wire's at the clock rate our
                # offer gave that payload type
                rates = {110: 48000, 126: 8000}
                for (t, ms, _), e in zip(got, wire):
                    rate = rates.get(e[1])
                    if rate and ms is not None and \
                            abs(ms - e[2] * 1000 / rate) > 1:
                        failures.append(
                            f"the bin posted {t} {ms} ms, the wire says "
                            f"{e[2]} units at pt {e[1]} ({rate} Hz): "
                            f"{e[2] * 1000 / rate:.0f} ms")
                    if rate and e[6] and abs(e[6] - rate) > rate * 0.3 and \
                            "counts" not in figures:
                        figures += (f" (baresip counts the duration at "
                                    f"~{e[6] / 1000:.0f} kHz on pt {e[1]}, "
                                    f"a {rate} Hz telephone-event: its "
                                    f"{e[2]} units are "
                                    f"{e[2] * 1000 / e[6]:.0f} ms)")
            if asked is None:
                failures.append("baresip was never asked to send DTMF")
            elif [t for t, _, _ in got] != want:
                failures.append(
                    f"the bin posted webrtccall-dtmf "
                    f"{''.join(t for t, _, _ in got) or 'none'} after "
                    f"baresip's sndcode, expected {a.far_end_dtmf} in order")
            if any(not ms for _, ms, _ in got):
                failures.append("a webrtccall-dtmf without a duration")
            if early:
                failures.append(f"webrtccall-dtmf {''.join(early)} before "
                                "baresip sent any")
        elif self.dtmf:
            failures.append(f"webrtccall-dtmf {''.join(t for t, _, _ in self.dtmf)}"
                            " posted, though baresip sent no DTMF")
        if a.send_dtmf:
            want = [c for c in a.send_dtmf.upper() if c != ","]
            figures += (f"; send-dtmf \"{a.send_dtmf}\" returned "
                        f"{self.dtmf_send_ok}")
            why = ""
            if dtmf_warnings:
                figures += "; warnings: " + " | ".join(dtmf_warnings)
                why = " (the bin warned: " + " | ".join(dtmf_warnings) + ")"
            if self.dtmf_sent_at is None:
                failures.append("send-dtmf was never emitted")
            elif not self.dtmf_send_ok:
                failures.append(f"send-dtmf returned FALSE{why}")
            if self.ctrl is not None and self.dtmf_sent_at is not None:
                got = self.baresip_keys(self.dtmf_sent_at)
                figures += ("; baresip received " + (", ".join(
                    f"{k} {ms:.0f} ms" if ms is not None else f"{k} (no end)"
                    for k, ms in got) or "nothing")
                    + " (CALL_DTMF_START to CALL_DTMF_END)")
                if [k for k, _ in got] != want:
                    failures.append(
                        f"baresip received {''.join(k or '?' for k, _ in got) or 'no key'}"
                        f", expected {''.join(want)} in order{why}")
                elif any(ms is None for _, ms in got):
                    failures.append("baresip saw a key start without its end")
            if self.sniffer is not None:
                wire = self.sniffer.events("to")
                figures += ("; on the wire to baresip: "
                            + RtpSniffer.text(wire))
                if len(wire) > 1:
                    gaps = [(b[4] - a_[4]) * 1000
                            for a_, b in zip(wire, wire[1:])]
                    figures += (f"; keys {min(gaps):.0f}-{max(gaps):.0f} ms "
                                "apart")
                if [e[0] for e in wire] != want:
                    failures.append(
                        f"the telephone-events Janus sent baresip are "
                        f"{''.join(e[0] for e in wire) or 'none'}, expected "
                        f"{''.join(want)}{why}")
                elif any(e[3] == 0 for e in wire):
                    failures.append("a telephone-event to baresip without "
                                    "an end packet")
        return figures, failures

    def hold_report(self):
        """--hold-after: holding, our sender silent, connected again, heard
        again"""
        a = self.args
        figures, failures = "", []
        if self.hold_at is None:
            return figures, ["we never held (the call ended first?)"]
        if self.holding_at is None:
            return figures, failures + ["no webrtccall-state holding after "
                                        "our hold"]
        figures += (f"; holding {(self.holding_at - self.hold_at) * 1000:.0f}"
                    " ms after our hold")
        if self.unheld_at is None:
            return figures, failures + ["no webrtccall-state connected after "
                                        "our unhold"]
        figures += (f", connected again "
                    f"{(self.unheld_at - self.unhold_at) * 1000:.0f} ms after "
                    f"our unhold ({(self.unhold_at - self.holding_at):.1f} s "
                    "on hold)")
        if self.sent_at_holding is not None and \
                self.sent_at_unhold is not None:
            n = self.sent_at_unhold - self.sent_at_holding
            figures += (f"; our audio sender sent {n} packets from 0.3 s "
                        "after holding to the unhold")
            if n > 0:
                failures.append(f"our audio sender sent {n} packets while "
                                "we held the call")
        else:
            failures.append("no audio-packets-sent in the stats property")
        if self.ctrl is not None:
            offers = [t for t, _, p in self.ctrl.events_of(
                ("CALL_REMOTE_SDP",), self.hold_at) if p == "offer"]
            held = [t for t in offers if t < self.unhold_at]
            resumed = [t for t in offers if t >= self.unhold_at]
            if held:
                figures += (f"; baresip got the re-offer "
                            f"{(held[0] - self.hold_at) * 1000:.0f} ms after "
                            "our hold")
            else:
                failures.append("baresip got no re-offer (no CALL_REMOTE_SDP "
                                "offer event) between our hold and unhold")
            if resumed:
                figures += (f", the next {(resumed[0] - self.unhold_at) * 1000:.0f}"
                            " ms after our unhold")
            else:
                failures.append("baresip got no re-offer after our unhold")
        if self.sniffer is not None:
            s = self.sniffer
            end = self.hung_up_at if self.hung_up_at is not None else \
                self.now()
            spans = [("before", self.connected_at + 0.3, self.hold_at),
                     ("holding", self.holding_at + 0.3, self.unhold_at),
                     ("after", self.unheld_at + 0.3, end)]
            counts = {n: (s.audio_count("to", t0, t1),
                          s.audio_count("from", t0, t1), t1 - t0)
                      for n, t0, t1 in spans}
            figures += "; RTP packets to/from baresip: " + ", ".join(
                f"{n} {to}/{fr} in {d:.1f} s" for n, (to, fr, d)
                in counts.items())
            to, _, d = counts["before"]
            if to < 10 * d:
                failures.append(f"only {to} RTP packets to baresip in the "
                                f"{d:.1f} s before the hold")
            to, _, _ = counts["holding"]
            if to > 0:
                failures.append(f"baresip got {to} RTP packets of ours "
                                "while we held the call")
            to, _, d = counts["after"]
            if to < 10 * d:
                failures.append(f"baresip does not hear us again: {to} RTP "
                                f"packets to it in the {d:.1f} s after "
                                "connected again")
        return figures, failures


def result(figures, failures):
    if failures:
        print(f"result: FAIL: {'; '.join(failures)}: {figures}", flush=True)
        return 1
    print(f"result: ok: {figures}", flush=True)
    return 0


def run_register(args, t0):
    watch = Watch(args, t0, timeout=args.timeout)
    outcome = watch.run()
    figures = watch.text()
    if watch.errors:
        figures += "; signalingsrc's errors: " + " | ".join(watch.errors)
    failures = []
    statuses = watch.statuses()
    if outcome != args.expect:
        failures.append(outcome if outcome not in ("registered",
                                                   "registration_failed")
                        else f"the SIP registration is {outcome}, expected "
                        f"{args.expect}")
    if args.expect == "registered":
        if args.fresh and statuses[:1] != ["registering"]:
            failures.append(f"a new session must begin with registering, "
                            f"it began with {statuses[:1] or 'nothing'}")
    else:
        if "registered" in statuses:
            failures.append("registered seen, expected a failure")
        if not any("SIP registration failed" in e for e in watch.errors):
            failures.append("no error \"SIP registration failed\" from "
                            "signalingsrc")
    if args.dial and outcome == args.expect:
        call = Call(args, "dial", t0, force=True)
        call.run()
        more, dial_failures = call.dial_report()
        figures += "; " + more
        failures += dial_failures
    return result(figures, failures)


def run_call(args, mode, t0):
    watch = None
    if mode == "answer" or args.watch_registration:
        watch = Watch(args, t0)
        outcome = watch.run()
        if outcome != "registered":
            return result(watch.text(), [f"before the call: {outcome}"])
    call = Call(args, mode, t0, force=watch is not None)
    stopped = call.run()
    return result(*call.report(stopped, watch))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)

    def common(c):
        c.add_argument("--server", required=True, help="ws://HOST:PORT/...")
        c.add_argument("--token-file", required=True)
        c.add_argument("--timeout", type=float, default=30,
                       help="bound of the whole run (s)")
        c.add_argument("--send-freq", type=int, default=880)
        c.add_argument("--channels", type=int, default=1,
                       help="channels of what we send (audiotestsrc)")

    def media(c):
        c.add_argument("--duration", type=float, default=4,
                       help="seconds from connected to the hangup")
        c.add_argument("--far-end-hangup", metavar="HOST:PORT",
                       help="baresip's ctrl_tcp: it hangs up, not we")
        c.add_argument("--far-end-ends", action="store_true",
                       help="the far end hangs up by itself")
        c.add_argument("--hangup-after-ringing", type=float, metavar="S",
                       help="we hang up S s after ringing (with --no-connect)")
        c.add_argument("--expect-code", type=int, default=200,
                       help="the ended code the call must have")
        c.add_argument("--no-connect", action="store_true",
                       help="the call must end before connected")
        c.add_argument("--drop-signaling-after", type=float, metavar="S",
                       help="kill our WebSocket (ss -K) S s after connected:"
                       " the call must go on and the link come back")
        c.add_argument("--expect-warning", metavar="TEXT",
                       help="a WARNING message containing TEXT must come "
                       "('-' for a space)")
        c.add_argument("--expect-early-media", action="store_true",
                       help="progress, then >= 25 audio buffers before "
                       "accepted")
        c.add_argument("--far-end-hold", metavar="HOST:PORT",
                       help="baresip holds 2 s after connected, resumes "
                       "1.5 s after held")
        c.add_argument("--far-end-transfer", nargs=2,
                       metavar=("HOST:PORT", "URI"),
                       help="baresip transfers us to URI 1 s after "
                       "connected")
        c.add_argument("--baresip", metavar="HOST:PORT",
                       help="baresip's ctrl_tcp, open for the whole run: "
                       "its events are recorded, every baresip command goes "
                       "through it")
        c.add_argument("--far-end-dtmf", metavar="DIGITS",
                       help="1 s after connected baresip sends DIGITS "
                       "(sndcode; needs --baresip): a webrtccall-dtmf each")
        c.add_argument("--send-dtmf", metavar="TONES",
                       help="we send TONES (send-dtmf) 1 s after connected "
                       "(after --far-end-dtmf's); baresip (--baresip) and "
                       "the wire (--rtp-sniff) must have them")
        c.add_argument("--rtp-sniff", nargs=2, metavar=("FAR", "NEAR"),
                       help="read the RTP between the far end's ports FAR "
                       "(LOW-HIGH) and Janus' NEAR off lo (root)")
        c.add_argument("--hold-after", type=float, metavar="S",
                       help="we hold S s after connected, unhold "
                       "--unhold-after s after holding")
        c.add_argument("--unhold-after", type=float, default=2, metavar="S")
        c.add_argument("--transfer-to", metavar="TARGET",
                       help="we transfer the far end to TARGET (the "
                       "transfer action) --transfer-after s after connected")
        c.add_argument("--transfer-after", type=float, default=1,
                       metavar="S")
        c.add_argument("--consult", metavar="NUMBER",
                       help="attended: a second bin calls NUMBER first; "
                       "--transfer-to then replaces that call")
        c.add_argument("--expect-transfer-status", type=int, default=200,
                       metavar="N",
                       help="the status of the final NOTIFY (200: the bin "
                       "then hangs up itself; else it warns, the call goes "
                       "on and we hang up)")
        c.add_argument("--audio-codecs", metavar="LIST",
                       help="webrtccall's audio-codecs (e.g. PCMU)")
        c.add_argument("--min-buffers", type=int, default=50)
        c.add_argument("--min-rms", type=float, default=-50)
        c.add_argument("--freq", type=int, default=0,
                       help="the tone we must hear (Hz); 0: any")

    c = sub.add_parser("call", help="place a call and check it")
    common(c)
    media(c)
    c.add_argument("--number", default="bob")
    c.add_argument("--watch-registration", action="store_true",
                   help="first wait for the SIP registration")
    a = sub.add_parser("answer", help="answer a call and check it")
    common(a)
    media(a)
    a.add_argument("--dial-from", nargs=2, metavar=("HOST:PORT", "URI"),
                   help="baresip's ctrl_tcp, and the URI it must dial")
    a.add_argument("--expect-caller")
    a.add_argument("--expect-refer", metavar="TEXT",
                   help="the far end transfers us: a webrtccall-transfer "
                   "whose refer-to contains TEXT must come")
    a.add_argument("--accept-transfers", action="store_true",
                   help="accept-transfers=true: the far end's REFER ends "
                   "the call and the bin calls the target, which must "
                   "connect; we hang up 2 s later")
    a.add_argument("--expect-replaces", metavar="TEXT",
                   help="and its replace-call-id must contain TEXT (an "
                   "attended transfer)")
    r = sub.add_parser("register", help="check the SIP registration")
    common(r)
    r.add_argument("--expect", required=True,
                   choices=("registered", "registration_failed"))
    r.add_argument("--fresh", action="store_true",
                   help="a new session: registering must come first")
    r.add_argument("--dial", metavar="NUMBER",
                   help="then dial NUMBER and report what happens")
    w = sub.add_parser("wav", help="check a recording")
    w.add_argument("file")
    w.add_argument("--min-rms", type=float, default=-50)
    w.add_argument("--freq", type=int, default=0)
    w.add_argument("--wait", type=float, default=0)
    args = p.parse_args()
    if getattr(args, "far_end_dtmf", None) and not args.baresip:
        p.error("--far-end-dtmf needs --baresip")
    if args.mode == "wav":
        return check_wav(args)
    t0 = time.monotonic()
    if args.mode == "register":
        rc = run_register(args, t0)
    else:
        rc = run_call(args, args.mode, t0)
    sys.stdout.flush()
    # webrtcbin's threads may linger after a failed call: do not wait
    os._exit(rc)


if __name__ == "__main__":
    sys.exit(main())
