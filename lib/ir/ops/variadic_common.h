// The family template of the variadic elementwise ops Sum, Mean, Max and Min: 1..N float inputs
// with numpy broadcasting, exact in fixed point through the reduction machinery of fixed_linear.h.
#pragma once

#include "ir/ops/common.h"
#include "ir/ops/fixed_common.h"

namespace hgqc::ops {

/// Which variadic op: the sum, the mean, the maximum or the minimum of the inputs.
enum class Variadic { Sum, Mean, Max, Min };

/// Shape inference of the family: every input float (and of one element type), the output the
/// numpy broadcast of all inputs. UserError for no inputs, an omitted or non-float input, mixed
/// element types or shapes that do not broadcast.
std::vector<ValueType> variadic_infer(Variadic k, Ins in);
/// Float evaluation: the op over the broadcast inputs (a Mean divides the sum by the count).
std::vector<Tensor> variadic_eval(Variadic k, Vals in);
/// Exact output intervals (docs/fixed-point.md#variadic-ops).
std::vector<ValueRange> variadic_range(Variadic k, Ranges in);
/// The integer emulator, within variadic_range's intervals.
std::vector<FixedTensor> variadic_eval_fixed(Variadic k, FixedIns in, const FixedContext &ctx);
/// EBOPs: the reciprocal products of a Mean whose count is not a power of two (the sums and
/// comparisons are charged nothing, as Add and Sub).
double variadic_ebops(Variadic k, Ranges in);
/// Hardware: adder graphs (Sum, Mean; then the reciprocal's constant product), comparator
/// trees (Max, Min).
std::vector<std::vector<NetRef>> variadic_lower(Variadic k, LowerContext &ctx);
/// Training forward in float32.
void variadic_train_forward(Variadic k, TrainIns in, TrainOuts out);
/// Backward: Sum the gradient to every input, Mean 1/n of it, Max and Min to the selected input
/// (ties to the first); each summed over the input's broadcast dimensions.
void variadic_backward(Variadic k, TrainIns in, TrainIns dout, TrainOuts din);

/// The hooks of variadic op K, as OpDef function pointers.
template <Variadic K> struct VariadicHooks {
  static std::vector<ValueType> infer(const Node &, Ins in, Consts) {
    return variadic_infer(K, in);
  }
  static std::vector<Tensor> eval(const Node &, Vals in) { return variadic_eval(K, in); }
  static std::vector<ValueRange> range(const Node &, Ranges in, Consts) {
    return variadic_range(K, in);
  }
  static std::vector<FixedTensor> eval_fixed(const Node &, FixedIns in, const FixedContext &ctx) {
    return variadic_eval_fixed(K, in, ctx);
  }
  static double ebops(const Node &, Ranges in) { return variadic_ebops(K, in); }
  static std::vector<std::vector<NetRef>> lower(const Node &, LowerContext &ctx) {
    return variadic_lower(K, ctx);
  }
  static void train_forward(const Node &, TrainIns in, TrainOuts out, TrainContext &) {
    variadic_train_forward(K, in, out);
  }
  static void backward(const Node &, TrainIns in, TrainIns, TrainIns dout, TrainOuts din,
                       TrainContext &) {
    variadic_backward(K, in, dout, din);
  }
};

/// The OpDef of variadic op K: 1 to any number of inputs, one output, no attributes.
template <Variadic K> constexpr OpDef variadic_op(std::string_view name) {
  using H = VariadicHooks<K>;
  OpDef d{name, OpDomain::Onnx, 1, 1 << 20, 1, 1, true, &import_no_attrs, &H::infer, &H::eval};
  d.range = &H::range;
  d.eval_fixed = &H::eval_fixed;
  d.lower = &H::lower;
  d.train_forward = &H::train_forward;
  d.backward = &H::backward;
  if (K == Variadic::Mean)
    d.ebops = &H::ebops;
  return d;
}

} // namespace hgqc::ops
