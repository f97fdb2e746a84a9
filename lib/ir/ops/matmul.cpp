// MatMul: numpy matmul (1-D operands promoted, leading dimensions broadcast).
#include "ir/ops/common.h"

namespace hgqc {
namespace {
// Output dims, or throws. Works on static dims (kDynamic allowed) and run-time dims.
Dims out_dims(const Dims &a0, const Dims &b0) {
  if (a0.empty() || b0.empty())
    throw UserError("MatMul operands must have rank >= 1");
  Dims a = a0, b = b0;
  if (a.size() == 1)
    a.insert(a.begin(), 1);
  if (b.size() == 1)
    b.push_back(1);
  int64_t k = a.back(), kb = b[b.size() - 2];
  if (!ops::dims_compatible(k, kb))
    throw UserError("inner dimensions differ: " + dims_str(a0) + " x " + dims_str(b0));
  Dims ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2), r;
  if (!broadcast_dims(ba, bb, r))
    throw UserError("batch dimensions do not broadcast: " + dims_str(a0) + " x " + dims_str(b0));
  if (a0.size() > 1)
    r.push_back(a[a.size() - 2]);
  if (b0.size() > 1)
    r.push_back(b.back());
  return r;
}

std::vector<ValueType> infer(const Node &, ops::Ins in, ops::Consts) {
  ops::require_float(in[0]->dtype, "input A");
  ops::require_float(in[1]->dtype, "input B");
  return {ValueType{in[0]->dtype, out_dims(in[0]->dims, in[1]->dims)}};
}

std::vector<Tensor> eval(const Node &, ops::Vals in) {
  Dims a = in[0]->shape(), b = in[1]->shape();
  Dims rd = out_dims(a, b);
  if (a.size() == 1)
    a.insert(a.begin(), 1);
  if (b.size() == 1)
    b.push_back(1);
  int64_t m = a[a.size() - 2], k = a.back(), n = b.back();
  Dims ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2), batch;
  broadcast_dims(ba, bb, batch);
  // Strides of each operand's matrices over the broadcast batch index space.
  auto sa = broadcast_strides(ba, batch), sb = broadcast_strides(bb, batch);
  Tensor r(in[0]->dtype(), rd);
  int64_t nb = dims_numel(batch);
  std::vector<int64_t> idx(batch.size(), 0);
  for (int64_t t = 0; t < nb; ++t) {
    int64_t oa = 0, ob = 0, rem = t;
    for (int64_t ax = static_cast<int64_t>(batch.size()) - 1; ax >= 0; --ax) {
      int64_t i = rem % batch[ax];
      rem /= batch[ax];
      oa += i * sa[ax];
      ob += i * sb[ax];
    }
    const double *pa = in[0]->data().data() + oa * m * k;
    const double *pb = in[1]->data().data() + ob * k * n;
    double *pr = r.data().data() + t * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t l = 0; l < k; ++l)
          acc += pa[i * k + l] * pb[l * n + j];
        pr[i * n + j] = acc;
      }
  }
  return {r};
}
} // namespace

const OpDef op_def_MatMul = {"MatMul", OpDomain::Onnx,        2,      2,    1, 1,
                             true,     &ops::import_no_attrs, &infer, &eval};

} // namespace hgqc
