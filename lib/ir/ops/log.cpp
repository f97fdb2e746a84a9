// Log: the natural logarithm. Fixed point: a table (table_common.h) over a non-negative input
// range; log 0 = -infinity, which a saturating output quantizer clamps to its lowest code (a
// wrapping one refuses it); a range reaching below 0 is refused. Exact at x = 1; elsewhere
// transcendental. Backward: dy / x. (fuse_activations rewrites PyTorch's LogSigmoid,
// Log(Sigmoid(x)), into -Softplus(-x) rather than two tables.)
#include "ir/ops/table_common.h"

#include <type_traits>

namespace hgqc {
namespace {
struct LogImpl : ops::NoParams {
  template <class T> static ops::TableValue<T> value(const P &, T x) {
    if (x < 0) {
      if constexpr (std::is_same_v<T, double>) // the float evaluator: NaN, as ONNX has it
        return {T(0) / T(0), 1, false};
      else
        throw UserError("the input range reaches a negative value (" +
                        std::to_string(static_cast<double>(x)) +
                        "), where log has no real value; a table needs a non-negative input "
                        "range (e.g. after Relu, Sigmoid or Exp)");
    }
    if (x == 0)
      return {T(-1), T(0), true}; // -infinity
    if (x == 1)
      return {T(0), T(1), true};
    return {ops::tmath::log(x), 1, false};
  }
  static double grad(const P &, double x) { return 1 / x; }
};
constexpr OpDef make_log() { return ops::table_op<LogImpl>("Log"); }
} // namespace

const OpDef op_def_Log = make_log();

} // namespace hgqc
