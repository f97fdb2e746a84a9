// Softmax: exp(x) / sum(exp(x)) along `axis` (the family's hooks: softmax_common.h). Backward:
// y * (dy - sum(dy * y)) along the same view (training fuses an output Softmax into the loss).
#include "ir/ops/softmax_common.h"

namespace hgqc {

const OpDef op_def_Softmax = ops::softmax::make_op<false>();

} // namespace hgqc
