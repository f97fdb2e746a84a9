// LogSoftmax: x - log(sum(exp(x))) along `axis`, computed as x - max - log(sum(exp(x - max)))
// (the family's hooks: softmax_common.h). Backward: dy - exp(y) * sum(dy) along the same view
// (training fuses an output LogSoftmax into the loss, as it does a Softmax).
#include "ir/ops/softmax_common.h"

namespace hgqc {
namespace {
namespace sm = ops::softmax;

std::vector<ExportNode> export_form(const Node &n, const ExportContext &ctx) {
  return sm::export_form(n, ctx, "LogSoftmax");
}

constexpr OpDef make_log_softmax() {
  OpDef d{"LogSoftmax", OpDomain::Onnx, 1, 1, 1, 1, true, &sm::import, &sm::infer, &sm::eval<true>};
  d.export_form = &export_form;
  d.train_forward = &sm::train_forward<true>;
  d.backward = &sm::backward<true>;
  return d;
}
} // namespace

const OpDef op_def_LogSoftmax = make_log_softmax();

} // namespace hgqc
