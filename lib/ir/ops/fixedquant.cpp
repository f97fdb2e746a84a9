// FixedQuant (domain hgqc): per-element fixed-point quantizer y = quantize(x, k, i, f) with
// integer tensors k, i, f broadcast to x and attributes round_mode (TRN, RND, RND_CONV) and
// overflow_mode (WRAP, SAT, SAT_SYM); see method.md §1. Width k + i + f <= 0 prunes.
#include "ir/ops/common.h"

namespace hgqc {
namespace {
const char *const kNames[] = {"x", "k", "i", "f"};

void import(Node &n, ImportContext &) {
  check_known_attrs(n, {"round_mode", "overflow_mode"});
  std::string r = attr_string(n, "round_mode", "TRN"), o = attr_string(n, "overflow_mode", "WRAP");
  if (!parse_round_mode(r))
    throw UserError("round_mode '" + r + "' is not supported (supported: TRN, RND, RND_CONV)");
  if (!parse_overflow_mode(o))
    throw UserError("overflow_mode '" + o + "' is not supported (supported: WRAP, SAT, SAT_SYM)");
  n.attrs["round_mode"] = r;
  n.attrs["overflow_mode"] = o;
}

RoundMode rnd_of(const Node &n) { return *parse_round_mode(attr_string(n, "round_mode", "TRN")); }
OverflowMode ovf_of(const Node &n) {
  return *parse_overflow_mode(attr_string(n, "overflow_mode", "WRAP"));
}

std::vector<ValueType> infer(const Node &, ops::Ins in, ops::Consts c) {
  ops::require_float(in[0]->dtype, "input x");
  for (int j = 1; j < 4; ++j) {
    if (in[j]->dtype != DType::Int32 && in[j]->dtype != DType::Int64 &&
        in[j]->dtype != DType::UInt8)
      throw UserError(std::string("input '") + kNames[j] + "' must be an integer tensor, not " +
                      dtype_name(in[j]->dtype));
    if (!c[j])
      throw UserError(std::string("input '") + kNames[j] +
                      "' must be a constant (an initializer): formats are fixed at build time");
    Dims b;
    bool ok = in[j]->dims.size() <= in[0]->dims.size() &&
              broadcast_dims(in[0]->dims, in[j]->dims, b) && b.size() == in[0]->dims.size();
    for (size_t a = 0; ok && a < b.size(); ++a)
      ok = ops::dims_compatible(b[a], in[0]->dims[a]) &&
           (in[0]->dims[a] != kDynamic || in[j]->dims.size() + a < b.size() ||
            in[j]->dims[a - (b.size() - in[j]->dims.size())] == 1);
    if (!ok)
      throw UserError(std::string("input '") + kNames[j] + "' of shape " + dims_str(in[j]->dims) +
                      " does not broadcast to x's shape " + dims_str(in[0]->dims) +
                      " (per-element formats may not depend on the batch)");
  }
  // The raw values first: a value outside the int range must not reach the conversion to int
  // (the per-element checks below then name the element and its whole format).
  for (int j = 1; j < 4; ++j)
    for (int64_t e = 0; e < c[j]->numel(); ++e)
      if (std::fabs((*c[j])[e]) > kMaxFixedExp)
        throw UserError(std::string("input '") + kNames[j] + "' holds " +
                        std::to_string(saturate_cast<int64_t>((*c[j])[e])) + " at index " +
                        std::to_string(e) + "; " + kNames[j] +
                        (j == 1 ? " must be 0 or 1"
                                : " must lie in [-" + std::to_string(kMaxFixedExp) + ", " +
                                      std::to_string(kMaxFixedExp) + "]"));
  Dims per = range_dims(in[0]->dims);
  check_fixed_elements("input 'x'", per); // before its per-element formats are built
  auto fmts = broadcast_formats(*c[1], *c[2], *c[3], per);
  for (size_t e = 0; e < fmts.size(); ++e) {
    const FixedFormat &f = fmts[e];
    auto where = [&] { return " at element " + std::to_string(e) + " (" + f.str() + ")"; };
    if (f.k != 0 && f.k != 1)
      throw UserError("k must be 0 or 1" + where());
    if (std::abs(f.i) > kMaxFixedExp || std::abs(f.f) > kMaxFixedExp)
      throw UserError("i and f must lie in [-" + std::to_string(kMaxFixedExp) + ", " +
                      std::to_string(kMaxFixedExp) + "]" + where());
    if (f.width() > kMaxFixedWidth)
      throw UserError("width " + std::to_string(f.width()) + " exceeds the supported " +
                      std::to_string(kMaxFixedWidth) + " bits" + where());
  }
  return {*in[0]};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  const Tensor &x = *in[0];
  auto fmts = broadcast_formats(*in[1], *in[2], *in[3], x.shape());
  RoundMode r = rnd_of(n);
  OverflowMode o = ovf_of(n);
  Tensor y(x.dtype(), x.shape());
  for (int64_t j = 0; j < x.numel(); ++j) {
    if (!std::isfinite(x[j]))
      throw UserError("input element " + std::to_string(j) + " is not finite");
    y[j] = fixed_to_double(quantize_real(x[j], fmts[j], r, o).q, fmts[j].f);
  }
  return {y};
}

// One value (a weight stored on its grid, say) gets its own minimal exponent, as a constant
// does: the trailing zeros of the declared grid cost nothing downstream (EBOPs, formats).
Interval point_at_min_exponent(Interval iv) {
  if (iv.lo != iv.hi || iv.zero())
    return iv;
  while ((iv.lo & 1) == 0 && iv.f > -kMaxFixedExp) {
    iv.lo >>= 1;
    --iv.f;
  }
  iv.hi = iv.lo;
  return iv;
}

std::vector<ValueRange> range(const Node &n, std::span<const ValueRange *const> in, ops::Consts c) {
  // An input range without elements is a float graph input: any value may arrive.
  ValueRange out;
  out.dims = in[0]->dims;
  auto fmts = broadcast_formats(*c[1], *c[2], *c[3], out.dims);
  RoundMode r = rnd_of(n);
  OverflowMode o = ovf_of(n);
  out.el.resize(fmts.size());
  for (size_t e = 0; e < fmts.size(); ++e)
    out.el[e] = in[0]->el.empty()
                    ? Interval{fmts[e].qmin(), fmts[e].qmax(), fmts[e].f}
                    : point_at_min_exponent(quantized_interval(in[0]->el[e], fmts[e], r, o));
  return {out};
}

std::vector<FixedTensor> eval_fixed(const Node &n, std::span<const FixedTensor *const> in,
                                    const FixedContext &ctx) {
  const ValueRange &orng = *ctx.out_ranges[0];
  HGQC_ASSERT(in[1] && in[2] && in[3], "FixedQuant formats missing");
  // Formats as integers: the constants k, i, f arrive as exact integers at exponent 0 or
  // below; recover their values from the input ranges.
  auto val = [&](int j, int64_t e) {
    const FixedTensor &t = *in[j];
    int f = ctx.in_ranges[j]->el[e].f;
    return static_cast<int>(fixed_to_double(t.q[e], f));
  };
  const Dims &shape = in[0] ? in[0]->shape : ctx.real_in[0]->shape();
  auto ki = range_index(in[1]->shape, orng.dims), ii = range_index(in[2]->shape, orng.dims),
       fi = range_index(in[3]->shape, orng.dims);
  std::vector<FixedFormat> fmts(orng.el.size());
  for (size_t e = 0; e < fmts.size(); ++e)
    fmts[e] = FixedFormat{val(1, ki[e]), val(2, ii[e]), val(3, fi[e])};
  RoundMode r = rnd_of(n);
  OverflowMode o = ovf_of(n);
  FixedTensor y{shape, std::vector<int64_t>(static_cast<size_t>(dims_numel(shape)))};
  RangeMap idx(orng.dims, shape);
  int64_t over = 0;
  for (size_t j = 0; j < y.q.size(); ++j) {
    int64_t e = idx[static_cast<int64_t>(j)];
    const FixedFormat &fm = fmts[e];
    QuantResult q;
    if (in[0]) {
      q = quantize_int(in[0]->q[j], ctx.in_ranges[0]->el[e].f, fm, r, o);
    } else {
      double x = (*ctx.real_in[0])[static_cast<int64_t>(j)];
      if (!std::isfinite(x))
        throw UserError("input element " + std::to_string(j) + " is not finite");
      q = quantize_real(x, fm, r, o);
    }
    // A one-value output sits on its own minimal grid (see point_at_min_exponent).
    const Interval &oi = orng.el[e];
    int d = fm.pruned() ? 0 : fm.f - oi.f;
    HGQC_ASSERT(d == 0 || (oi.lo == oi.hi && d > 0 && d < 64 &&
                           static_cast<Int128>(q.q) == oi.lo * (Int128{1} << d)),
                "FixedQuant value off its one-value range");
    y.q[j] = d == 0 ? q.q : static_cast<int64_t>(oi.lo);
    over += q.overflow;
  }
  if (ctx.overflows)
    *ctx.overflows += over;
  return {y};
}

// Hardware: per element, a rounding shift, then wrap or clamp where the range can overflow
// (a quantizer of a graph input is the input bus itself; the lowering driver builds it).
// An output of one value is that constant.
std::vector<std::vector<NetRef>> lower(const Node &n, LowerContext &ctx) {
  const ValueRange &ry = *ctx.out_ranges[0];
  auto fmts = broadcast_formats(*ctx.consts[1], *ctx.consts[2], *ctx.consts[3], ry.dims);
  const std::vector<NetRef> &x = *ctx.in[0];
  std::vector<NetRef> y(x.size());
  for (size_t e = 0; e < x.size(); ++e)
    y[e] = ry.el[e].lo == ry.el[e].hi
               ? (ry.el[e].zero() ? NetRef{} : ctx.net.constant(ry.el[e].lo, ry.el[e].f))
               : ctx.net.requantize(x[e], fmts[e], rnd_of(n), ovf_of(n));
  return {y};
}
constexpr OpDef make_fixedquant() {
  OpDef d{"FixedQuant", OpDomain::Hgqc, 4, 4, 1, 1, false, &import, &infer, &eval};
  d.range = &range;
  d.eval_fixed = &eval_fixed;
  d.lower = &lower;
  return d;
}
} // namespace

const OpDef op_def_FixedQuant = make_fixedquant();

} // namespace hgqc
