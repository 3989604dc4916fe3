#!/usr/bin/env python3
"""Draws bench/soak's samples as an SVG with one panel per measure, and prints a summary: first,
last and largest value of each and how much it grew from the first quarter of the run to the
last (the sign of a leak). Usage: soak-chart.py CSV SVG"""
import csv
import math
import sys

csv_in, svg_out = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(csv_in)))
# Drops are a counter since the daemon started: a rate per second between samples (a restart
# starts it again from zero).
previous = None
for r in rows:
    try:
        d, s = float(r["drops"]), float(r["seconds"])
    except ValueError:
        r["drops_per_s"] = "nan"
        continue
    if previous is None or s <= previous[1]:
        r["drops_per_s"] = "nan"
    else:
        r["drops_per_s"] = str((d - previous[0] if d >= previous[0] else d) / (s - previous[1]))
    previous = (d, s)
t = [float(r["seconds"]) / 60 for r in rows]
series = [("rss_mb", "daemon RSS, MB"), ("fds", "daemon open fds"), ("kernel_mb", "kernel slab (unreclaimable), MB"),
          ("drops_per_s", "switch drops per second (all reasons; the hostile sender's)"), ("ping_p99_ms", "ping p99 over 4 s, ms"),
          ("ping_lost", "pings lost of 400"),
          ("restarts", "kill -9 restarts")]


def values(key):
    out = []
    for r in rows:
        try:
            v = float(r[key])
            out.append(v if not math.isnan(v) else None)
        except ValueError:
            out.append(None)
    return out


width, panel, pad = 900, 150, 60
height = pad + len(series) * (panel + 40)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
       f'<text x="{pad}" y="24" font-size="16">vswitchd soak: {t[-1] if t else 0:.0f} minutes</text>']
print("%-40s %10s %10s %10s %12s" % ("measure", "first", "last", "max", "last/first q"))
for i, (key, label) in enumerate(series):
    v = values(key)
    pts = [(x, y) for x, y in zip(t, v) if y is not None]
    top = pad + i * (panel + 40)
    svg.append(f'<text x="{pad}" y="{top - 6}">{label}</text>')
    svg.append(f'<rect x="{pad}" y="{top}" width="{width - 2 * pad}" height="{panel}" fill="none" stroke="#ccc"/>')
    if not pts:
        continue
    ys = [y for _, y in pts]
    lo, hi = min(0, min(ys)), max(ys) or 1
    xmax = max(x for x, _ in pts) or 1
    path = " ".join(f"{pad + (x / xmax) * (width - 2 * pad):.1f},{top + panel - (y - lo) / (hi - lo or 1) * panel:.1f}" for x, y in pts)
    svg.append(f'<polyline points="{path}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>')
    svg.append(f'<text x="{width - pad + 4}" y="{top + 10}">{hi:g}</text><text x="{width - pad + 4}" y="{top + panel}">{lo:g}</text>')
    q = max(1, len(ys) // 4)
    first_q, last_q = sum(ys[:q]) / q, sum(ys[-q:]) / q
    growth = last_q / first_q if first_q else float("nan")
    print("%-40s %10.2f %10.2f %10.2f %11.2fx" % (label, ys[0], ys[-1], max(ys), growth))
svg.append("</svg>")
open(svg_out, "w").write("\n".join(svg))
