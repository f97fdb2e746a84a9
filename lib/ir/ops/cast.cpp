// Cast: converts elements to the type `to` (float32, float64, int64, int32, uint8 or bool;
// floats to integers truncate toward zero, as in C). torch writes it in the pads computation
// of nn.ZeroPad2d and F.pad, which constant folding removes; no fixed-point form.
#include "ir/ops/common.h"

#include <cmath>

namespace hgqc {
namespace {
// The hgqc type of ONNX TensorProto data type `to`, or UserError naming it.
DType target(int64_t to) {
  switch (to) {
  case 1:
    return DType::Float32;
  case 2:
    return DType::UInt8;
  case 6:
    return DType::Int32;
  case 7:
    return DType::Int64;
  case 9:
    return DType::Bool;
  case 11:
    return DType::Float64;
  default:
    throw UserError("cast to ONNX data type " + std::to_string(to) +
                    " is not supported (float, double, int64, int32, uint8 or bool)");
  }
}

void import(Node &n, ImportContext &) {
  check_known_attrs(n, {"to"});
  if (!n.attrs.count("to"))
    throw UserError("missing attribute 'to'");
  (void)target(attr_int(n, "to", 0));
}

std::vector<ValueType> infer(const Node &n, ops::Ins in, ops::Consts) {
  return {ValueType{target(attr_int(n, "to", 0)), in[0]->dims}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  DType t = target(attr_int(n, "to", 0));
  if (!is_float(t) && t != DType::Bool) {
    // Integer targets: the truncated value must exist in the type.
    const double lo = t == DType::UInt8 ? 0.0 : t == DType::Int32 ? -0x1p31 : -0x1p63;
    const double hi = t == DType::UInt8 ? 256.0 : t == DType::Int32 ? 0x1p31 : 0x1p63;
    for (double v : in[0]->data())
      if (!(std::trunc(v) >= lo && std::trunc(v) < hi))
        throw UserError("value " + std::to_string(v) + " does not fit " + dtype_name(t));
  }
  return {in[0]->cast(t)};
}

constexpr OpDef make_cast() {
  return {"Cast", OpDomain::Onnx, 1, 1, 1, 1, true, &import, &infer, &eval};
}
} // namespace

const OpDef op_def_Cast = make_cast();

} // namespace hgqc
