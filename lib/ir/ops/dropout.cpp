// Dropout in inference mode: the identity, with an optional all-true mask output.
// Training mode (a constant true `training_mode` input) is rejected. Fixed point: the
// identity; the mask output has none. Training: the identity (its gradient passes).
#include "ir/ops/fixed_common.h"
#include "ir/ops/train_kernels.h"

namespace hgqc {
namespace {
void import(Node &n, ImportContext &ctx) {
  // `ratio` (attribute before opset 12, input after) does not matter in inference;
  // `is_test` (before opset 7) must not ask for training behaviour.
  check_known_attrs(n, {"ratio", "seed", "is_test"});
  if (n.attrs.count("is_test") && attr_int(n, "is_test", 1) == 0)
    throw UserError("is_test = 0 (training mode) is not supported");
  if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
    const Tensor *t = ops::import_const(ctx, n, 2);
    if (!t)
      throw UserError("input 'training_mode' must be a constant");
    if (t->numel() != 1 || (*t)[0] != 0.0)
      throw UserError("training_mode = true is not supported");
  }
  n.attrs.clear();
  n.inputs.resize(1);
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  std::vector<ValueType> r{*in[0]};
  if (n.outputs.size() > 1)
    r.push_back(ValueType{DType::Bool, in[0]->dims});
  return r;
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  std::vector<Tensor> r{*in[0]};
  if (n.outputs.size() > 1) {
    Tensor mask(DType::Bool, in[0]->shape());
    for (double &v : mask.data())
      v = 1.0;
    r.push_back(std::move(mask));
  }
  return r;
}

std::vector<ValueRange> range(const Node &n, ops::Ranges in, ops::Consts c) {
  if (n.outputs.size() > 1 && n.outputs[1] != kNoValue)
    throw UserError("the mask output has no fixed-point form (it is all true in inference: "
                    "drop it from the model)");
  return ops::copy_range(&eval, 1, n, in, c);
}
// Training runs the inference form too (the identity; HGQ training drops nothing).
void train_forward(const Node &, TrainIns in, TrainOuts out, TrainContext &) {
  *out[0] = *in[0];
  if (out.size() > 1 && out[1])
    out[1]->assign(in[0]->shape, 1.0f);
}

void backward(const Node &, TrainIns, TrainIns, TrainIns dout, TrainOuts din, TrainContext &) {
  if (din[0])
    ops::train::add_to(grad_target(*din[0], dout[0]->shape).data(), dout[0]->data(),
                       dout[0]->numel());
}

constexpr OpDef make_dropout() {
  OpDef d{"Dropout", OpDomain::Onnx, 1, 3, 1, 2, true, &import, &infer, &eval};
  d.range = &range;
  d.eval_fixed = &ops::copy_eval_fixed_hook<&eval, 1>;
  d.lower = &ops::copy_lower_hook<&eval, 1>;
  d.train_forward = &train_forward;
  d.backward = &backward;
  return d;
}
} // namespace

const OpDef op_def_Dropout = make_dropout();

} // namespace hgqc
