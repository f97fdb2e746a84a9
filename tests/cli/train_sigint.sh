#!/bin/sh
# Ctrl-C during `hgqc train`: exit 130 after the current step, the front of the finished epochs
# intact (every model file loads and runs in the emulator), history.csv written.
#   train_sigint.sh HGQC MODEL DATA OUTDIR
set -u
hgqc=$1 model=$2 data=$3 out=$4
rm -rf "$out"
"$hgqc" train "$model" --data "$data" -o "$out" --epochs 1000000 --batch 16 2>"$out.log" &
pid=$!
i=0
while [ ! -s "$out/history.csv" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
kill -INT $pid
wait $pid
rc=$?
cat "$out.log"
[ $rc -eq 130 ] || { echo "expected exit 130, got $rc"; exit 1; }
grep -q "interrupted" "$out.log" || { echo "no interruption message"; exit 1; }
[ -s "$out/history.csv" ] || { echo "history.csv missing"; exit 1; }
n=0
for f in "$out"/epoch_*.onnx; do
  [ -e "$f" ] || continue
  "$hgqc" -q run --fixed "$f" -i "$out/val_x.npy" --labels "$out/val_y.npy" >/dev/null ||
    { echo "$f does not run"; exit 1; }
  n=$((n + 1))
done
[ $n -ge 1 ] || { echo "no model left"; exit 1; }
ls "$out" | grep -q '\.tmp\.' && { echo "temporary file left behind"; exit 1; }
echo "interrupted cleanly with $n model(s) on the front"
