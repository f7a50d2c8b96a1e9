#!/usr/bin/python3
"""A call's quality over time, as a PNG: bitrate, packet loss and round trip.

    pipelines/call-report.py FILE.jsonl [-o REPORT.png] [--call-id ID]

FILE.jsonl is what webrtccall's `stats-file` property writes: one
webrtccall-stats message per line (every `stats-interval` ms while a call is
up). With several calls in the file, each gets its own report
(REPORT-<call-id>.png) unless --call-id picks one. Prints the path of each
PNG and one line of figures per call. Needs python3-matplotlib.

SPDX-License-Identifier: LGPL-2.1-or-later
"""
import argparse
import json
import os
import sys

KINDS = (("audio", "in"), ("audio", "out"), ("video", "in"), ("video", "out"))


def read(path):
    calls = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"call-report: {path}:{n}: not JSON ({e})")
            if not isinstance(rec, dict) or "call-id" not in rec \
                    or "time-ms" not in rec:
                sys.exit(f"call-report: {path}:{n}: not a webrtccall-stats line")
            if rec["call-id"]:
                calls.setdefault(rec["call-id"], []).append(rec)
    return calls


def series(recs, field):
    t0 = recs[0]["time-ms"]
    return ([(r["time-ms"] - t0) / 1000.0 for r in recs if field in r],
            [r[field] for r in recs if field in r])


def lost_per_interval(recs, field):
    """Packets lost between two samples (the stats count since the start)"""
    ts, vs = series(recs, field)
    return ts[1:], [max(0, b - a) for a, b in zip(vs, vs[1:])]


def summary(call_id, recs):
    last = recs[-1]
    parts = [f"call {call_id}: {len(recs)} samples over "
             f"{(last['time-ms'] - recs[0]['time-ms']) / 1000.0:.1f} s"]
    for kind, d in KINDS:
        _, rates = series(recs, f"{kind}-{d}-bitrate")
        rates = [r for r in rates if r > 0]
        if rates:
            codec = last.get(f"{kind}-{d}-codec", "?")
            parts.append(f"{kind} {d} {codec} {sum(rates) / len(rates) / 1000:.0f} kbit/s")
    for kind in ("audio", "video"):
        lost = last.get(f"{kind}-in-packets-lost")
        if lost is not None:
            parts.append(f"{kind} lost {int(lost)}")
    _, rtts = series(recs, "round-trip-ms")
    if rtts:
        parts.append(f"rtt {sorted(rtts)[len(rtts) // 2]:.1f} ms median")
    pair = last.get("local-candidate-type")
    if pair:
        parts.append(f"candidates {pair}/{last.get('remote-candidate-type', '?')}")
    return ", ".join(parts)


def plot(call_id, recs, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_rate, ax_loss, ax_rtt) = plt.subplots(3, 1, sharex=True,
                                                   figsize=(9, 8))
    fig.suptitle(f"webrtccall {call_id}")
    for kind, d in KINDS:
        ts, vs = series(recs, f"{kind}-{d}-bitrate")
        if ts:
            ax_rate.plot(ts, [v / 1000.0 for v in vs], label=f"{kind} {d}")
        if d == "in":
            ts, vs = lost_per_interval(recs, f"{kind}-in-packets-lost")
            if ts:
                ax_loss.plot(ts, vs, label=f"{kind} received")
        else:
            ts, vs = series(recs, f"{kind}-out-fraction-lost")
            if ts:
                ax_loss.plot(ts, [v * 100 for v in vs], "--",
                             label=f"{kind} sent (% lost, far end's RTCP)")
    ts, vs = series(recs, "round-trip-ms")
    if ts:
        ax_rtt.plot(ts, vs, label="round trip")
    for kind in ("audio", "video"):
        ts, vs = series(recs, f"{kind}-in-jitter-ms")
        if ts:
            ax_rtt.plot(ts, vs, ":", label=f"{kind} jitter")
    ax_rate.set_ylabel("kbit/s")
    ax_rate.set_ylim(bottom=0)
    ax_loss.set_ylabel("packets lost")
    ax_loss.set_ylim(bottom=0)
    ax_rtt.set_ylabel("ms")
    ax_rtt.set_xlabel("seconds since the first sample")
    for ax in (ax_rate, ax_loss, ax_rtt):
        ax.grid(True, alpha=0.3)
        if ax.get_lines():
            ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("jsonl")
    ap.add_argument("-o", "--output", help="PNG to write (default: "
                    "FILE.png next to FILE.jsonl)")
    ap.add_argument("--call-id")
    args = ap.parse_args()

    calls = read(args.jsonl)
    if args.call_id:
        calls = {k: v for k, v in calls.items() if k == args.call_id}
    if not calls:
        sys.exit(f"call-report: no call in {args.jsonl}"
                 + (f" with call-id {args.call_id}" if args.call_id else ""))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        sys.exit("call-report: needs matplotlib (apt-get install "
                 "python3-matplotlib)")

    base = args.output or os.path.splitext(args.jsonl)[0] + ".png"
    for call_id, recs in calls.items():
        out = base
        if len(calls) > 1:
            root, ext = os.path.splitext(base)
            out = f"{root}-{call_id}{ext}"
        plot(call_id, recs, out)
        print(summary(call_id, recs))
        print(out)


if __name__ == "__main__":
    main()
