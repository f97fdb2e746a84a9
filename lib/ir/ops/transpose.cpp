// Transpose: permutes dimensions by `perm` (default: reversed). Fixed point: a copy; a
// permutation that moves the batch dimension is refused.
#include "ir/ops/fixed_common.h"

namespace hgqc {
namespace {
std::vector<int64_t> perm_of(const Node &n, int64_t rank) {
  std::vector<int64_t> def(static_cast<size_t>(rank));
  for (int64_t i = 0; i < rank; ++i)
    def[i] = rank - 1 - i;
  std::vector<int64_t> p = attr_ints(n, "perm", def);
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  if (static_cast<int64_t>(p.size()) != rank)
    throw UserError("perm has " + std::to_string(p.size()) + " entries for rank " +
                    std::to_string(rank));
  for (int64_t &x : p) {
    x = ops::checked_axis(x, rank, "perm entry");
    if (seen[x])
      throw UserError("perm is not a permutation");
    seen[x] = true;
  }
  return p;
}

void import(Node &n, ImportContext &ctx) {
  check_known_attrs(n, {"perm"});
  n.attrs["perm"] =
      perm_of(n, static_cast<int64_t>(ctx.graph.values[n.inputs[0]].type.dims.size()));
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  auto p = perm_of(n, static_cast<int64_t>(in[0]->dims.size()));
  ValueType r{in[0]->dtype, Dims(p.size())};
  for (size_t i = 0; i < p.size(); ++i)
    r.dims[i] = in[0]->dims[p[i]];
  return {r};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  const Tensor &x = *in[0];
  auto p = perm_of(n, x.rank());
  Dims od(p.size());
  auto xs = dims_strides(x.shape());
  std::vector<int64_t> src_stride(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    od[i] = x.shape()[p[i]];
    src_stride[i] = xs[p[i]];
  }
  Tensor r(x.dtype(), od);
  std::vector<int64_t> idx(p.size(), 0);
  int64_t src = 0;
  for (int64_t k = 0; k < r.numel(); ++k) {
    r[k] = x[src];
    for (int64_t ax = static_cast<int64_t>(p.size()) - 1; ax >= 0; --ax) {
      src += src_stride[ax];
      if (++idx[ax] < od[ax])
        break;
      src -= src_stride[ax] * od[ax];
      idx[ax] = 0;
    }
  }
  return {r};
}
constexpr OpDef make_transpose() {
  OpDef d{"Transpose", OpDomain::Onnx, 1, 1, 1, 1, true, &import, &infer, &eval};
  return ops::with_copy_hooks<&eval, 1>(d);
}
} // namespace

const OpDef op_def_Transpose = make_transpose();

} // namespace hgqc
