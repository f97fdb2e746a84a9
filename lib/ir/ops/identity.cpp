// Identity: passes its input through (removed by the normalisation passes). Fixed
// point: a copy.
#include "ir/ops/fixed_common.h"

namespace hgqc {
namespace {
std::vector<Tensor> eval(const Node &, ops::Vals in) { return {*in[0]}; }
} // namespace

const OpDef op_def_Identity = {"Identity",
                               OpDomain::Onnx,
                               1,
                               1,
                               1,
                               1,
                               true,
                               &ops::import_no_attrs,
                               &ops::infer_like_input0,
                               &eval,
                               &ops::copy_range_hook<&eval, 1>,
                               &ops::copy_eval_fixed_hook<&eval, 1>};

} // namespace hgqc
