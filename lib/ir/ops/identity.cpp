// Identity: passes its input through (removed by the normalisation passes). Fixed
// point: a copy.
#include "ir/ops/fixed_common.h"

namespace hgqc {
namespace {
std::vector<Tensor> eval(const Node &, ops::Vals in) { return {*in[0]}; }
constexpr OpDef make_identity() {
  OpDef d{
      "Identity", OpDomain::Onnx, 1, 1, 1, 1, true, &ops::import_no_attrs, &ops::infer_like_input0,
      &eval};
  return ops::with_copy_hooks<&eval, 1>(d);
}
} // namespace

const OpDef op_def_Identity = make_identity();

} // namespace hgqc
