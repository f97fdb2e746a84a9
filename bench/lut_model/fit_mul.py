#!/usr/bin/python3
"""Fits the LUT model's multiplier class to Yosys LUT counts of multiplier designs.

    fit_mul.py RTL_DIR...   (each emitted by hgqc emit-verilog and synthesized by hgqc synth)

Reads report.json's totals.lut_model_bits and synth.luts. The other classes keep the
coefficients of lib/backend/lut_model.cpp (BASE below; fitted by fit.py on designs without
multipliers); the multiplier class's coefficient is the least-squares fit of relative error
of the whole estimate. Prints one row per design with the estimate in report.json and the
fitted one. Python standard library only.
"""
import json
import sys

BASE = {"carry_both_operands": 1.05, "carry_one_operand": 0.21, "mux": 0.03}
MUL = "multiplier_partial_products"

rows = []
for d in sys.argv[1:]:
    with open(d + "/report.json") as f:
        r = json.load(f)
    if "synth" not in r:
        sys.exit(f"{d}: no synth figures in report.json (run hgqc synth {d})")
    t = r["totals"]
    bits = t["lut_model_bits"]
    base = sum(c * bits[k] for k, c in BASE.items())
    rows.append((d, r["synth"]["luts"], t["luts_estimate"], base, bits[MUL]))
# minimize sum ((base + c m) / y - 1)^2 over c
num = sum(m / y * (1 - b / y) for _, y, _, b, m in rows)
den = sum((m / y) ** 2 for _, y, _, b, m in rows)
coef = num / den
print(f"| design | Yosys LUTs | {MUL} bits | report.json estimate (err) | fitted (err) |")
print("|---|---|---|---|---|")
worst = 0.0
for d, y, est, b, m in rows:
    fit = b + coef * m
    worst = max(worst, abs(fit / y - 1))
    print(f"| {d.removeprefix('rtl_')} | {y} | {m} | {est} ({100 * (est / y - 1):+.1f} %) "
          f"| {fit:.0f} ({100 * (fit / y - 1):+.1f} %) |")
print(f"fitted coefficient: {MUL} {coef:.3f}")
print(f"largest relative error of the fitted model: {100 * worst:.1f} %")
