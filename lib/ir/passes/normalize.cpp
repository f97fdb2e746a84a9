// The import normalisation pipeline.
#include "ir/passes/passes.h"

namespace hgqc {

void normalize(Graph &g, const NormalizeOptions &opt) {
  if (opt.fold_constants) {
    fold_constants(g);
    infer_shapes(g);
  }
  if (opt.remove_identities)
    remove_identities(g);
  if (opt.fold_batchnorm && fold_batchnorm(g) > 0) {
    cancel_squeeze_unsqueeze(g);
    infer_shapes(g);
  }
  if (opt.decompose_softmax)
    decompose_softmax(g);
  if (opt.fuse_activations)
    fuse_activations(g);
  g.remove_dead();
  verify(g);
}

} // namespace hgqc
