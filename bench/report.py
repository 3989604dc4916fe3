#!/usr/bin/env python3
"""Turns the raw figures of bench/run into the table, the JSON file and the SVG chart.

Input (stdin): one line per figure: "PATH METRIC VALUE" (VALUE may be "n/a").
Arguments: JSON_OUT SVG_OUT TITLE
"""
import json
import sys
import time

METRICS = [
    # key, label, unit, better
    ("tcp1", "TCP 1 stream", "Gbit/s", "higher"),
    ("tcp4", "TCP 4 streams", "Gbit/s", "higher"),
    # Offered is what the client's interface took from the generator; refused counts the sends
    # it turned away (the TAP's queue or the veth peer's backlog full), which the generator
    # retries: many refusals mean the generator was ahead of the switch. Neither is "better".
    ("offered64", "64 B offered", "Mframes/s", "neither"),
    ("refused64", "64 B sends refused, retried", "M/s", "neither"),
    ("udp64", "64 B forwarded", "Mframes/s", "higher"),
    ("us_per_frame64", "switch CPU per 64 B frame", "us", "lower"),
    ("syscalls_per_frame64", "syscalls per 64 B frame", "calls", "lower"),
    ("syscalls_per_frame_tcp1", "syscalls per TCP 1 frame", "calls", "lower"),
    ("io_syscalls_per_frame_tcp1", "  without epoll waits, yields", "calls", "lower"),
    ("ping_p50", "ping p50", "ms", "lower"),
    ("ping_p99", "ping p99", "ms", "lower"),
    ("idle_cpu_pct", "switch CPU idle", "% of a CPU", "lower"),
    ("cpu_cores", "switch CPU (TCP 1)", "cores", "lower"),
    ("gbps_per_core", "TCP 1 per switch core", "Gbit/s/core", "higher"),
]
BASELINE = "bridge"


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def main():
    json_out, svg_out, title = sys.argv[1], sys.argv[2], sys.argv[3]
    figures = {}
    order = []
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 3:
            continue
        path, metric, value = parts
        if path not in figures:
            figures[path] = {}
            order.append(path)
        figures[path][metric] = number(value)
    base = figures.get(BASELINE, {})

    # Table: every path, then each path against the bridge, vswitchd against each other switch,
    # and vswitchd (io_uring) against its epoll build when that ran.
    paths = order
    pairs = [(p, BASELINE) for p in paths if p != BASELINE] + [
        ("vswitchd", p) for p in paths
        if p != BASELINE and not p.startswith("vswitchd") and "vswitchd" in figures]
    if "vswitchd" in figures and "vswitchd-epoll" in figures:
        pairs.append(("vswitchd", "vswitchd-epoll"))
    ratios = {}
    for a, b in pairs:
        ratios["%s/%s" % (a, b)] = {
            key: (figures[a][key] / figures[b][key]
                  if figures[a].get(key) is not None and figures[b].get(key) else None)
            for key, _, _, _ in METRICS}
    columns = list(paths) + list(ratios)
    widths = {name: max(10, len(name) + 2) for name in columns}
    print("%-40s" % "metric" + "".join("%*s" % (widths[name], name) for name in columns))
    for key, label, unit, _ in METRICS:
        if not any(key in figures[p] for p in paths):
            continue
        row = "%-40s" % ("%s (%s)" % (label, unit))
        for p in paths:
            v = figures[p].get(key)
            row += "%*s" % (widths[p], "n/a" if v is None else ("%.3f" % v if v < 10 else "%.2f" % v))
        for name in ratios:
            r = ratios[name][key]
            row += "%*s" % (widths[name], "n/a" if r is None else "%.2fx" % r)
        print(row)

    with open(json_out, "w") as f:
        json.dump({"title": title, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "baseline": BASELINE, "paths": order,
                   "metrics": {k: {"label": l, "unit": u, "better": b} for k, l, u, b in METRICS},
                   "figures": figures, "ratios": ratios}, f, indent=2)

    # SVG: one panel per metric, one bar per path, values on the bars.
    shown = [m for m in METRICS if any(figures[p].get(m[0]) is not None for p in paths)]
    colors = ["#2b6cb0", "#9c4221", "#2f855a", "#6b46c1", "#b7791f", "#4a5568"]
    pw, ph, pad = 200, 220, 30
    width = pad + len(shown) * (pw + pad)
    height = ph + 110
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="22" font-size="16" font-weight="bold">%s</text>' % (pad, title)]
    for i, p in enumerate(paths):
        out.append('<rect x="%d" y="32" width="12" height="12" fill="%s"/><text x="%d" y="43">%s</text>'
                   % (pad + i * 160, colors[i % len(colors)], pad + i * 160 + 16, p))
    for j, (key, label, unit, better) in enumerate(shown):
        x0 = pad + j * (pw + pad)
        top = 70
        vals = [figures[p].get(key) for p in paths]
        vmax = max([v for v in vals if v is not None] or [1]) or 1
        bw = (pw - 20) / max(1, len(paths))
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>' % (x0, top + ph - 40, x0 + pw, top + ph - 40))
        for i, v in enumerate(vals):
            if v is None:
                continue
            h = (ph - 60) * v / vmax
            x = x0 + 10 + i * bw
            y = top + ph - 40 - h
            out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>' % (x + 4, y, bw - 8, h, colors[i % len(colors)]))
            out.append('<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>' % (x + bw / 2, y - 4, ("%.3g" % v)))
        out.append('<text x="%d" y="%d" text-anchor="middle" font-weight="bold">%s</text>' % (x0 + pw / 2, top + ph - 20, label))
        note = unit if better == "neither" else "%s, %s is better" % (unit, better)
        out.append('<text x="%d" y="%d" text-anchor="middle" fill="#555">%s</text>' % (x0 + pw / 2, top + ph - 4, note))
    out.append('</svg>')
    with open(svg_out, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
