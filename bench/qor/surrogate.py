#!/usr/bin/python3
"""The LUT surrogate of `hgqc train` against the exact estimate, on every front model (python3
standard library): issue 14's "surrogate within 15 %".

    surrogate.py TRAIN_DIR...

For each training directory (an `hgqc train -o` folder) it reads front.csv (the front models'
epochs) and history.csv (by header: `luts_estimate`, the exact LUT estimate of the design
emit-verilog builds from the checkpoint, and `surrogate_luts_at_eval`, the training's surrogate
at the end of that epoch with the per-layer scales then in force, before that checkpoint
recalibrates them) and prints a markdown table, one row per front model, then the largest
error of each directory and whether every row is within 15 %.
"""
import csv
import os
import sys


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


print("| training | front model | exact estimate (LUTs) | surrogate (LUTs) | surrogate / exact |")
print("|---|---|---|---|---|")
worst = {}
for d in sys.argv[1:]:
    hist = {r["epoch"]: r for r in rows(os.path.join(d, "history.csv"))}
    name = os.path.basename(os.path.normpath(d))
    for f in rows(os.path.join(d, "front.csv")):
        h = hist.get(f["epoch"])
        if not h or not h.get("luts_estimate") or not h.get("surrogate_luts_at_eval"):
            continue
        exact, sur = float(h["luts_estimate"]), float(h["surrogate_luts_at_eval"])
        r = sur / exact if exact > 0 else float("inf")
        worst[name] = max(worst.get(name, 0.0), abs(r - 1))
        print(f"| {name} | {f['file']} | {exact:.0f} | {sur:.0f} | {r:.3f} |")
print()
for name, w in worst.items():
    print(f"- {name}: largest error {100 * w:.1f} % ({'ok' if w <= 0.15 else 'NOT MET'}: within 15 %)")
