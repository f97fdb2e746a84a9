// The integer emulator of a quantized graph against the float evaluation of the same graph:
// the comparison shared by the fixed-point property test and the ONNX node tests.
#pragma once

#include "ir/eval.h"
#include "ir/fixed_eval.h"

#include <algorithm>
#include <vector>

namespace hgqc::test {

/// What fixed_vs_float() saw.
struct FixedVsFloat {
  FixedRun run;                 ///< the emulator's run
  std::vector<TensorDiff> diff; ///< by graph output: emulator against float evaluation
};

/// Runs the emulator and the float evaluator of the quantized graph `g` (ranges `ra`) on
/// `inputs` and compares each output within |emulator - float| <= atol + rtol * |float|
/// (0, 0: bit for bit).
inline FixedVsFloat fixed_vs_float(const Graph &g, const RangeAnalysis &ra,
                                   const std::vector<Tensor> &inputs, double rtol = 0,
                                   double atol = 0) {
  std::vector<Tensor> ref = evaluate(g, inputs);
  FixedVsFloat r{evaluate_fixed(g, ra, inputs), {}};
  for (size_t o = 0; o < ref.size(); ++o) {
    Tensor got = fixed_to_tensor(r.run.outputs.at(o), *ra.ranges[g.outputs[o]]);
    r.diff.push_back(compare(got, ref[o], rtol, atol));
  }
  return r;
}

/// The widest element of any value in `ra` (the float evaluator is exact up to 53 bits).
inline int max_fixed_width(const RangeAnalysis &ra) {
  int w = 0;
  for (const auto &r : ra.ranges)
    if (r)
      for (const Interval &iv : r->el)
        w = std::max(w, iv.width());
  return w;
}

} // namespace hgqc::test
