#!/bin/sh
# Times hgqc's commands on graph-size stress models (long chains, a wide Concat) and prints a
# table per command and size: wall seconds, CPU seconds (user + system: the figure to compare
# on a loaded machine) and peak memory.
#   bench/graph_scale/run.sh [HGQC] [SIZES...]   (default: build/hgqc, 8000 32000 100000)
set -e
here=$(cd "$(dirname "$0")" && pwd)
hgqc=$(realpath "${1:-$here/../../build/hgqc}")
[ $# -gt 0 ] && shift
sizes=${*:-8000 32000 100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd /
/usr/bin/python3 -c "import numpy as np; np.save('$work/x.npy', np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))"
printf '%-12s %8s %-22s %8s %8s %8s\n' model size command wall_s cpu_s MB
for n in $sizes; do
  /usr/bin/python3 "$here/gen_models.py" "$work" "$n"
  for row in "identity:inspect" "dropout:inspect" "identity:run" "concat:inspect" "concat:run" \
             "relu_fixed:run --fixed" "relu_fixed:convert" "relu_fixed:emit-verilog"; do
    m=${row%%:*}
    c=${row#*:}
    case "$c" in
      inspect) args="inspect $work/${m}_$n.onnx" ;;
      run) args="run $work/${m}_$n.onnx -i $work/x.npy -o $work/out.npy" ;;
      "run --fixed") args="run --fixed $work/${m}_$n.onnx -i $work/x.npy -o $work/out.npy" ;;
      convert) args="convert $work/${m}_$n.onnx -o $work/out.onnx" ;;
      emit-verilog) args="emit-verilog $work/${m}_$n.onnx -o $work/rtl --check-vectors 100" ;;
    esac
    /usr/bin/time -o "$work/time" -f '%e %U %S %M' "$hgqc" -q $args >/dev/null 2>&1 || true
    set -- $(tail -1 "$work/time")
    printf '%-12s %8s %-22s %8s %8s %8s\n' "$m" "$n" "$c" "$1" "$(awk "BEGIN { print $2 + $3 }")" "$(( $4 / 1024 ))"
  done
  rm -f "$work"/*_"$n".onnx
done
