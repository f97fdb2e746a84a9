// Identity: passes its input through (removed by the normalisation passes).
#include "ir/ops/common.h"

namespace hgqc {
namespace {
std::vector<Tensor> eval(const Node &, ops::Vals in) { return {*in[0]}; }
} // namespace

const OpDef op_def_Identity = {
    "Identity", OpDomain::Onnx, 1, 1, 1, 1, true, &ops::import_no_attrs, &ops::infer_like_input0,
    &eval};

} // namespace hgqc
