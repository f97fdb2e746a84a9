// Shared fixed-point helpers of the op families in fixed_common.h.
#include "ir/ops/fixed_common.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace hgqc::ops {

namespace {
int sign(Int128 v) { return (v > 0) - (v < 0); }
} // namespace

int cmp_fixed(Int128 a, int fa, Int128 b, int fb) {
  HGQC_ASSERT(magnitude_bits(a) <= 63 && magnitude_bits(b) <= 63, "cmp_fixed operand too wide");
  if (fa > fb)
    return -cmp_fixed(b, fb, a, fa);
  // a is on the coarser grid: compare a * 2^s with b.
  int s = fb - fa;
  if (a == 0)
    return -sign(b);
  if (s >= 64) // |a| * 2^s >= 2^64 > |b|
    return sign(a);
  Int128 x = a * (static_cast<Int128>(1) << s);
  return (x > b) - (x < b);
}

Int128 to_grid(Int128 q, int f, int to) {
  if (q == 0)
    return 0;
  HGQC_ASSERT(to >= f, "moving a value to a coarser grid");
  int s = to - f;
  HGQC_ASSERT(magnitude_bits(q) + s <= 126, "value too wide on grid 2^-" + std::to_string(to));
  return q * (static_cast<Int128>(1) << s);
}

int64_t narrow_q(Int128 v) {
  HGQC_ASSERT(v >= std::numeric_limits<int64_t>::min() && v <= std::numeric_limits<int64_t>::max(),
              "fixed-point result " + int128_str(v) + " does not fit int64");
  return static_cast<int64_t>(v);
}

std::string real_str(double x) {
  // Attributes and most constants are float32: their shortest float32 text is the one
  // the user wrote.
  bool single = std::isfinite(x) && static_cast<double>(static_cast<float>(x)) == x;
  char buf[40];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, x);
    if (single ? std::strtof(buf, nullptr) == static_cast<float>(x)
               : std::strtod(buf, nullptr) == x)
      break;
  }
  return buf;
}

Dims broadcast_shape(const Dims &a, const Dims &b) {
  Dims d;
  if (!broadcast_dims(a, b, d))
    throw UserError("shapes " + dims_str(a) + " and " + dims_str(b) + " do not broadcast");
  return d;
}

Interval sum_interval(const Interval &a, Interval b, bool negate_b) {
  if (negate_b)
    b = Interval{-b.hi, -b.lo, b.f};
  if (a.zero() && b.zero())
    return Interval{0, 0, std::max(a.f, b.f)};
  if (a.zero())
    return b;
  if (b.zero())
    return a;
  int f = std::max(a.f, b.f);
  Interval x = a.aligned(f), y = b.aligned(f);
  return Interval{x.lo + y.lo, x.hi + y.hi, f};
}

Int128 sum_fixed(int64_t qa, const Interval &a, int64_t qb, const Interval &b, const Interval &y,
                 bool negate_b) {
  Int128 r = a.zero() ? 0 : to_grid(qa, a.f, y.f);
  Int128 s = b.zero() ? 0 : to_grid(qb, b.f, y.f);
  return negate_b ? r - s : r + s;
}

// ---- Leaky ramps ----

Slope slope_of(const Interval &c) {
  HGQC_ASSERT(c.lo == c.hi && magnitude_bits(c.lo) <= 62, "slope is not a short constant");
  Slope p{c.lo, std::max(c.f, 0)};
  if (c.f < 0)
    p.a = to_grid(c.lo, c.f, 0);
  return p;
}

std::optional<Interval> leaky_interval(const Interval &x, const Slope &p) {
  if (x.lo >= 0) // never negative: the identity (also for the constant zero)
    return x;
  Int128 c1 = x.lo * p.a, c2 = std::min<Int128>(x.hi, -1) * p.a;
  Interval y{std::min(c1, c2), std::max(c1, c2), x.f + p.s};
  if (x.hi >= 0) { // and the positive side [0, hi] * 2^s
    if (x.hi > 0 && p.s > kMaxFixedWidth)
      return std::nullopt;
    y.lo = std::min<Int128>(y.lo, 0);
    y.hi = std::max(y.hi, to_grid(x.hi, x.f, y.f));
  }
  if (y.width() > kMaxFixedWidth)
    return std::nullopt;
  return y;
}

Int128 leaky_fixed(int64_t q, const Interval &x, const Interval &y, const Slope &p) {
  if (q >= 0)
    return to_grid(q, x.f, y.f);
  HGQC_ASSERT(y.f == x.f + p.s, "leaky ramp output exponent");
  return static_cast<Int128>(q) * p.a;
}

NetRef lower_leaky(LowerContext &c, NetRef x, const Slope &p) {
  Netlist &net = c.net;
  if (x.zero() || net.interval(x).lo >= 0)
    return x;
  NetRef a = net.constant(p.a, p.s);
  if (p.a > 0 && p.a <= (Int128{1} << p.s))
    return net.max(x, lower_const_mul(c, x, a));
  NetRef neg_part = lower_const_mul(c, net.relu(net.neg(x)), a);
  return net.add(net.relu(x), neg_part, true);
}

// ---- The copy family ----

namespace {
// For each output element, the input and the element of it that the op copies.
struct CopyMap {
  Dims dims;
  std::vector<int32_t> input;
  std::vector<int64_t> element;
};

bool is_data(int n_data, size_t j) { return n_data < 0 || j < static_cast<size_t>(n_data); }

// Runs `eval` with each data input j (shapes[j] set) replaced by a float64 tensor holding
// start_j + its element numbers, where start_j counts the elements of the data inputs
// before it; the other inputs are `others[j]`.
CopyMap trace_copy(EvalFn eval, const Node &n, const std::vector<std::optional<Dims>> &shapes,
                   const std::vector<const Tensor *> &others) {
  const size_t m = shapes.size();
  std::vector<Tensor> held(m);
  std::vector<const Tensor *> args(m, nullptr);
  std::vector<std::pair<int64_t, int32_t>> starts;
  int64_t total = 0;
  for (size_t j = 0; j < m; ++j) {
    if (!shapes[j]) {
      args[j] = others[j];
      continue;
    }
    held[j] = Tensor(DType::Float64, *shapes[j]);
    for (int64_t i = 0; i < held[j].numel(); ++i)
      held[j][i] = static_cast<double>(total + i);
    if (held[j].numel() > 0)
      starts.emplace_back(total, static_cast<int32_t>(j));
    total += held[j].numel();
    args[j] = &held[j];
  }
  HGQC_ASSERT(total < (int64_t{1} << 53), "too many elements to trace");
  std::vector<Tensor> out = eval(n, args);
  HGQC_ASSERT(!out.empty(), "copy op returned no output");
  const Tensor &y = out[0];
  CopyMap map{y.shape(), std::vector<int32_t>(static_cast<size_t>(y.numel())),
              std::vector<int64_t>(static_cast<size_t>(y.numel()))};
  for (int64_t k = 0; k < y.numel(); ++k) {
    double v = y[k];
    auto t = static_cast<int64_t>(v);
    HGQC_ASSERT(v >= 0 && v < static_cast<double>(total) && static_cast<double>(t) == v,
                n.name + ": output element " + std::to_string(k) + " is not an input element");
    auto it = std::upper_bound(starts.begin(), starts.end(), t,
                               [](int64_t x, const auto &s) { return x < s.first; });
    --it;
    map.input[k] = it->second;
    map.element[k] = t - it->first;
  }
  return map;
}

// Throws UserError unless the copy at batch 2 is the copy at batch 1 for each sample.
void check_batch(EvalFn eval, const Node &n, Ranges in, std::vector<std::optional<Dims>> shapes,
                 const std::vector<const Tensor *> &others, const std::vector<bool> &batched,
                 const CopyMap &one) {
  const std::string rule = "in fixed point the batch must stay the leading dimension, each "
                           "sample copied from the same sample of the input";
  for (size_t j = 0; j < shapes.size(); ++j)
    if (batched[j])
      (*shapes[j])[0] = 2;
  CopyMap two;
  try {
    two = trace_copy(eval, n, shapes, others);
  } catch (const UserError &e) {
    throw UserError("the op does not apply to a batch of 2 (" + e.bare_message() + "); " + rule);
  }
  Dims want = one.dims;
  bool ok = !want.empty() && want[0] == 1;
  if (ok)
    want[0] = 2;
  ok = ok && two.dims == want;
  const int64_t per = dims_numel(one.dims);
  for (int64_t k = 0; ok && k < 2 * per; ++k) {
    int64_t b = k / per, r = k % per;
    int32_t j = one.input[r];
    int64_t e = one.element[r] + (batched[j] ? b * dims_numel(in[j]->dims) : 0);
    ok = two.input[k] == j && two.element[k] == e;
  }
  if (!ok)
    throw UserError("the op moves or merges the batch dimension (one sample gives shape " +
                    dims_str(one.dims) + ", two give " + dims_str(two.dims) + "); " + rule);
}

// Copy ops have one output; Dropout's optional mask is refused before this is reached.
size_t copy_outputs(const Node &n) {
  for (size_t k = 1; k < n.outputs.size(); ++k)
    HGQC_ASSERT(n.outputs[k] == kNoValue, n.name + ": copy op with a second output");
  return std::max<size_t>(n.outputs.size(), 1);
}
} // namespace

std::vector<ValueRange> copy_range(EvalFn eval, int n_data, const Node &n, Ranges in, Consts c) {
  std::vector<std::optional<Dims>> shapes(in.size());
  std::vector<const Tensor *> others(in.size(), nullptr);
  std::vector<bool> batched(in.size(), false);
  bool any_batched = false;
  for (size_t j = 0; j < in.size(); ++j) {
    if (!in[j])
      continue;
    if (is_data(n_data, j)) {
      shapes[j] = in[j]->dims;
      // A computed value with leading dimension 1 in its range is taken to be batched.
      batched[j] = !c[j] && !in[j]->dims.empty() && in[j]->dims[0] == 1;
      any_batched |= batched[j];
    } else if (!c[j]) {
      throw UserError("input " + std::to_string(j) +
                      " is computed at run time; in fixed point it must be a constant");
    } else {
      others[j] = c[j];
    }
  }
  CopyMap one = trace_copy(eval, n, shapes, others);
  if (any_batched)
    check_batch(eval, n, in, shapes, others, batched, one);
  std::vector<ValueRange> out(copy_outputs(n));
  out[0].dims = one.dims;
  out[0].el.resize(one.input.size());
  for (size_t k = 0; k < one.input.size(); ++k)
    out[0].el[k] = in[one.input[k]]->el[one.element[k]];
  return out;
}

std::vector<FixedTensor> copy_eval_fixed(EvalFn eval, int n_data, const Node &n, FixedIns in,
                                         const FixedContext &ctx) {
  std::vector<std::optional<Dims>> shapes(in.size());
  std::vector<Tensor> consts(in.size());
  std::vector<const Tensor *> others(in.size(), nullptr);
  std::vector<std::vector<int64_t>> rin(in.size());
  for (size_t j = 0; j < in.size(); ++j) {
    if (!in[j])
      continue;
    const ValueRange &r = *ctx.in_ranges[j];
    rin[j] = range_index(r.dims, in[j]->shape);
    if (is_data(n_data, j)) {
      shapes[j] = in[j]->shape;
    } else {
      // A constant (checked by the range hook): its exact values.
      consts[j] = Tensor(DType::Float64, in[j]->shape);
      for (size_t i = 0; i < in[j]->q.size(); ++i)
        consts[j][static_cast<int64_t>(i)] = fixed_to_double(in[j]->q[i], r.el[rin[j][i]].f);
      others[j] = &consts[j];
    }
  }
  CopyMap map = trace_copy(eval, n, shapes, others);
  const ValueRange &ry = *ctx.out_ranges[0];
  auto iy = range_index(ry.dims, map.dims);
  std::vector<FixedTensor> out(copy_outputs(n));
  out[0].shape = map.dims;
  out[0].q.resize(map.input.size());
  for (size_t k = 0; k < map.input.size(); ++k) {
    int32_t j = map.input[k];
    int64_t e = map.element[k];
    HGQC_ASSERT(ry.el[iy[k]] == ctx.in_ranges[j]->el[rin[j][e]],
                n.name + ": copied element " + std::to_string(k) + " changes its range");
    out[0].q[k] = in[j]->q[e];
  }
  return out;
}

std::vector<std::vector<NetRef>> copy_lower(EvalFn eval, int n_data, const Node &n,
                                            LowerContext &ctx) {
  std::vector<std::optional<Dims>> shapes(ctx.in.size());
  std::vector<const Tensor *> others(ctx.in.size(), nullptr);
  for (size_t j = 0; j < ctx.in.size(); ++j) {
    if (!ctx.in_ranges[j])
      continue;
    if (is_data(n_data, j))
      shapes[j] = ctx.in_ranges[j]->dims;
    else
      others[j] = ctx.consts[j];
  }
  CopyMap map = trace_copy(eval, n, shapes, others);
  std::vector<std::vector<NetRef>> out(copy_outputs(n));
  out[0].resize(map.input.size());
  for (size_t k = 0; k < map.input.size(); ++k)
    out[0][k] = (*ctx.in[map.input[k]])[map.element[k]];
  return out;
}

std::optional<Int128> const_value(const Netlist &net, NetRef r) {
  if (r.zero())
    return Int128{0};
  if (net.node(r).op != NetOp::Const)
    return std::nullopt;
  return net.node(r).lo;
}

NetRef lower_const_mul(LowerContext &ctx, NetRef x, NetRef c) {
  auto cv = const_value(ctx.net, c);
  HGQC_ASSERT(cv, "lower_const_mul with a run-time factor");
  if (x.zero() || *cv == 0)
    return {};
  if (auto xv = const_value(ctx.net, x))
    return ctx.net.constant(*xv * *cv, x.f + c.f);
  if (*cv > INT64_MAX || *cv < -INT64_MAX)
    throw UserError("constant factor " + int128_str(*cv) + " is too large for shift-and-add logic");
  CmvmRequest rq;
  rq.x = {x.node};
  rq.rows = 1;
  rq.m = {static_cast<int64_t>(*cv)};
  rq.row_f = {x.f + c.f};
  CmvmRow row = ctx.cmvm(ctx.net, rq).at(0);
  return row.negate ? ctx.net.neg(row.ref) : row.ref;
}

namespace {
// The copy map of a training chunk, cached per node by input shapes.
struct TrainCopyCache {
  std::vector<Dims> shapes;
  CopyMap map;
};

const CopyMap &train_copy_map(EvalFn eval, int n_data, const Node &n, TrainIns in,
                              TrainContext &ctx) {
  std::vector<Dims> key(in.size());
  for (size_t j = 0; j < in.size(); ++j)
    if (in[j] && is_data(n_data, j))
      key[j] = in[j]->shape;
  auto *c = std::any_cast<TrainCopyCache>(ctx.cache);
  if (c && c->shapes == key)
    return c->map;
  std::vector<std::optional<Dims>> shapes(in.size());
  std::vector<const Tensor *> others(in.size(), nullptr);
  for (size_t j = 0; j < in.size(); ++j) {
    if (!in[j])
      continue;
    if (is_data(n_data, j)) {
      shapes[j] = in[j]->shape;
    } else {
      if (j >= ctx.consts.size() || !ctx.consts[j])
        throw UserError("input " + std::to_string(j) +
                        " is computed at run time; training needs a constant here");
      others[j] = ctx.consts[j];
    }
  }
  *ctx.cache = TrainCopyCache{key, trace_copy(eval, n, shapes, others)};
  return std::any_cast<TrainCopyCache>(ctx.cache)->map;
}
} // namespace

void copy_train_forward(EvalFn eval, int n_data, const Node &n, TrainIns in, TrainOuts out,
                        TrainContext &ctx) {
  const CopyMap &m = train_copy_map(eval, n_data, n, in, ctx);
  TrainTensor &y = *out[0];
  y.resize(m.dims);
  for (size_t k = 0; k < m.input.size(); ++k)
    y.v[k] = in[m.input[k]]->v[static_cast<size_t>(m.element[k])];
}

void copy_backward(EvalFn eval, int n_data, const Node &n, TrainIns in, TrainIns, TrainIns dout,
                   TrainOuts din, TrainContext &ctx) {
  const CopyMap &m = train_copy_map(eval, n_data, n, in, ctx);
  for (size_t j = 0; j < din.size(); ++j)
    if (din[j])
      grad_target(*din[j], in[j]->shape);
  const TrainTensor &dy = *dout[0];
  for (size_t k = 0; k < m.input.size(); ++k)
    if (TrainTensor *d = din[static_cast<size_t>(m.input[k])])
      d->v[static_cast<size_t>(m.element[k])] += dy.v[k];
}

} // namespace hgqc::ops
