// Pass: QONNX Quant nodes with power-of-two scales and zero offsets become FixedQuant nodes.
#include "ir/graph_edit.h"
#include "ir/op.h"
#include "ir/passes/passes.h"

#include <cmath>

namespace hgqc {

namespace {
ValueId int_const(FreshNames &names, const std::string &base, const Dims &d,
                  std::vector<double> v) {
  return names.add_constant(base, Tensor(DType::Int64, d, std::move(v)));
}

// Rounding of a QONNX rounding_mode in hgqc's terms, or throws.
RoundMode round_of(const std::string &m) {
  if (m == "ROUND" || m == "HALF_EVEN")
    return RoundMode::RND_CONV;
  if (m == "HALF_UP")
    return RoundMode::RND;
  if (m == "FLOOR")
    return RoundMode::TRN;
  throw UserError("rounding_mode " + m +
                  " has no fixed-point equivalent (supported: ROUND, HALF_EVEN, HALF_UP, FLOOR)");
}

void convert(Graph &g, FreshNames &fresh, Node &n) {
  const char *names[] = {"x", "scale", "zeropt", "bitwidth"};
  for (int j = 1; j < 4; ++j)
    if (!g.values[n.inputs[j]].constant)
      throw UserError(std::string("input '") + names[j] +
                      "' must be a constant to convert to fixed point");
  Tensor scale = *g.values[n.inputs[1]].constant;
  const Tensor &zp = *g.values[n.inputs[2]].constant, &bw = *g.values[n.inputs[3]].constant;
  for (double z : zp.data())
    if (z != 0)
      throw UserError("zero point " + std::to_string(z) +
                      " is not 0: only symmetric (zero-offset) quantizers have a fixed-point form");
  if (bw.numel() != 1 || !(bw[0] >= 0 && bw[0] <= kMaxFixedWidth) || bw[0] != std::floor(bw[0]))
    throw UserError("bitwidth must be one integer 1.." + std::to_string(kMaxFixedWidth) +
                    (bw.numel() == 1 ? " (it is " + std::to_string(bw[0]) + ")"
                                     : " (it has " + std::to_string(bw.numel()) + " elements)"));
  int b = static_cast<int>(bw[0]);
  bool sgn = attr_int(n, "signed", 1), narrow = attr_int(n, "narrow", 0);
  if (narrow && !sgn)
    throw UserError("unsigned narrow-range quantizers (0 .. 2^b - 2) have no fixed-point form");
  RoundMode rnd = round_of(attr_string(n, "rounding_mode", "ROUND"));
  std::vector<double> iv, fv;
  for (double s : scale.data()) {
    int e;
    double m = std::frexp(s, &e);
    if (!(s > 0) || m != 0.5)
      throw UserError("scale " + std::to_string(s) +
                      " is not a power of two; hgqc needs power-of-two scales (scalar or per "
                      "channel) to represent the quantizer in fixed point");
    int f = 1 - e; // s = 2^(e-1) = 2^-f
    fv.push_back(f);
    iv.push_back(b - (sgn ? 1 : 0) - f);
  }
  if (b - (sgn ? 1 : 0) < 0 || b > kMaxFixedWidth)
    throw UserError("bit width " + std::to_string(b) + " is not supported (1.." +
                    std::to_string(kMaxFixedWidth) + ")");
  Dims d = scale.shape();
  std::string base = n.name;
  ValueId k = int_const(fresh, base + "_k", {}, {sgn ? 1.0 : 0.0});
  ValueId i = int_const(fresh, base + "_i", d, iv);
  ValueId f = int_const(fresh, base + "_f", d, fv);
  n.op = OpKind::FixedQuant;
  n.inputs = {n.inputs[0], k, i, f};
  n.attrs.clear();
  n.attrs["round_mode"] = std::string(round_mode_name(rnd));
  n.attrs["overflow_mode"] = std::string(narrow ? "SAT_SYM" : "SAT");
}
} // namespace

int quant_to_fixed(Graph &g) {
  int n_conv = 0;
  FreshNames names(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node &n = g.nodes[i];
    if (n.op == OpKind::BipolarQuant)
      throw UserError("BipolarQuant (values +-scale) has no fixed-point form in hgqc", n.loc());
    if (n.op != OpKind::Quant)
      continue;
    try {
      convert(g, names, g.nodes[i]);
    } catch (const UserError &e) {
      throw e.with_location(g.nodes[i].loc());
    }
    ++n_conv;
  }
  return n_conv;
}

} // namespace hgqc
