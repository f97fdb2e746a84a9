// Log: the natural logarithm, in float only (no fixed-point form: log of a quantized value
// reaches -infinity at 0). PyTorch writes nn.LogSigmoid as Log(Sigmoid(x)), which the
// fuse_activations pass rewrites into -Softplus(-x), whose ops all have one.
#include "ir/ops/common.h"

#include <cmath>

namespace hgqc {
namespace {
struct LogImpl {
  struct P {};
  static void import(Node &n, ImportContext &c) { ops::import_no_attrs(n, c); }
  static P params(const Node &) { return {}; }
  static double apply(const P &, double x) { return std::log(x); }
};
constexpr OpDef make_log() { return ops::unary_op<LogImpl>("Log"); }
} // namespace

const OpDef op_def_Log = make_log();

} // namespace hgqc
