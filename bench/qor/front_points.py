#!/usr/bin/python3
"""Picks the front models of one `hgqc train` run that bench/qor emits (python3 standard library).

    front_points.py FRONT_CSV W8A8_ACCURACY POINTS

Reads FRONT_CSV by its header (columns `file` and `accuracy`, and the cost the front is ranked
on: `luts_estimate` where front.csv has it, else `ebops`) and prints one line per chosen model,
`FILE<TAB>WHY`, with POINTS 1 or 3:
  1: the smallest model no more than 1 point below W8A8_ACCURACY ("within 1 pt of w8a8"); if there
     is none, the smallest within 1 point of the front's best ("within 1 pt of the best");
  3: also the most accurate model ("best"), and the model nearest to half of the first one's cost
     ("smaller"), or if there is none smaller, the one nearest the geometric mean of the two
     ("between").
"""
import csv
import math
import sys

path, q8, points = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
if points not in (1, 3):
    sys.exit(f"front_points.py: POINTS is 1 or 3, not {points}")
with open(path, newline="") as f:
    reader = csv.DictReader(f)
    cost_key = "luts_estimate" if "luts_estimate" in reader.fieldnames else "ebops"
    for key in ("file", "accuracy", cost_key):
        if key not in reader.fieldnames:
            sys.exit(f"front_points.py: {path} has no column '{key}'")
    front = [{"file": r["file"], "acc": float(r["accuracy"]), "cost": float(r[cost_key])} for r in reader]
if not front:
    sys.exit(f"front_points.py: {path} lists no model")


def smallest(models):
    return min(models, key=lambda m: (m["cost"], -m["acc"])) if models else None


best = max(front, key=lambda m: (m["acc"], -m["cost"]))
mid, why = smallest([m for m in front if m["acc"] >= q8 - 0.01]), "within 1 pt of w8a8"
if mid is None:
    mid, why = smallest([m for m in front if m["acc"] >= best["acc"] - 0.01]), "within 1 pt of the best"
chosen = [(mid, why)]
if points == 3:
    if best is not mid:
        chosen.insert(0, (best, "best"))
    below = [m for m in front if m["cost"] < mid["cost"]]
    if below:
        chosen.append((min(below, key=lambda m: abs(math.log(m["cost"] / (mid["cost"] / 2)))), "smaller"))
    else:
        between = [m for m in front if m is not best and m is not mid and mid["cost"] < m["cost"] < best["cost"]]
        if between:
            target = math.sqrt(mid["cost"] * best["cost"])
            chosen.append((min(between, key=lambda m: abs(math.log(m["cost"] / target))), "between"))
for m, why in chosen:
    print(f"{m['file']}\t{why}")
