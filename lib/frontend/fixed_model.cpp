// Reading a quantized model file into its fixed-point form, as `hgqc run --fixed` does, and
// into the design that emit-verilog builds.
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

void prepare_fixed_design(Graph &g, const std::string &path) {
  try {
    hoist_quant_over_max(g);
  } catch (const UserError &e) {
    throw e.with_location(Location{path});
  }
}

Graph read_fixed_design(const std::string &path, const ToFixedOptions &opt,
                        std::vector<std::string> *notes) {
  Graph g = read_fixed_model(path, opt, notes);
  prepare_fixed_design(g, path);
  return g;
}

} // namespace hgqc
