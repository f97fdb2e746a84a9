// Gemm: Y = alpha * A' * B' + beta * C, with A' = A or A^T (transA) and likewise B';
// C (optional) broadcasts to [M, N].
#include "ir/ops/common.h"

namespace hgqc {
namespace {
void import(Node &n, ImportContext &) {
  // `broadcast` (before opset 7) only allowed what later opsets always allow.
  check_known_attrs(n, {"alpha", "beta", "transA", "transB", "broadcast"});
  n.attrs.erase("broadcast");
  n.attrs["alpha"] = attr_float(n, "alpha", 1.0);
  n.attrs["beta"] = attr_float(n, "beta", 1.0);
  n.attrs["transA"] = attr_int(n, "transA", 0);
  n.attrs["transB"] = attr_int(n, "transB", 0);
}

struct MNK {
  int64_t m, n, k;
};

MNK dims_of(const Node &nd, const Dims &a, const Dims &b) {
  ops::require_rank(a, 2, "input A");
  ops::require_rank(b, 2, "input B");
  bool ta = attr_int(nd, "transA", 0), tb = attr_int(nd, "transB", 0);
  int64_t m = ta ? a[1] : a[0], k = ta ? a[0] : a[1];
  int64_t kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
  if (!ops::dims_compatible(k, kb))
    throw UserError("inner dimensions differ: A is " + dims_str(a) + (ta ? " (transposed)" : "") +
                    ", B is " + dims_str(b) + (tb ? " (transposed)" : ""));
  return {m, n, k == kDynamic ? kb : k};
}

// C must broadcast to Y without growing it (unidirectional broadcast).
void check_bias(const Dims &c, const Dims &y) {
  Dims b;
  bool ok = c.size() <= 2 && broadcast_dims(c, y, b);
  for (size_t i = 0; ok && i < b.size(); ++i)
    ok = ops::dims_compatible(b[i], y[i]);
  if (!ok)
    throw UserError("bias C of shape " + dims_str(c) + " does not broadcast to " + dims_str(y));
}

std::vector<ValueType> infer(const Node &nd, ops::Ins in, ops::Consts) {
  ops::require_float(in[0]->dtype, "input A");
  ops::require_float(in[1]->dtype, "input B");
  MNK s = dims_of(nd, in[0]->dims, in[1]->dims);
  Dims y{s.m, s.n};
  if (in.size() > 2 && in[2])
    check_bias(in[2]->dims, y);
  return {ValueType{in[0]->dtype, y}};
}

std::vector<Tensor> eval(const Node &nd, ops::Vals in) {
  const Tensor &a = *in[0], &b = *in[1];
  MNK s = dims_of(nd, a.shape(), b.shape());
  bool ta = attr_int(nd, "transA", 0), tb = attr_int(nd, "transB", 0);
  double alpha = attr_float(nd, "alpha", 1.0), beta = attr_float(nd, "beta", 1.0);
  Tensor y(a.dtype(), {s.m, s.n});
  if (in.size() > 2 && in[2]) {
    check_bias(in[2]->shape(), y.shape());
    y = ops::map_binary(y, *in[2], a.dtype(), [beta](double, double c) { return beta * c; });
  }
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < s.k; ++k)
        acc += a[ta ? k * s.m + i : i * s.k + k] * b[tb ? j * s.k + k : k * s.n + j];
      y[i * s.n + j] += alpha * acc;
    }
  return {y};
}
} // namespace

const OpDef op_def_Gemm = {"Gemm", OpDomain::Onnx, 2, 3, 1, 1, true, &import, &infer, &eval};

} // namespace hgqc
