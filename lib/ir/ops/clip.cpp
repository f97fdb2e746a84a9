// Clip: min(max(x, min), max). Constant bounds become float attributes `min` and
// `max` (attributes before opset 11, inputs after); bounds computed at run time
// stay inputs 1 and 2 (scalars). Fixed point: the bounds must be constants; the output is
// the exact clamp at the finest exponent of x and the bounds it can reach. Training: the
// gradient passes inside the bounds.
#include "ir/ops/fixed_common.h"

#include <algorithm>
#include <climits>
#include <limits>

namespace hgqc {
namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
const char *const kNames[] = {"min", "max"};

void import(Node &n, ImportContext &ctx) {
  if (ctx.opset < 11) {
    check_known_attrs(n, {"min", "max"});
    if (n.inputs.size() > 1)
      throw UserError("Clip before opset 11 takes one input");
    n.attrs["min"] = attr_float(n, "min", -kInf);
    n.attrs["max"] = attr_float(n, "max", kInf);
    return;
  }
  check_known_attrs(n, {});
  bool dynamic = false;
  for (size_t i = 1; i < 3; ++i) {
    double v = i == 1 ? -kInf : kInf;
    if (i < n.inputs.size() && n.inputs[i] != kNoValue) {
      const Tensor *t = ops::import_const(ctx, n, i);
      if (!t) {
        dynamic = true;
        continue;
      }
      if (t->numel() != 1)
        throw UserError(std::string("input '") + kNames[i - 1] + "' must be a scalar");
      v = (*t)[0];
    }
    n.attrs[kNames[i - 1]] = v;
  }
  if (!dynamic)
    n.inputs.resize(1);
}

std::vector<ValueType> infer(const Node &, ops::Ins in, ops::Consts) {
  ops::require_float(in[0]->dtype, "input");
  for (size_t i = 1; i < in.size(); ++i)
    if (in[i] && (in[i]->dtype != in[0]->dtype ||
                  !std::ranges::all_of(in[i]->dims, [](int64_t d) { return d == 1; })))
      throw UserError(std::string("input '") + kNames[i - 1] +
                      "' must be a scalar of the input's type");
  return {*in[0]};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  ops::require_float(in[0]->dtype(), "input");
  double lo = attr_float(n, "min", -kInf), hi = attr_float(n, "max", kInf);
  // Bounds given as inputs take precedence over (absent) attributes.
  if (in.size() > 1 && in[1])
    lo = (*in[1])[0];
  if (in.size() > 2 && in[2])
    hi = (*in[2])[0];
  return {ops::map_unary(*in[0], [lo, hi](double x) { return x < lo ? lo : (x > hi ? hi : x); })};
}

// A bound as an exact fixed-point number q * 2^-f; `on` false for an infinite one.
struct Bound {
  bool on = false;
  Int128 q = 0;
  int f = 0;
};

// The fixed-point family hooks (ops/fixed_common.h): y = x < lo ? lo : (x > hi ? hi : x),
// the same comparisons as eval, made exactly on integers.
struct ClipFixed {
  struct P {
    Bound lo, hi;
  };
  static void check(const Node &, ops::Ranges in, ops::Consts c) {
    for (size_t j = 1; j < in.size(); ++j)
      if (in[j] && !c[j])
        throw UserError(std::string("bound '") + kNames[j - 1] +
                        "' is computed at run time; in fixed point Clip needs constant bounds");
  }
  static P fixed_params(const Node &n, ops::Ranges in) {
    P p;
    for (size_t j = 1; j < 3; ++j) {
      Bound &b = j == 1 ? p.lo : p.hi;
      if (j < in.size() && in[j]) { // a constant input: its range is its exact value
        const Interval &iv = in[j]->el.at(0);
        HGQC_ASSERT(iv.lo == iv.hi, "Clip bound is not a constant");
        b = Bound{true, iv.lo, iv.f};
        continue;
      }
      double v = attr_float(n, kNames[j - 1], j == 1 ? -kInf : kInf);
      if (v == (j == 1 ? -kInf : kInf))
        continue;
      auto iv = constant_interval(v);
      if (!iv)
        throw UserError(std::string("bound '") + kNames[j - 1] + "' = " + ops::real_str(v) +
                        " is not a fixed-point number with at most " +
                        std::to_string(kMaxFixedExp) + " fractional bits");
      b = Bound{true, iv->lo, iv->f};
    }
    return p;
  }
  static int cmp(Int128 q, int f, const Bound &b) { return ops::cmp_fixed(q, f, b.q, b.f); }
  // ceil / floor of q * 2^-s for |q| < 2^63, s >= 0.
  static Int128 shift_ceil(Int128 q, int s) { return s >= 64 ? Int128(q > 0) : -((-q) >> s); }
  static Int128 shift_floor(Int128 q, int s) { return s >= 64 ? -Int128(q < 0) : q >> s; }
  // The bound on grid 2^-f, rounded up or down (the bound lies within a range on that grid).
  static Int128 on_grid(const Bound &b, int f, bool up) {
    if (f >= b.f)
      return ops::to_grid(b.q, b.f, f);
    return up ? shift_ceil(b.q, b.f - f) : shift_floor(b.q, b.f - f);
  }
  static Interval range(const P &p, const Interval &x) {
    const Bound &lo = p.lo, &hi = p.hi;
    // What eval can give: lo (some x < lo), hi (some x >= lo with x > hi), and x itself
    // for the grid points of [x.lo, x.hi] within [lo, hi].
    bool below = lo.on && cmp(x.lo, x.f, lo) < 0;
    bool above = hi.on && cmp(x.hi, x.f, hi) > 0 && (!lo.on || cmp(x.hi, x.f, lo) >= 0);
    bool middle = (!lo.on || cmp(x.hi, x.f, lo) >= 0) && (!hi.on || cmp(x.lo, x.f, hi) <= 0);
    Int128 mlo = x.lo, mhi = x.hi;
    if (middle) {
      if (below)
        mlo = on_grid(lo, x.f, true);
      if (hi.on && cmp(x.hi, x.f, hi) > 0)
        mhi = on_grid(hi, x.f, false);
      middle = mlo <= mhi;
    }
    struct Pt {
      Int128 q;
      int f;
    };
    std::vector<Pt> pts;
    int f = INT_MIN;
    auto add = [&](Int128 q, int e) {
      pts.push_back({q, e});
      if (q != 0)
        f = std::max(f, e);
    };
    if (below)
      add(lo.q, lo.f);
    if (above)
      add(hi.q, hi.f);
    if (middle) {
      add(mlo, x.f);
      add(mhi, x.f);
    }
    if (f == INT_MIN) // the output is the constant zero
      return Interval{0, 0, x.f};
    Pt a = pts[0], b = pts[0];
    for (const Pt &t : pts) {
      if (ops::cmp_fixed(t.q, t.f, a.q, a.f) < 0)
        a = t;
      if (ops::cmp_fixed(t.q, t.f, b.q, b.f) > 0)
        b = t;
    }
    auto at = [f](const Pt &t) {
      return t.q == 0 ? Int128(0) : Interval{t.q, t.q, t.f}.aligned(f).lo;
    };
    return Interval{at(a), at(b), f};
  }
  static Int128 eval_fixed(const P &p, int64_t q, const Interval &x, const Interval &y) {
    if (p.lo.on && cmp(q, x.f, p.lo) < 0)
      return ops::to_grid(p.lo.q, p.lo.f, y.f);
    if (p.hi.on && cmp(q, x.f, p.hi) > 0)
      return ops::to_grid(p.hi.q, p.hi.f, y.f);
    return ops::to_grid(q, x.f, y.f);
  }
  // Hardware: a clamp on the output grid, whose reachable bounds lie on it (an unreachable
  // bound is rounded inwards, which keeps it unreachable).
  static NetRef lower(const P &p, LowerContext &c, NetRef x, const Interval &, const Interval &y) {
    if (p.lo.on && p.hi.on && ops::cmp_fixed(p.lo.q, p.lo.f, p.hi.q, p.hi.f) > 0)
      throw UserError("min > max: the hardware backend builds Clip only with min <= max");
    if (!x.zero() && x.f > y.f)
      throw UserError("the output grid 2^-" + std::to_string(y.f) +
                      " is coarser than the input's: the hardware backend cannot build it");
    constexpr Int128 kOpen = Int128{1} << 100;
    Int128 lo = p.lo.on ? on_grid(p.lo, y.f, true) : -kOpen;
    Int128 hi = p.hi.on ? on_grid(p.hi, y.f, false) : kOpen;
    return c.net.clamp(x, lo, hi, y.f);
  }
};

// Opset 13 takes the bounds as inputs: constant bounds (attributes) become scalar
// initializers of the input's type, infinite defaults are left out; bounds computed at run
// time stay the inputs they are.
std::vector<ExportNode> export_form(const Node &n, const ExportContext &ctx) {
  ExportNode e = default_export_node(n);
  e.attrs.clear();
  if (n.inputs.size() > 1)
    return {e};
  DType t = ctx.graph.values[n.inputs[0]].type.dtype;
  for (int i = 0; i < 2; ++i) {
    double def = i == 0 ? -kInf : kInf, v = attr_float(n, kNames[i], def);
    e.inputs.push_back(v == def ? ExportRef::of(kNoValue)
                                : ExportRef::constant_of(Tensor::scalar(t, v), kNames[i]));
  }
  return {e};
}
// ---- Training --------------------------------------------------------------------------

// The bounds of a training chunk: the attributes, or the scalar inputs when given.
std::pair<float, float> train_bounds(const Node &n, TrainIns in) {
  double lo = attr_float(n, "min", -kInf), hi = attr_float(n, "max", kInf);
  if (in.size() > 1 && in[1])
    lo = in[1]->v.at(0);
  if (in.size() > 2 && in[2])
    hi = in[2]->v.at(0);
  return {static_cast<float>(lo), static_cast<float>(hi)};
}

void train_forward(const Node &n, TrainIns in, TrainOuts out, TrainContext &) {
  auto [lo, hi] = train_bounds(n, in);
  const TrainTensor &x = *in[0];
  TrainTensor &y = *out[0];
  y.resize(x.shape);
  for (size_t i = 0; i < x.v.size(); ++i)
    y.v[i] = x.v[i] < lo ? lo : (x.v[i] > hi ? hi : x.v[i]);
}

// dy passes where the input is inside the bounds; below (above) them it goes to the lower
// (upper) bound, an input when the bounds are computed at run time.
void backward(const Node &n, TrainIns in, TrainIns, TrainIns dout, TrainOuts din, TrainContext &) {
  auto [lo, hi] = train_bounds(n, in);
  const TrainTensor &x = *in[0], &dy = *dout[0];
  if (din[0])
    grad_target(*din[0], x.shape);
  float dlo = 0, dhi = 0;
  for (size_t i = 0; i < x.v.size(); ++i) {
    bool below = x.v[i] < lo, above = !below && x.v[i] > hi;
    if (din[0])
      din[0]->v[i] += below || above ? 0.0f : dy.v[i];
    dlo += below ? dy.v[i] : 0.0f;
    dhi += above ? dy.v[i] : 0.0f;
  }
  for (size_t j = 1; j < 3 && j < din.size(); ++j)
    if (din[j] && in[j]) {
      grad_target(*din[j], in[j]->shape).v.at(0) += j == 1 ? dlo : dhi;
    }
}

constexpr OpDef make_clip() {
  OpDef d{"Clip", OpDomain::Onnx, 1, 3, 1, 1, true, &import, &infer, &eval};
  d.range = &ops::unary_range<ClipFixed>;
  d.eval_fixed = &ops::unary_eval_fixed<ClipFixed>;
  d.lower = &ops::unary_lower<ClipFixed>;
  d.export_form = &export_form;
  d.train_forward = &train_forward;
  d.backward = &backward;
  return d;
}
} // namespace

const OpDef op_def_Clip = make_clip();

} // namespace hgqc
