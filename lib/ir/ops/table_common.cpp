// The table-function family's shared code: precision-generic maths, the decision of one entry,
// the fused output quantizer, the table cache and the ONNX form of a fused node.
#include "ir/ops/table_common.h"

#include <map>
#include <mutex>
#include <quadmath.h>

namespace hgqc::ops {

namespace tmath {
long double exp(long double x) { return expl(x); }
long double expm1(long double x) { return expm1l(x); }
long double log1p(long double x) { return log1pl(x); }
long double log(long double x) { return logl(x); }
long double tanh(long double x) { return tanhl(x); }
long double erf(long double x) { return erfl(x); }
long double erfc(long double x) { return erfcl(x); }
long double fma(long double a, long double b, long double c) { return fmal(a, b, c); }
long double sqrt(long double x) { return sqrtl(x); }
Quad exp(Quad x) { return expq(x); }
Quad expm1(Quad x) { return expm1q(x); }
Quad log1p(Quad x) { return log1pq(x); }
Quad log(Quad x) { return logq(x); }
Quad tanh(Quad x) { return tanhq(x); }
Quad erf(Quad x) { return erfq(x); }
Quad erfc(Quad x) { return erfcq(x); }
Quad fma(Quad a, Quad b, Quad c) { return fmaq(a, b, c); }
Quad sqrt(Quad x) { return sqrtq(x); }
template <> long double from_decimal<long double>(const char *s) {
  return std::strtold(s, nullptr);
}
template <> Quad from_decimal<Quad>(const char *s) { return strtoflt128(s, nullptr); }
} // namespace tmath

namespace {
long double ldexp_t(long double x, int e) { return ldexpl(x, e); }
Quad ldexp_t(Quad x, int e) { return ldexpq(x, e); }
long double floor_t(long double x) { return floorl(x); }
Quad floor_t(Quad x) { return floorq(x); }
long double nearest_t(long double x) { return roundl(x); }
Quad nearest_t(Quad x) { return roundq(x); }
bool finite_t(long double x) { return std::isfinite(x); }
bool finite_t(Quad x) { return finiteq(x); }

// Values beyond 2^kHuge (scaled) saturate; their low bits are not known.
constexpr int kHuge = 100;
} // namespace

template <class T>
std::optional<QuantResult> decide_entry(const TableValue<T> &v, int margin_bits, FixedFormat fmt,
                                        RoundMode rnd, OverflowMode ovf) {
  if (fmt.pruned())
    return QuantResult{};
  T val = v.num / v.den;
  bool exact = v.exact && tmath::fma(val, v.den, -v.num) == 0;
  T s = ldexp_t(val, fmt.f); // exact: a power-of-two scaling
  if (!finite_t(s) || tmath::abs(s) >= ldexp_t(T(1), kHuge)) {
    if (ovf == OverflowMode::WRAP)
      throw UserError("the function's value at an input code exceeds 2^" + std::to_string(kHuge) +
                      " output units, too large to wrap exactly into " + fmt.str() +
                      "; use a saturating quantizer (SAT)");
    Int128 big = Int128{1} << kHuge;
    return quantize_int128(s < 0 ? -big : big, fmt.f, fmt, RoundMode::TRN, ovf);
  }
  T fl = floor_t(s);
  // The nearest rounding boundary b (integers for TRN, half-integers otherwise); s - b is
  // exact near b, so d is the true distance of the computed value.
  T b = rnd == RoundMode::TRN ? nearest_t(s) : fl + T(0.5);
  T d = tmath::abs(s - b);
  if (!exact && !(d > ldexp_t(tmath::abs(s), -margin_bits))) {
    // A bound the function approaches: the true value is just beside it.
    if (v.side == 0 || s != b)
      return std::nullopt;
    T r = rnd == RoundMode::TRN ? (v.side < 0 ? b - 1 : b) : (v.side < 0 ? fl : fl + 1);
    return quantize_int128(static_cast<Int128>(r), fmt.f, fmt, RoundMode::TRN, ovf);
  }
  T r = fl;
  if (rnd != RoundMode::TRN) {
    if (s > b)
      r = fl + 1;
    else if (s == b) // exactly half way
      r = rnd == RoundMode::RND ? fl + 1 : (floor_t(fl / 2) * 2 == fl ? fl : fl + 1);
  }
  return quantize_int128(static_cast<Int128>(r), fmt.f, fmt, RoundMode::TRN, ovf);
}

template std::optional<QuantResult> decide_entry(const TableValue<long double> &, int, FixedFormat,
                                                 RoundMode, OverflowMode);
template std::optional<QuantResult> decide_entry(const TableValue<Quad> &, int, FixedFormat,
                                                 RoundMode, OverflowMode);

Quad quad_ldexp(int64_t q, int f) { return ldexpq(static_cast<Quad>(q), -f); }

void table_undecidable(int64_t q, int f, FixedFormat fmt) {
  throw UserError("the table entry for the input " + std::to_string(q) + " * 2^-" +
                  std::to_string(f) + " lies within 2^-100 of a rounding boundary of " + fmt.str() +
                  " and is not known exactly, so it cannot be decided the same way "
                  "on every machine; change the output format");
}

TableQuant table_quant(const Node &n, std::span<const Tensor *const> consts, const Dims &dims) {
  if (!table_fused(n))
    throw UserError("has no fixed-point form on its own: a table function's output format comes "
                    "from the quantizer (FixedQuant) that reads it, and here no quantizer alone "
                    "reads the output (hgqc quantize and hgqc train place one)");
  TableQuant tq;
  tq.fmts = broadcast_formats(*consts[1], *consts[2], *consts[3], dims);
  tq.rnd = *parse_round_mode(attr_string(n, "round_mode", "TRN"));
  tq.ovf = *parse_overflow_mode(attr_string(n, "overflow_mode", "WRAP"));
  return tq;
}

void check_table_input(const Interval &x, size_t e) {
  if (x.width() > kMaxTableInputWidth)
    throw UserError("input element " + std::to_string(e) + " spans " + x.str() + ", " +
                    std::to_string(x.width()) + " bits; a table takes at most " +
                    std::to_string(kMaxTableInputWidth) + " input bits (2^" +
                    std::to_string(kMaxTableInputWidth) +
                    " entries): quantize the input to fewer bits");
}

std::shared_ptr<const TableData> cached_table(const std::string &key, const Interval &x,
                                              FixedFormat fmt, RoundMode rnd, OverflowMode ovf,
                                              const std::function<QuantResult(int64_t)> &make) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const TableData>> cache;
  std::string k =
      key + "|" + x.str() + "|" + fmt.str() + round_mode_name(rnd) + overflow_mode_name(ovf);
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(k);
    if (it != cache.end())
      return it->second;
  }
  HGQC_ASSERT(x.width() <= kMaxTableInputWidth, "table input too wide");
  auto t = std::make_shared<TableData>();
  t->lo = x.lo;
  for (Int128 q = x.lo; q <= x.hi; ++q) {
    QuantResult r = make(static_cast<int64_t>(q));
    t->q.push_back(r.q);
    t->overflow.push_back(r.overflow);
  }
  std::lock_guard<std::mutex> lock(mu);
  return cache.emplace(k, std::move(t)).first->second;
}

std::vector<ExportNode> table_export(const Node &n, const ExportContext &) {
  ExportNode f = default_export_node(n);
  if (!table_fused(n))
    return {f};
  ExportNode q;
  q.op_type = "FixedQuant";
  q.domain = OpDomain::Hgqc;
  q.name_suffix = "_quant";
  for (const char *a : {"round_mode", "overflow_mode"}) {
    q.attrs[a] = f.attrs.at(a);
    f.attrs.erase(a);
  }
  f.inputs.resize(1);
  f.outputs = {ExportRef::temp_of(0, "value")};
  q.inputs = {ExportRef::temp_of(0, "value"), ExportRef::of(n.inputs[1]),
              ExportRef::of(n.inputs[2]), ExportRef::of(n.inputs[3])};
  q.outputs = {ExportRef::of(n.outputs[0])};
  return {f, q};
}

} // namespace hgqc::ops
