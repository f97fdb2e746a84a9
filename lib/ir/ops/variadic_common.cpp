// Shared hooks of the variadic elementwise ops (Sum, Mean, Max, Min): shapes, float and fixed-point
// evaluation, lowering and training, over 1..N numpy-broadcast inputs.
#include "ir/ops/variadic_common.h"

#include "ir/ops/fixed_linear.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace hgqc::ops {

namespace {
namespace lin = linear;

bool is_extremum(Variadic k) { return k == Variadic::Max || k == Variadic::Min; }

// The numpy broadcast of shapes(0) .. shapes(m - 1), or UserError naming the inputs.
template <class Shape> Dims broadcast_all(size_t m, Shape &&shape) {
  Dims d = shape(0);
  for (size_t i = 1; i < m; ++i) {
    Dims r;
    if (!broadcast_dims(d, shape(i), r))
      throw UserError("input " + std::to_string(i) + " of shape " + dims_str(shape(i)) +
                      " does not broadcast with the shape " + dims_str(d) +
                      " of the inputs before it");
    d = std::move(r);
  }
  return d;
}

// a op b in double precision; Max and Min keep a on a tie and propagate NaN.
double combine(Variadic k, double a, double b) {
  if (k == Variadic::Sum || k == Variadic::Mean)
    return a + b;
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) ? a : b;
  return (k == Variadic::Max ? b > a : b < a) ? b : a;
}

// The inputs' ranges side by side in one flat range `x`, and for every output element (row-major
// over the broadcast range dims `out`) the element of x that input i gives it: off[i] + idx[i][e].
struct Gathered {
  ValueRange x;
  Dims out;
  std::vector<int64_t> off;
  std::vector<std::vector<int64_t>> idx;
  int64_t n_out() const { return dims_numel(out); }
  // Calls emit(xe) for each input's element of output e, in input order.
  template <class Emit> void taps(int64_t e, Emit &&emit) const {
    for (size_t i = 0; i < idx.size(); ++i)
      emit(off[i] + idx[i][static_cast<size_t>(e)]);
  }
};

Gathered gather(Ranges in) {
  Gathered g;
  g.out = broadcast_all(in.size(), [&](size_t i) { return in[i]->dims; });
  g.x.dims = {0};
  for (const ValueRange *r : in) {
    g.off.push_back(static_cast<int64_t>(g.x.el.size()));
    g.x.el.insert(g.x.el.end(), r->el.begin(), r->el.end());
    g.idx.push_back(range_index(r->dims, g.out));
  }
  g.x.dims[0] = static_cast<int64_t>(g.x.el.size());
  return g;
}

// The taps of a sum (each input's element with the factor 1) and of a maximum, as the callables
// of fixed_linear.h take them.
auto sum_terms(const Gathered &g) {
  return [&g](int64_t e, auto &&emit) { g.taps(e, [&](int64_t xe) { emit(xe, -1); }); };
}
auto max_taps(const Gathered &g) {
  return [&g](int64_t e, auto &&emit) { g.taps(e, emit); };
}

// Sum and Mean: the exact sum of the aligned inputs times the reciprocal of the count (1 for a
// sum), exactly as ReduceSum and ReduceMean (docs/fixed-point.md#averages).
auto average_of(Variadic k, const Gathered &g) {
  int64_t count = k == Variadic::Mean ? static_cast<int64_t>(g.idx.size()) : 1;
  return lin::AverageGeom{g.n_out(), g.x, sum_terms(g), [count](int64_t) { return count; }};
}

// The run-time inputs in the layout of Gathered::x, sample after sample.
struct Samples {
  std::vector<int64_t> x;
  int64_t count = 0; // samples
  Dims shape;        // run-time shape of the output
};

Samples gather_samples(const Gathered &g, FixedIns in, const FixedContext &ctx) {
  Samples s;
  s.shape = broadcast_all(in.size(), [&](size_t i) { return in[i]->shape; });
  s.count = lin::require_samples(g.out, s.shape);
  const auto xsz = static_cast<int64_t>(g.x.el.size());
  s.x.resize(static_cast<size_t>(s.count * xsz));
  for (size_t i = 0; i < in.size(); ++i) {
    const ValueRange &r = *ctx.in_ranges[i];
    int64_t per = dims_numel(r.dims), si = lin::require_samples(r.dims, in[i]->shape);
    if (si != 1 && si != s.count)
      throw UserError("input " + std::to_string(i) + " of shape " + dims_str(in[i]->shape) +
                      " holds " + std::to_string(si) + " samples where the output has " +
                      std::to_string(s.count));
    for (int64_t b = 0; b < s.count; ++b) {
      const int64_t *src = in[i]->q.data() + (si == 1 ? 0 : b * per);
      std::copy(src, src + per, s.x.begin() + b * xsz + g.off[i]);
    }
  }
  return s;
}

void require_inputs(Ins in) {
  if (in.empty())
    throw UserError("the op needs at least one input");
  for (size_t i = 0; i < in.size(); ++i)
    if (!in[i])
      throw UserError("input " + std::to_string(i) + " is omitted; every input must be given");
}
} // namespace

std::vector<ValueType> variadic_infer(Variadic, Ins in) {
  require_inputs(in);
  for (size_t i = 0; i < in.size(); ++i) {
    std::string what = "input " + std::to_string(i);
    require_float(in[i]->dtype, what.c_str());
    if (in[i]->dtype != in[0]->dtype)
      throw UserError("inputs have different element types: " +
                      std::string(dtype_name(in[0]->dtype)) + " and " + dtype_name(in[i]->dtype));
  }
  return {ValueType{in[0]->dtype, broadcast_all(in.size(), [&](size_t i) { return in[i]->dims; })}};
}

std::vector<Tensor> variadic_eval(Variadic k, Vals in) {
  HGQC_ASSERT(!in.empty(), "variadic op without inputs");
  DType t = in[0]->dtype();
  Tensor y = *in[0];
  for (size_t i = 1; i < in.size(); ++i)
    y = map_binary(y, *in[i], t, [k](double a, double b) { return combine(k, a, b); });
  if (k == Variadic::Mean) {
    auto n = static_cast<double>(in.size());
    y = map_unary(y, [n](double v) { return v / n; });
  }
  return {y};
}

std::vector<ValueRange> variadic_range(Variadic k, Ranges in) {
  Gathered g = gather(in);
  if (is_extremum(k))
    return {ValueRange{g.out, lin::max_ranges(g.n_out(), g.x, max_taps(g), k == Variadic::Min).el}};
  return {ValueRange{g.out, average_of(k, g).ranges()}};
}

std::vector<FixedTensor> variadic_eval_fixed(Variadic k, FixedIns in, const FixedContext &ctx) {
  Gathered g = gather(ctx.in_ranges);
  Samples s = gather_samples(g, in, ctx);
  FixedTensor y{s.shape, std::vector<int64_t>(static_cast<size_t>(dims_numel(s.shape)))};
  const int64_t n_out = g.n_out();
  if (is_extremum(k)) {
    bool min = k == Variadic::Min;
    lin::MaxRanges mr = lin::max_ranges(n_out, g.x, max_taps(g), min);
    HGQC_ASSERT(mr.el == ctx.out_ranges[0]->el, "Max/Min ranges changed since the analysis");
    lin::MaxPlan plan = lin::max_plan(n_out, g.x, mr, max_taps(g));
    lin::run_max_plan(plan, s.x.data(), dims_numel(g.x.dims), s.count, y.q.data(), n_out, min);
  } else {
    average_of(k, g).eval(s.x.data(), s.count, y.q.data());
  }
  return {y};
}

double variadic_ebops(Variadic k, Ranges in) {
  if (k != Variadic::Mean)
    return 0;
  for (const ValueRange *r : in)
    if (!r)
      return 0;
  Gathered g = gather(in);
  return average_of(k, g).ebops();
}

std::vector<std::vector<NetRef>> variadic_lower(Variadic k, LowerContext &ctx) {
  Gathered g = gather(ctx.in_ranges);
  std::vector<NetRef> xs;
  xs.reserve(g.x.el.size());
  for (const std::vector<NetRef> *v : ctx.in)
    xs.insert(xs.end(), v->begin(), v->end());
  if (is_extremum(k))
    return {lin::lower_max(ctx.net, g.n_out(), xs, max_taps(g), k == Variadic::Min)};
  return {average_of(k, g).lower(ctx, xs)};
}

void variadic_train_forward(Variadic k, TrainIns in, TrainOuts out) {
  Dims d = broadcast_all(in.size(), [&](size_t i) { return in[i]->shape; });
  std::vector<BroadcastIndex> ix;
  for (const TrainTensor *t : in)
    ix.emplace_back(t->shape, d);
  TrainTensor &y = *out[0];
  y.resize(d);
  const float inv = 1.0f / static_cast<float>(in.size());
  for (int64_t j = 0; j < y.numel(); ++j) {
    float a = in[0]->v[static_cast<size_t>(ix[0][j])];
    for (size_t i = 1; i < in.size(); ++i) {
      float b = in[i]->v[static_cast<size_t>(ix[i][j])];
      a = static_cast<float>(combine(k, a, b));
    }
    y.v[static_cast<size_t>(j)] = k == Variadic::Mean ? a * inv : a;
  }
}

void variadic_backward(Variadic k, TrainIns in, TrainIns dout, TrainOuts din) {
  const TrainTensor &dy = *dout[0];
  const Dims &d = dy.shape;
  std::vector<BroadcastIndex> ix;
  for (const TrainTensor *t : in)
    ix.emplace_back(t->shape, d);
  // Max and Min: the input each output element took (the first of equal ones).
  std::vector<uint32_t> sel;
  if (is_extremum(k)) {
    sel.assign(dy.v.size(), 0);
    for (size_t j = 0; j < sel.size(); ++j) {
      auto jj = static_cast<int64_t>(j);
      float best = in[0]->v[static_cast<size_t>(ix[0][jj])];
      for (size_t i = 1; i < in.size(); ++i) {
        float b = in[i]->v[static_cast<size_t>(ix[i][jj])];
        if (k == Variadic::Max ? b > best : b < best) {
          best = b;
          sel[j] = static_cast<uint32_t>(i);
        }
      }
    }
  }
  const float inv = 1.0f / static_cast<float>(in.size());
  std::vector<float> full(dy.v.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (!din[i])
      continue;
    for (size_t j = 0; j < full.size(); ++j)
      full[j] = k == Variadic::Sum    ? dy.v[j]
                : k == Variadic::Mean ? dy.v[j] * inv
                : sel[j] == i         ? dy.v[j]
                                      : 0.0f;
    reduce_broadcast(full, d, in[i]->shape, *din[i]);
  }
}

} // namespace hgqc::ops
