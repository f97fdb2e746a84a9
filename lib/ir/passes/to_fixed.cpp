// The pipeline that turns a normalised model with quantizers into hgqc's fixed-point form.
#include "ir/passes/passes.h"

namespace hgqc {

std::vector<std::string> to_fixed(Graph &g, const ToFixedOptions &opt) {
  std::vector<std::string> notes;
  quant_to_fixed(g);
  fold_affine(g, &notes);
  if (opt.drop_output_softmax)
    drop_output_softmax(g, &notes);
  quantize_inputs(g, opt.input, &notes);
  snap_quantized_constants(g);
  fuse_table_quant(g);
  fold_constants(g);
  infer_shapes(g);
  g.remove_dead();
  verify(g);
  return notes;
}

} // namespace hgqc
