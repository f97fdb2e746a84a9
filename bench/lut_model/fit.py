#!/usr/bin/python3
"""Fits the LUT model's coefficients (lib/backend/lut_model.cpp) to Yosys LUT counts.

    fit.py RTL_DIR...   (each emitted by hgqc emit-verilog and synthesized by hgqc synth)

Reads report.json's totals.lut_model_bits and synth.luts, prints one row per design (Yosys
LUTs, the one-LUT-per-output-bit count, the current estimate and their errors), then the
non-negative least-squares fit of relative error (each design weighs the same) and its
errors per design. Python standard library only.
"""
import json
import sys

CLASSES = ["carry_both_operands", "carry_one_operand", "mux"]

rows = []
for d in sys.argv[1:]:
    with open(d + "/report.json") as f:
        r = json.load(f)
    if "synth" not in r:
        sys.exit(f"{d}: no synth figures in report.json (run hgqc synth {d})")
    t = r["totals"]
    rows.append((d, r["synth"]["luts"], t["output_bits"], t["luts_estimate"],
                 [t["lut_model_bits"][c] for c in CLASSES], t["ebops"]))
if len(rows) < len(CLASSES):
    sys.exit("need at least as many designs as classes")


def solve(a, b):
    """Least squares by the normal equations (tiny systems)."""
    n = len(a[0])
    m = [[sum(r[i] * r[j] for r in a) for j in range(n)] + [sum(r[i] * y for r, y in zip(a, b))]
         for i in range(n)]
    for c in range(n):
        p = max(range(c, n), key=lambda k: abs(m[k][c]))
        m[c], m[p] = m[p], m[c]
        if abs(m[c][c]) < 1e-12:
            return None
        for k in range(n):
            if k != c:
                f = m[k][c] / m[c][c]
                m[k] = [x - f * y for x, y in zip(m[k], m[c])]
    return [m[i][n] / m[i][i] for i in range(n)]


def nnls(a, b):
    """Non-negative least squares by dropping negative coefficients (active set)."""
    free = list(range(len(a[0])))
    while True:
        x = solve([[r[i] for i in free] for r in a], b) if free else []
        if x is None or all(v >= 0 for v in x):
            coef = [0.0] * len(a[0])
            for i, v in zip(free, x or []):
                coef[i] = v
            return coef
        free.pop(min(range(len(x)), key=lambda k: x[k]))


# Relative errors: scale every row by 1/Yosys LUTs.
a = [[v / y for v in bits] for _, y, _, _, bits, _ in rows]
coef = nnls(a, [1.0] * len(rows))
# EBOPs (the training cost) as a LUT estimate: one slope, relative least squares.
ratios = [y / e for _, y, _, _, _, e in rows if e > 0]
slope = sum(1 / r for r in ratios) / sum(1 / (r * r) for r in ratios) if ratios else 0.0
print("| design | Yosys LUTs | one LUT per output bit (err) | report.json estimate (err) "
      "| fitted model (err) | EBOPs | Yosys LUTs / EBOPs |")
print("|---|---|---|---|---|---|---|")
worst = 0.0
for d, y, ob, est, bits, e in rows:
    fit = sum(c * v for c, v in zip(coef, bits))
    worst = max(worst, abs(fit / y - 1))
    print(f"| {d} | {y} | {ob} ({100 * (ob / y - 1):+.1f} %) | {est} ({100 * (est / y - 1):+.1f} %)"
          f" | {fit:.0f} ({100 * (fit / y - 1):+.1f} %) | {e:.0f} | {y / e if e else 0:.3f} |")
print("fitted coefficients: " + ", ".join(f"{c} {v:.3f}" for c, v in zip(CLASSES, coef)))
print(f"largest relative error of the fitted model: {100 * worst:.1f} %")
if ratios:
    errs = [abs(slope / r - 1) for r in ratios]
    print(f"EBOPs as an estimate: Yosys LUTs = {slope:.3f} x EBOPs, largest relative error "
          f"{100 * max(errs):.1f} % (Yosys LUTs / EBOPs from {min(ratios):.3f} to {max(ratios):.3f})")
