// Reading a quantized model file into its fixed-point form, as `hgqc run --fixed` does.
#include "frontend/fixed_model.h"

#include "frontend/onnx_import.h"
#include "ir/op.h"

namespace hgqc {

Graph read_fixed_model(const std::string &path, const ToFixedOptions &opt,
                       std::vector<std::string> *notes) {
  Graph g = import_onnx(path);
  normalize(g);
  bool any = false;
  for (const Node &n : g.nodes)
    any |= n.op == OpKind::Quant || n.op == OpKind::FixedQuant || n.op == OpKind::BipolarQuant;
  if (!any)
    throw UserError("the model has no quantizers: quantize it first (hgqc quantize)", {path});
  std::vector<std::string> lowered;
  try {
    lowered = to_fixed(g, opt);
  } catch (const UserError &e) {
    throw e.with_location(Location{path});
  }
  if (notes)
    notes->insert(notes->end(), lowered.begin(), lowered.end());
  return g;
}

} // namespace hgqc
