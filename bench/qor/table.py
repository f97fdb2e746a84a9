#!/usr/bin/python3
"""Table, plot and acceptance checks of bench/qor (python3 standard library only).

    table.py WORK_DIR --wall S --cpu S --quick 0|1 --uptime TEXT --title DATA_SET
             [--need NET=RATIO ...] [--wall-limit S]

Reads WORK_DIR/rows.tsv (written by bench/qor/common.sh: name, network, data set, accuracy, model,
rtl dir, verify data, kind: w8a8, luts or ebops) and, per row, RTL_DIR/report.json (emit-verilog's
totals and latency, hgqc synth's "synth" object), RTL_DIR/mismatches.json and RTL_DIR.verify.rc
(hgqc verify). Writes WORK_DIR/qor.md, qor.csv and qor.svg and prints the markdown to stdout.
Criterion 2 compares, per network, the smallest HGQ row of each cost within 1 point of w8a8 with
w8a8; `--need NET=RATIO` makes it a pass/fail check of the luts row (at least RATIO times fewer
Yosys LUTs), without it the ratios are only printed. `--wall-limit` makes the wall time a check.
"""
import argparse
import csv
import json
import math
import os

ap = argparse.ArgumentParser()
ap.add_argument("work")
ap.add_argument("--wall", type=int, required=True)
ap.add_argument("--cpu", type=float, required=True)
ap.add_argument("--quick", default="0")
ap.add_argument("--uptime", default="")
ap.add_argument("--title", required=True)
ap.add_argument("--need", action="append", default=[])
ap.add_argument("--wall-limit", type=int)
args = ap.parse_args()
work, wall, cpu, quick, load = args.work, args.wall, args.cpu, args.quick == "1", args.uptime
need = {n: float(r) for n, r in (x.split("=") for x in args.need)}
FULL_VECTORS = 100000
COSTS = ("luts", "ebops")


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


rows = []
with open(os.path.join(work, "rows.tsv")) as f:
    for line in f:
        name, net, ds, acc, model, rtl, data, kind = line.rstrip("\n").split("\t")
        rep = load_json(os.path.join(rtl, "report.json")) or {}
        syn = rep.get("synth") or {}
        mm = load_json(os.path.join(rtl, "mismatches.json")) or {}
        try:
            with open(rtl + ".verify.rc") as g:
                rc = int(g.read())
        except (OSError, ValueError):
            rc = None
        tot = rep.get("totals") or {}
        r = {
            "model": name, "network": net, "data set": ds, "kind": kind,
            "accuracy": float(acc) if acc not in ("n/a", "") else None,
            "ebops": tot.get("ebops"), "luts_estimate": tot.get("luts_estimate"),
            "yosys_luts": syn.get("luts"), "ffs": syn.get("ffs"),
            "cycles": rep.get("latency_cycles"), "logic_levels": syn.get("logic_levels"),
            "synth_s": syn.get("seconds"),
            "vectors": mm.get("vectors"), "mismatches": mm.get("mismatched_vectors"), "verify_rc": rc,
        }
        try:
            with open(rtl + ".times") as g:
                t = g.read().split()
            r.update({"emit_s": float(t[1]), "verify_s": float(t[3]), "synth_wall_s": float(t[5])})
        except (OSError, ValueError, IndexError):
            r.update({"emit_s": None, "verify_s": None, "synth_wall_s": None})
        r["ratio"] = (r["luts_estimate"] / r["yosys_luts"]) if r["luts_estimate"] and r["yosys_luts"] else None
        r["verify_ok"] = rc == 0 and r["mismatches"] == 0
        rows.append(r)


def fmt(v, spec="{}"):
    return "-" if v is None else spec.format(v)


def verify_text(r):
    if r["verify_rc"] is None:
        return "not run"
    if r["verify_ok"]:
        return f"0 of {r['vectors']} differ"
    if r["mismatches"]:
        return f"FAILED: {r['mismatches']} of {r['vectors']} differ"
    return f"FAILED (exit {r['verify_rc']})"


head = ["model", "data set", "accuracy (emulator)", "EBOPs", "LUTs (est.)", "Yosys LUTs", "est./Yosys",
        "FFs", "cycles", "logic levels", "verify"]
md = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
for r in rows:
    md.append("| " + " | ".join([
        r["model"], r["data set"], fmt(r["accuracy"], "{:.4f}") if r["accuracy"] is not None else "n/a",
        fmt(r["ebops"], "{:.0f}"), fmt(r["luts_estimate"]), fmt(r["yosys_luts"]), fmt(r["ratio"], "{:.3f}"),
        fmt(r["ffs"]), fmt(r["cycles"]), fmt(r["logic_levels"]), verify_text(r)]) + " |")

with open(os.path.join(work, "qor.csv"), "w", newline="") as f:
    w = csv.writer(f)
    keys = ["model", "network", "kind", "data set", "accuracy", "ebops", "luts_estimate", "yosys_luts", "ratio", "ffs",
            "cycles", "logic_levels", "vectors", "mismatches", "verify_rc", "emit_s", "verify_s", "synth_s",
            "synth_wall_s"]
    w.writerow(keys)
    for r in rows:
        w.writerow(["" if r[k] is None else r[k] for k in keys])

# Criteria (issue 14).
out = []
ratios = [r["ratio"] for r in rows]
bad1 = [r["model"] for r in rows if r["ratio"] is None or abs(r["ratio"] - 1) > 0.25]
got = [x for x in ratios if x is not None]
spread = f"est./Yosys from {min(got):.3f} to {max(got):.3f}" if got else "no synthesis result"
out.append(f"1. estimated LUTs within 25 % of Yosys LUTs on every row ({spread}): "
           + ("ok" if not bad1 else "NOT MET (" + "; ".join(bad1) + ")"))


def smallest_within(net, cost, q8):
    """The HGQ row of net and cost with the fewest Yosys LUTs no more than 1 point below q8."""
    near = [r for r in rows if r["network"] == net and r["kind"] == cost and r["accuracy"] is not None
            and r["yosys_luts"] and r["accuracy"] >= q8["accuracy"] - 0.01]
    return min(near, key=lambda r: r["yosys_luts"]) if near else None


c2, met2 = [], True
for net in sorted({r["network"] for r in rows}):
    q8 = next((r for r in rows if r["network"] == net and r["kind"] == "w8a8"), None)
    if not q8 or not q8["yosys_luts"] or q8["accuracy"] is None:
        c2.append(f"{net}: no synthesized w8a8 baseline")
        met2 = met2 and net not in need
        continue
    parts = []
    for cost in COSTS:
        b = smallest_within(net, cost, q8)
        if b is None:
            parts.append(f"{cost}: no HGQ row within 1 point" + (": NOT MET" if cost == "luts" and net in need else ""))
            met2 = met2 and not (cost == "luts" and net in need)
            continue
        x = q8["yosys_luts"] / b["yosys_luts"]
        verdict = ""
        if cost == "luts" and net in need:
            verdict = f" (need {need[net]:g}x): " + ("ok" if x >= need[net] else "NOT MET")
            met2 = met2 and x >= need[net]
        d = 100 * (q8["accuracy"] - b["accuracy"])
        parts.append(f"{cost}: {b['model']} at {b['accuracy']:.4f} ({abs(d):.2f} points {'below' if d >= 0 else 'above'}), "
                     f"{b['yosys_luts']} Yosys LUTs, {x:.1f}x fewer{verdict}")
    c2.append(f"{net} (w8a8 {q8['accuracy']:.4f}, {q8['yosys_luts']} Yosys LUTs):\n     - " + "\n     - ".join(parts))
goal = ", ".join(f"{r:g}x ({n})" for n, r in sorted(need.items()))
out.append(f"2. {args.title}: the smallest HGQ model of each cost within 1 point of w8a8's accuracy, "
           + (f"the luts one with at least {goal} fewer Yosys LUTs than w8a8: " + ("ok" if met2 else "NOT MET")
              if need else "Yosys LUTs against w8a8 (no target)")
           + "\n   - " + "\n   - ".join(c2))
bad3 = [r["model"] for r in rows if not r["verify_ok"]]
short = [r["model"] for r in rows if r["verify_ok"] and (r["vectors"] or 0) < FULL_VECTORS]
out.append(f"3. every row passes hgqc verify with zero mismatches ({FULL_VECTORS} vectors): "
           + ("NOT MET (" + "; ".join(bad3) + ")" if bad3 else
              "NOT MET (fewer vectors: QUICK run)" if short else "ok"))
if args.wall_limit:
    out.append(f"4. the whole run within {args.wall_limit // 60} minutes: {wall} s wall ({wall / 60:.1f} min), "
               f"{cpu:.0f} s CPU (user + sys, this script and its children): "
               + ("NOT MET (QUICK run)" if quick else "ok" if wall <= args.wall_limit else "NOT MET"))
else:
    out.append(f"4. time: {wall} s wall ({wall / 60:.1f} min), {cpu:.0f} s CPU (user + sys, this script and its children)")
out.append(f"load at the end (uptime): {load.strip()}")

text = "\n".join(md) + "\n\n" + "\n".join(out) + "\n"
with open(os.path.join(work, "qor.md"), "w") as f:
    f.write(text)
print(text, end="")

# Plot: accuracy against Yosys LUTs (log x), per network: the HGQ rows of each cost joined by a line
# (luts: filled circles, solid; ebops: open circles, dashed), the uniform 8-bit baseline a square.
pts = [r for r in rows if r["accuracy"] is not None and r["yosys_luts"]]
W, H, L, R, T, B = 720, 460, 70, 190, 30, 55
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>']
if pts:
    lx = [math.log10(r["yosys_luts"]) for r in pts]
    x0, x1 = math.floor(min(lx)), math.ceil(max(lx))
    if x1 == x0:
        x1 = x0 + 1
    ys = [r["accuracy"] for r in pts]
    y0, y1 = math.floor(min(ys) * 50) / 50, math.ceil(max(ys) * 50) / 50
    if y1 <= y0:
        y1 = y0 + 0.02
    px = lambda v: L + (math.log10(v) - x0) / (x1 - x0) * (W - L - R)
    py = lambda a: H - B - (a - y0) / (y1 - y0) * (H - T - B)
    svg.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#444"/>')
    for e in range(x0, x1 + 1):
        for m in (1, 2, 5):
            v = m * 10 ** e
            if x0 <= math.log10(v) <= x1:
                x = px(v)
                svg.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{H - B}" stroke="#ddd"/>')
                svg.append(f'<text x="{x:.1f}" y="{H - B + 16}" text-anchor="middle">{v:g}</text>')
    steps = int(round((y1 - y0) / 0.01))
    every = max(1, steps // 8)
    for i in range(0, steps + 1, every):
        a = y0 + i * 0.01
        y = py(a)
        svg.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#ddd"/>')
        svg.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{a:.2f}</text>')
    svg.append(f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">Yosys LUTs (synth_xilinx, xc7; log scale)</text>')
    svg.append(f'<text x="16" y="{(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 {(T + H - B) / 2})">'
               'accuracy, test set (integer emulator)</text>')
    svg.append(f'<text x="{L}" y="{T - 10}">{args.title}: HGQ (LUT cost, EBOPs) against uniform 8-bit</text>')
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    legend_y = T + 10
    lx0 = W - R + 15
    for k, net in enumerate(sorted({r["network"] for r in pts})):
        c = colours[k % len(colours)]
        for cost, fill, dash in (("luts", c, ""), ("ebops", "white", ' stroke-dasharray="5,3"')):
            h = sorted((r for r in pts if r["network"] == net and r["kind"] == cost), key=lambda r: r["yosys_luts"])
            if len(h) > 1:
                svg.append(f'<polyline fill="none" stroke="{c}" stroke-width="1.5"{dash} points="'
                           + " ".join(f"{px(r['yosys_luts']):.1f},{py(r['accuracy']):.1f}" for r in h) + '"/>')
            for r in h:
                svg.append(f'<circle cx="{px(r["yosys_luts"]):.1f}" cy="{py(r["accuracy"]):.1f}" r="4.5" '
                           f'fill="{fill}" stroke="{c}" stroke-width="1.5"/>')
            svg.append(f'<circle cx="{lx0 + 5}" cy="{legend_y}" r="4.5" fill="{fill}" stroke="{c}" stroke-width="1.5"/>')
            svg.append(f'<text x="{lx0 + 16}" y="{legend_y + 4}">{net} HGQ {cost}</text>')
            legend_y += 18
        for r in pts:
            if r["network"] == net and r["kind"] == "w8a8":
                x, y = px(r["yosys_luts"]), py(r["accuracy"])
                svg.append(f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="none" stroke="{c}" stroke-width="2"/>')
        svg.append(f'<rect x="{lx0}" y="{legend_y - 5}" width="10" height="10" fill="none" stroke="{c}" stroke-width="2"/>')
        svg.append(f'<text x="{lx0 + 16}" y="{legend_y + 4}">{net} w8a8</text>')
        legend_y += 26
svg.append("</svg>")
with open(os.path.join(work, "qor.svg"), "w") as f:
    f.write("\n".join(svg) + "\n")
