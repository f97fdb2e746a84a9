// LogSoftmax: x - log(sum(exp(x))) along `axis`, computed as x - max - log(sum(exp(x - max)))
// (the family's hooks: softmax_common.h). Backward: dy - exp(y) * sum(dy) along the same view
// (training fuses an output LogSoftmax into the loss, as it does a Softmax).
#include "ir/ops/softmax_common.h"

namespace hgqc {

const OpDef op_def_LogSoftmax = ops::softmax::make_op<true>();

} // namespace hgqc
