#!/usr/bin/python3
"""Table, plot and acceptance checks of bench/qor (python3 standard library only).

    table.py WORK_DIR WALL_SECONDS CPU_SECONDS QUICK UPTIME

Reads WORK_DIR/rows.tsv (written by run.sh: name, network, data set, accuracy, model, rtl dir,
verify data) and, per row, RTL_DIR/report.json (emit-verilog's totals and latency, hgqc synth's
"synth" object), RTL_DIR/mismatches.json and RTL_DIR.verify.rc (hgqc verify). Writes
WORK_DIR/qor.md, qor.csv and qor.svg and prints the markdown to stdout.
"""
import csv
import json
import math
import os
import sys

work, wall, cpu, quick, load = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]
FULL_VECTORS = 100000
WALL_LIMIT = 45 * 60


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


rows = []
with open(os.path.join(work, "rows.tsv")) as f:
    for line in f:
        name, net, ds, acc, model, rtl, data = line.rstrip("\n").split("\t")
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
            "model": name, "network": net, "data set": ds,
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
    keys = ["model", "network", "data set", "accuracy", "ebops", "luts_estimate", "yosys_luts", "ratio", "ffs",
            "cycles", "logic_levels", "vectors", "mismatches", "verify_rc", "emit_s", "verify_s", "synth_s",
            "synth_wall_s"]
    w.writerow(keys)
    for r in rows:
        w.writerow(["" if r[k] is None else r[k] for k in keys])

# Criteria (issue 6).
out = []
ratios = [r["ratio"] for r in rows]
bad1 = [r["model"] for r in rows if r["ratio"] is None or abs(r["ratio"] - 1) > 0.25]
got = [x for x in ratios if x is not None]
spread = f"est./Yosys from {min(got):.3f} to {max(got):.3f}" if got else "no synthesis result"
out.append(f"1. estimated LUTs within 25 % of Yosys LUTs on every row ({spread}): "
           + ("ok" if not bad1 else "NOT MET (" + "; ".join(bad1) + ")"))
c2 = []
any2 = False
for net in sorted({r["network"] for r in rows if r["data set"] == "Fashion-MNIST"}):
    q8 = next((r for r in rows if r["network"] == net and "w8a8" in r["model"]), None)
    hgq = [r for r in rows if r["network"] == net and " HGQ " in r["model"]]
    if not q8 or q8["yosys_luts"] is None:
        c2.append(f"{net}: no synthesized 8-bit baseline")
        continue
    ok = [r for r in hgq if r["accuracy"] is not None and r["yosys_luts"] is not None
          and r["accuracy"] >= q8["accuracy"] - 0.01 and r["yosys_luts"] * 10 <= q8["yosys_luts"]]
    near = [r for r in hgq if r["accuracy"] is not None and r["yosys_luts"] is not None
            and r["accuracy"] >= q8["accuracy"] - 0.01]
    if ok:
        b = min(ok, key=lambda r: r["yosys_luts"])
        any2 = True
        c2.append(f"{net}: {b['model']} at {b['accuracy']:.4f} ({100 * (q8['accuracy'] - b['accuracy']):.2f} "
                  f"points below w8a8's {q8['accuracy']:.4f}) uses {b['yosys_luts']} Yosys LUTs, "
                  f"{q8['yosys_luts'] / b['yosys_luts']:.1f}x fewer than w8a8's {q8['yosys_luts']}")
    elif near:
        b = min(near, key=lambda r: r["yosys_luts"])
        c2.append(f"{net}: the smallest HGQ row within 1 point of w8a8 ({q8['accuracy']:.4f}), {b['model']} "
                  f"at {b['accuracy']:.4f}, uses {b['yosys_luts']} Yosys LUTs, only "
                  f"{q8['yosys_luts'] / b['yosys_luts']:.1f}x fewer than w8a8's {q8['yosys_luts']}")
    else:
        c2.append(f"{net}: no HGQ row within 1 point of w8a8 ({q8['accuracy']:.4f})")
out.append("2. Fashion-MNIST: an HGQ model no more than 1 point below w8a8 with at most 1/10 of its Yosys LUTs: "
           + ("ok" if any2 else "NOT MET") + "\n   - " + "\n   - ".join(c2))
bad3 = [r["model"] for r in rows if not r["verify_ok"]]
short = [r["model"] for r in rows if r["verify_ok"] and (r["vectors"] or 0) < FULL_VECTORS]
out.append(f"3. every row passes hgqc verify with zero mismatches ({FULL_VECTORS} vectors): "
           + ("NOT MET (" + "; ".join(bad3) + ")" if bad3 else
              "NOT MET (fewer vectors: QUICK run)" if short else "ok"))
out.append(f"4. the whole run within {WALL_LIMIT // 60} minutes: {wall} s wall ({wall / 60:.1f} min), "
           f"{cpu:.0f} s CPU (user + sys, this script and its children): "
           + ("ok" if wall <= WALL_LIMIT and not quick else "NOT MET (QUICK run)" if quick else "NOT MET"))
out.append(f"load at the end (uptime): {load.strip()}")

text = "\n".join(md) + "\n\n" + "\n".join(out) + "\n"
with open(os.path.join(work, "qor.md"), "w") as f:
    f.write(text)
print(text, end="")

# Plot: accuracy against Yosys LUTs (log x), per Fashion-MNIST network: the HGQ front rows joined
# by a line, the uniform 8-bit and 4-bit baselines as separate markers.
pts = [r for r in rows if r["data set"] == "Fashion-MNIST" and r["accuracy"] is not None and r["yosys_luts"]]
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
               'accuracy, 10k test images (integer emulator)</text>')
    svg.append(f'<text x="{L}" y="{T - 10}">Fashion-MNIST: HGQ front points against uniform 8- and 4-bit</text>')
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    legend_y = T + 10
    for k, net in enumerate(sorted({r["network"] for r in pts})):
        c = colours[k % len(colours)]
        h = sorted((r for r in pts if r["network"] == net and " HGQ " in r["model"]), key=lambda r: r["yosys_luts"])
        if h:
            svg.append('<polyline fill="none" stroke="' + c + '" stroke-width="1.5" points="'
                       + " ".join(f"{px(r['yosys_luts']):.1f},{py(r['accuracy']):.1f}" for r in h) + '"/>')
        for r in h:
            svg.append(f'<circle cx="{px(r["yosys_luts"]):.1f}" cy="{py(r["accuracy"]):.1f}" r="4.5" fill="{c}"/>')
        for r in pts:
            if r["network"] != net or " HGQ " in r["model"]:
                continue
            x, y = px(r["yosys_luts"]), py(r["accuracy"])
            if "w8a8" in r["model"]:
                svg.append(f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="none" stroke="{c}" stroke-width="2"/>')
            else:
                svg.append(f'<polygon points="{x:.1f},{y - 6:.1f} {x - 6:.1f},{y + 5:.1f} {x + 6:.1f},{y + 5:.1f}" '
                           f'fill="none" stroke="{c}" stroke-width="2"/>')
        lx0 = W - R + 15
        svg.append(f'<circle cx="{lx0 + 5}" cy="{legend_y}" r="4.5" fill="{c}"/>')
        svg.append(f'<text x="{lx0 + 16}" y="{legend_y + 4}">{net} HGQ front</text>')
        svg.append(f'<rect x="{lx0}" y="{legend_y + 13}" width="10" height="10" fill="none" stroke="{c}" stroke-width="2"/>')
        svg.append(f'<text x="{lx0 + 16}" y="{legend_y + 22}">{net} w8a8</text>')
        svg.append(f'<polygon points="{lx0 + 5},{legend_y + 30} {lx0 - 1},{legend_y + 41} {lx0 + 11},{legend_y + 41}" '
                   f'fill="none" stroke="{c}" stroke-width="2"/>')
        svg.append(f'<text x="{lx0 + 16}" y="{legend_y + 40}">{net} w4a4</text>')
        legend_y += 62
svg.append("</svg>")
with open(os.path.join(work, "qor.svg"), "w") as f:
    f.write("\n".join(svg) + "\n")
