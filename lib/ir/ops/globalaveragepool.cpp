// GlobalAveragePool: mean over all spatial dimensions, which are kept with size 1. Fixed
// point: the exact sum of each plane, divided by its size 2^s (which must be a power of two)
// by moving the exponent: the same integer at f + s.
#include "ir/ops/fixed_linear.h"

namespace hgqc {
namespace {
std::vector<ValueType> infer(const Node &, ops::Ins in, ops::Consts) {
  ops::require_float(in[0]->dtype, "input X");
  const Dims &x = in[0]->dims;
  if (x.size() < 3)
    throw UserError("input must have rank >= 3 (N, C, spatial...), got " + dims_str(x));
  Dims out(x.size(), 1);
  out[0] = x[0];
  out[1] = x[1];
  return {ValueType{in[0]->dtype, out}};
}

std::vector<Tensor> eval(const Node &n, ops::Vals in) {
  const Tensor &x = *in[0];
  ValueType t{x.dtype(), x.shape()};
  const ValueType *tp[] = {&t};
  Tensor y(x.dtype(), infer(n, tp, {})[0].dims);
  int64_t planes = y.numel(), sz = x.numel() / std::max<int64_t>(planes, 1);
  for (int64_t p = 0; p < planes; ++p) {
    double s = 0;
    for (int64_t i = 0; i < sz; ++i)
      s += x[p * sz + i];
    y[p] = s / static_cast<double>(sz);
  }
  return {y};
}

namespace lin = ops::linear;

// Plane size of x's range and its log2; UserError unless it is a power of two.
struct RangeGeom {
  Dims out;
  int64_t sz = 0;
  int shift = 0;
};

RangeGeom range_geom(const ValueRange &x) {
  HGQC_ASSERT(x.dims.size() >= 3, "GlobalAveragePool input range of rank < 3");
  RangeGeom g;
  g.out.assign(x.dims.size(), 1);
  g.out[0] = x.dims[0];
  g.out[1] = x.dims[1];
  g.sz = dims_numel(Dims(x.dims.begin() + 2, x.dims.end()));
  g.shift = lin::log2_exact(g.sz);
  if (g.shift < 0)
    throw UserError("the average is over " + std::to_string(g.sz) + " elements (spatial dims " +
                    dims_str(Dims(x.dims.begin() + 2, x.dims.end())) +
                    "): in fixed point the element count must be a power of two");
  return g;
}

auto terms_of(const RangeGeom &g) {
  return [&g](int64_t e, auto &&emit) {
    for (int64_t i = 0; i < g.sz; ++i)
      emit(e * g.sz + i, -1);
  };
}

// The sums' intervals moved to the averages' exponents (every element, so that the emulator
// recovers each sum's grid as f - shift).
std::vector<Interval> averages(const RangeGeom &g, std::vector<Interval> sums) {
  for (Interval &v : sums)
    v.f += g.shift;
  return sums;
}

std::vector<ValueRange> range(const Node &, std::span<const ValueRange *const> in, ops::Consts) {
  RangeGeom g = range_geom(*in[0]);
  auto r = lin::sum_ranges(dims_numel(g.out), {in[0], nullptr, nullptr}, terms_of(g), lin::no_bias);
  return {ValueRange{g.out, averages(g, std::move(r))}};
}

std::vector<FixedTensor> eval_fixed(const Node &, std::span<const FixedTensor *const> in,
                                    const FixedContext &ctx) {
  const FixedTensor &x = *in[0];
  const ValueRange &rx = *ctx.in_ranges[0], &ry = *ctx.out_ranges[0];
  int64_t samples = lin::require_samples(rx.dims, x.shape);
  RangeGeom g = range_geom(rx);
  int64_t n_out = dims_numel(g.out);
  Dims yd = g.out;
  yd[0] = x.shape[0];
  FixedTensor y{yd, std::vector<int64_t>(static_cast<size_t>(dims_numel(yd)))};
  lin::SumData d{nullptr, nullptr, x.q.data(), dims_numel(rx.dims), samples, y.q.data(), n_out};
  lin::eval_sum(
      n_out, {&rx, nullptr, nullptr}, d, [&](int64_t e) { return ry.el[e].f - g.shift; },
      terms_of(g), lin::no_bias);
  return {y};
}

// Hardware: each channel's sum as an adder tree, its divisor a move of the binary point.
std::vector<std::vector<NetRef>> lower(const Node &, LowerContext &ctx) {
  const ValueRange &ry = *ctx.out_ranges[0];
  RangeGeom g = range_geom(*ctx.in_ranges[0]);
  std::vector<NetRef> y = lin::lower_sum(
      ctx, dims_numel(g.out), *ctx.in[0], nullptr, nullptr,
      [&](int64_t e) { return ry.el[e].f - g.shift; }, terms_of(g), lin::no_bias);
  for (NetRef &r : y)
    if (!r.zero())
      r.f += g.shift;
  return {y};
}

constexpr OpDef make_globalaveragepool() {
  OpDef d{"GlobalAveragePool",   OpDomain::Onnx, 1,    1, 1, 1, true,
          &ops::import_no_attrs, &infer,         &eval};
  d.range = &range;
  d.eval_fixed = &eval_fixed;
  d.lower = &lower;
  return d;
}
} // namespace

const OpDef op_def_GlobalAveragePool = make_globalaveragepool();

} // namespace hgqc
