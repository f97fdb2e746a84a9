// Softmax: exp(x) / sum(exp(x)) along `axis` (the family's hooks: softmax_common.h). Backward:
// y * (dy - sum(dy * y)) along the same view (training fuses an output Softmax into the loss).
#include "ir/ops/softmax_common.h"

namespace hgqc {
namespace {
namespace sm = ops::softmax;

std::vector<ExportNode> export_form(const Node &n, const ExportContext &ctx) {
  return sm::export_form(n, ctx, "Softmax");
}

constexpr OpDef make_softmax() {
  OpDef d{"Softmax", OpDomain::Onnx, 1, 1, 1, 1, true, &sm::import, &sm::infer, &sm::eval<false>};
  d.export_form = &export_form;
  d.train_forward = &sm::train_forward<false>;
  d.backward = &sm::backward<false>;
  return d;
}
} // namespace

const OpDef op_def_Softmax = make_softmax();

} // namespace hgqc
