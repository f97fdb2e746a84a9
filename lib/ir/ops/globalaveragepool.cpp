// GlobalAveragePool: mean over all spatial dimensions, which are kept with size 1. Fixed
// point: the exact sum of each plane times the reciprocal of its size (a move of the binary
// point for 2^s; docs/fixed-point.md#averages otherwise). Training: the gradient is shared
// equally by the elements of each plane.
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

// Plane size of x's range.
struct RangeGeom {
  Dims out;
  int64_t sz = 0;
};

RangeGeom range_geom(const ValueRange &x) {
  HGQC_ASSERT(x.dims.size() >= 3, "GlobalAveragePool input range of rank < 3");
  RangeGeom g;
  g.out.assign(x.dims.size(), 1);
  g.out[0] = x.dims[0];
  g.out[1] = x.dims[1];
  g.sz = dims_numel(Dims(x.dims.begin() + 2, x.dims.end()));
  return g;
}

// Each plane's average: its sum times the reciprocal of its size (lin::reciprocal).
auto average_of(const RangeGeom &g, const ValueRange &x) {
  return lin::AverageGeom{dims_numel(g.out), x,
                          [&g](int64_t e, auto &&emit) {
                            for (int64_t i = 0; i < g.sz; ++i)
                              emit(e * g.sz + i, -1);
                          },
                          [&g](int64_t) { return g.sz; }};
}

std::vector<ValueRange> range(const Node &, std::span<const ValueRange *const> in, ops::Consts) {
  RangeGeom g = range_geom(*in[0]);
  return {ValueRange{g.out, average_of(g, *in[0]).ranges()}};
}

std::vector<FixedTensor> eval_fixed(const Node &, std::span<const FixedTensor *const> in,
                                    const FixedContext &ctx) {
  const FixedTensor &x = *in[0];
  const ValueRange &rx = *ctx.in_ranges[0];
  int64_t samples = lin::require_samples(rx.dims, x.shape);
  RangeGeom g = range_geom(rx);
  Dims yd = g.out;
  yd[0] = x.shape[0];
  FixedTensor y{yd, std::vector<int64_t>(static_cast<size_t>(dims_numel(yd)))};
  average_of(g, rx).eval(x.q.data(), samples, y.q.data());
  return {y};
}

// Hardware: each channel's sum as an adder tree, then its reciprocal (a move of the binary
// point for a power-of-two plane, else a constant product).
std::vector<std::vector<NetRef>> lower(const Node &, LowerContext &ctx) {
  RangeGeom g = range_geom(*ctx.in_ranges[0]);
  return {average_of(g, *ctx.in_ranges[0]).lower(ctx, *ctx.in[0])};
}

// EBOPs: the reciprocal products (a power-of-two plane's is a shift and costs nothing).
double ebops(const Node &, std::span<const ValueRange *const> in) {
  if (!in[0])
    return 0;
  RangeGeom g = range_geom(*in[0]);
  return average_of(g, *in[0]).ebops();
}

// ---- Training --------------------------------------------------------------------------

void train_forward(const Node &, TrainIns in, TrainOuts out, TrainContext &) {
  const TrainTensor &x = *in[0];
  Dims yd(x.shape.size(), 1);
  yd[0] = x.shape[0];
  yd[1] = x.shape[1];
  TrainTensor &y = *out[0];
  y.resize(yd);
  int64_t planes = x.shape[0] * x.shape[1];
  int64_t sz = planes > 0 ? static_cast<int64_t>(x.v.size()) / planes : 0;
  for (int64_t p = 0; p < planes; ++p) {
    float s = 0;
    for (int64_t i = 0; i < sz; ++i)
      s += x.v[p * sz + i];
    y.v[p] = s / static_cast<float>(sz);
  }
}

// Each plane's gradient, divided by its size, goes to every element of the plane.
void backward(const Node &, TrainIns in, TrainIns, TrainIns dout, TrainOuts din, TrainContext &) {
  if (!din[0])
    return;
  const TrainTensor &x = *in[0], &dy = *dout[0];
  grad_target(*din[0], x.shape);
  int64_t planes = x.shape[0] * x.shape[1];
  int64_t sz = planes > 0 ? static_cast<int64_t>(x.v.size()) / planes : 0;
  for (int64_t p = 0; p < planes; ++p) {
    float gr = dy.v[p] / static_cast<float>(sz);
    for (int64_t i = 0; i < sz; ++i)
      din[0]->v[p * sz + i] += gr;
  }
}

constexpr OpDef make_globalaveragepool() {
  OpDef d{"GlobalAveragePool",   OpDomain::Onnx, 1,    1, 1, 1, true,
          &ops::import_no_attrs, &infer,         &eval};
  d.range = &range;
  d.eval_fixed = &eval_fixed;
  d.lower = &lower;
  d.ebops = &ebops;
  d.train_forward = &train_forward;
  d.backward = &backward;
  return d;
}
} // namespace

const OpDef op_def_GlobalAveragePool = make_globalaveragepool();

} // namespace hgqc
