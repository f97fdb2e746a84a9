// Unit tests of the table functions (Sigmoid, Tanh, Exp, Softplus, Softsign, Elu, Selu,
// HardSigmoid, HardSwish, Erf, Celu, and hgqc's Gelu, Silu, Mish) in fixed point: entries on
// rounding boundaries, every entry against an independent float64 reference, the emulator against
// the float evaluator, the netlist's ROMs against the emulator, one ROM per distinct table, and the
// refusals.
#include "backend/cmvm_lower.h"
#include "backend/emit.h"
#include "backend/passes.h"
#include "backend/verilog.h"
#include "fixed_test_util.h"
#include "frontend/onnx_export.h"
#include "frontend/onnx_import.h"
#include "ir/lower.h"
#include "ir/ops/table_common.h"
#include "ir/passes/passes.h"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <set>

using namespace hgqc;
using namespace hgqc::test;

namespace {
// Every table op with its opset, an independent float64 reference, and its domain and one
// string attribute where it has them.
struct TableCase {
  const char *op;
  int opset;
  double (*ref)(double);
  const char *domain = nullptr;
  const char *attr = nullptr, *attr_value = nullptr;
};
double phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
const TableCase kCases[] = {
    {"Sigmoid", 13, [](double x) { return 1 / (1 + std::exp(-x)); }},
    {"Tanh", 13, [](double x) { return std::tanh(x); }},
    {"Exp", 13, [](double x) { return std::exp(x); }},
    {"Softplus", 13, [](double x) { return std::log1p(std::exp(x)); }},
    {"Softsign", 13, [](double x) { return x / (1 + std::fabs(x)); }},
    {"Elu", 13, [](double x) { return x > 0 ? x : std::expm1(x); }},
    {"Selu", 13,
     [](double x) {
       return x > 0 ? 1.05070102214813232421875 * x
                    : 1.05070102214813232421875 * 1.67326319217681884765625 * std::expm1(x);
     }},
    {"HardSigmoid", 13,
     [](double x) { return std::clamp(double(0.2f) * x + double(0.5f), 0.0, 1.0); }},
    {"HardSwish", 14, [](double x) { return x * std::clamp(x + 3, 0.0, 6.0) / 6; }},
    {"Erf", 13, [](double x) { return std::erf(x); }},
    {"Celu", 13, [](double x) { return x > 0 ? x : std::expm1(x); }},
    {"Gelu", 13, [](double x) { return x * phi(x); }, "hgqc"},
    {"Gelu", 13,
     [](double x) {
       return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
     },
     "hgqc", "approximate", "tanh"},
    {"Silu", 13, [](double x) { return x / (1 + std::exp(-x)); }, "hgqc"},
    {"Mish", 13, [](double x) { return x * std::tanh(std::log1p(std::exp(x))); }, "hgqc"},
};

// The node of table case `c` from x to y.
void table_node(ModelBuilder &b, const TableCase &c, const std::string &x, const std::string &y) {
  auto &n = b.node(c.op, {x}, {y}, "fn");
  if (c.domain)
    n.set_domain(c.domain);
  if (c.attr)
    attr_s(n, c.attr, c.attr_value);
}

// y = FixedQuant(x) with scalar format (k, i, f) and the given modes.
void quant_mode(ModelBuilder &b, const std::string &x, const std::string &y, FixedFormat f,
                const char *rnd, const char *ovf) {
  b.init(y + "_k", {}, {double(f.k)}, true)
      .init(y + "_i", {}, {double(f.i)}, true)
      .init(y + "_f", {}, {double(f.f)}, true);
  auto &n = b.node("FixedQuant", {x, y + "_k", y + "_i", y + "_f"}, {y}, "q_" + y);
  n.set_domain("hgqc");
  attr_s(n, "round_mode", rnd);
  attr_s(n, "overflow_mode", ovf);
}

// x[N, n] -> FixedQuant(in) -> op -> FixedQuant(out) -> y, in the fixed-point form.
Graph table_model(const TableCase &c, int n, FixedFormat in, FixedFormat out, const char *rnd,
                  const char *ovf) {
  ModelBuilder b(c.opset);
  b.input("x_in", {-1, n});
  quant_mode(b, "x_in", "x", in, "RND", "SAT");
  table_node(b, c, "x", "t");
  quant_mode(b, "t", "y", out, rnd, ovf);
  b.output("y");
  Graph g = b.import();
  normalize(g);
  to_fixed(g);
  return g;
}

// The emulator's output for one input vector of integers on the input grid.
std::vector<int64_t> run_codes(const Graph &g, const RangeAnalysis &ra,
                               const std::vector<int64_t> &q, int f_in) {
  Tensor x(DType::Float32, {1, static_cast<int64_t>(q.size())});
  for (size_t j = 0; j < q.size(); ++j)
    x[static_cast<int64_t>(j)] = std::ldexp(static_cast<double>(q[j]), -f_in);
  return evaluate_fixed(g, ra, {x}).outputs.at(0).q;
}

const char *const kRnd[] = {"TRN", "RND", "RND_CONV"};
} // namespace

TEST_CASE("table ops: the quantizer after a table function is folded into it") {
  for (const TableCase &c : kCases) {
    Graph g = table_model(c, 2, {1, 2, 3}, {1, 1, 6}, "RND", "SAT");
    CAPTURE(c.op);
    int tables = 0, quants = 0;
    for (const Node &n : g.nodes) {
      tables += op_def(n.op).table;
      quants += n.op == OpKind::FixedQuant;
      if (op_def(n.op).table)
        CHECK(n.inputs.size() == 4);
    }
    CHECK(tables == 1);
    CHECK(quants == 1); // the input's
  }
}

TEST_CASE("table ops: entries exactly on a rounding boundary follow the rounding mode") {
  // Sigmoid(0) = 1/2, Softsign(1) = 1/2, HardSwish(-3/2) = -3/8 and Tanh(0) = 0 are exact;
  // at the output grids below they sit on a boundary of every rounding mode.
  struct Tie {
    int ci; // index in kCases
    double x;
    int f_out;
    int64_t trn, rnd, conv;
  };
  const Tie ties[] = {
      {0, 0.0, 0, 0, 1, 0},     // 0.5
      {4, 1.0, 0, 0, 1, 0},     // 0.5
      {8, -1.5, 2, -2, -1, -2}, // -1.5 units
      {8, -1.5, 1, -1, -1, -1}, // -0.75 units: not a tie, below -0.5
      {1, 0.0, 4, 0, 0, 0},     // 0: TRN must not fall to -1
      {2, 0.0, 3, 8, 8, 8},     // e^0 = 1
  };
  for (const Tie &t : ties) {
    for (int m = 0; m < 3; ++m) {
      Graph g = table_model(kCases[t.ci], 1, {1, 3, 2}, {1, 4, t.f_out}, kRnd[m], "SAT");
      RangeAnalysis ra = analyze_ranges(g);
      CAPTURE(kCases[t.ci].op);
      CAPTURE(kRnd[m]);
      int64_t want = m == 0 ? t.trn : m == 1 ? t.rnd : t.conv;
      CHECK(run_codes(g, ra, {static_cast<int64_t>(t.x * 4)}, 2).at(0) == want);
    }
  }
}

TEST_CASE("table ops: every entry equals an independent float64 reference away from ties") {
  // Input fixed<1,3,4>: the 256 codes of [-8, 8). Output fixed<1,3,8> (SAT) and fixed<1,2,5>
  // (WRAP); every rounding mode. Entries whose float64 reference lies within 1e-9 of a
  // rounding boundary are left to the exact tests above.
  std::vector<int64_t> codes;
  for (int64_t q = -128; q < 128; ++q)
    codes.push_back(q);
  int64_t checked = 0;
  for (const TableCase &c : kCases)
    for (int m = 0; m < 3; ++m)
      for (int o = 0; o < 2; ++o) {
        FixedFormat out = o == 0 ? FixedFormat{1, 3, 8} : FixedFormat{1, 2, 5};
        const char *ovf = o == 0 ? "SAT" : "WRAP";
        Graph g = table_model(c, static_cast<int>(codes.size()), {1, 3, 4}, out, kRnd[m], ovf);
        RangeAnalysis ra = analyze_ranges(g);
        std::vector<int64_t> got = run_codes(g, ra, codes, 4);
        for (size_t j = 0; j < codes.size(); ++j) {
          double s = std::ldexp(c.ref(std::ldexp(double(codes[j]), -4)), out.f);
          double b = m == 0 ? std::round(s) : std::floor(s) + 0.5;
          if (std::fabs(s - b) < 1e-9 * std::max(1.0, std::fabs(s)))
            continue;
          int64_t r = static_cast<int64_t>(m == 0 ? std::floor(s) : std::floor(s + 0.5));
          int64_t want = quantize_int(r, out.f, out, RoundMode::TRN, *parse_overflow_mode(ovf)).q;
          CAPTURE(c.op);
          CAPTURE(kRnd[m]);
          CAPTURE(codes[j]);
          REQUIRE(got[j] == want);
          ++checked;
        }
      }
  CHECK(checked > 14000);
}

TEST_CASE("table ops: the emulator equals the float evaluator bit for bit") {
  for (const TableCase &c : kCases)
    for (int m = 0; m < 3; ++m) {
      CAPTURE(c.op);
      Graph g = table_model(c, 3, {1, 2, 3}, {1, 2, 7}, kRnd[m], "SAT");
      check_matches_float(g, MatchOptions{.trials = 6, .lo = -5, .hi = 5, .seed = 7});
    }
}

TEST_CASE("table ops: the netlist's ROMs equal the emulator, one ROM per distinct table") {
  // Per-element formats: elements 0 and 2 share their input and output formats (one table),
  // element 1 differs in its output, element 3 is pruned at the output.
  for (const TableCase &c : kCases) {
    ModelBuilder b(c.opset);
    b.input("x_in", {-1, 4});
    quant(b, "x_in", "x", {4}, {1, 1, 1, 0}, {2, 2, 2, 1}, {3, 3, 3, 2});
    table_node(b, c, "x", "t");
    quant(b, "t", "y", {4}, {1, 1, 1, 0}, {2, 1, 2, 0}, {6, 4, 6, 0});
    b.output("y");
    Graph g = b.import();
    normalize(g);
    to_fixed(g);
    RangeAnalysis ra = analyze_ranges(g);
    Netlist net = backend::remove_dead_nodes(lower_graph(g, ra, backend::make_cmvm_builder()));
    CAPTURE(c.op);
    std::set<int64_t> used;
    for (const NetNode &n : net.nodes)
      if (n.op == NetOp::Table)
        used.insert(n.index);
    CHECK(used.size() == 2);
    // Every input code of elements 0..2 (x in [-32, 31] * 2^-3 and [-8, 7] * 2^-2).
    for (int64_t q = -32; q < 32; ++q) {
      std::vector<int64_t> codes{q, (q + 48) % 64 - 32, -q - 1};
      Tensor x(DType::Float32, {1, 4});
      for (int j = 0; j < 3; ++j)
        x[j] = std::ldexp(double(codes[static_cast<size_t>(j)]), -3);
      x[3] = std::ldexp(double(q & 7), -2);
      FixedRun run = evaluate_fixed(g, ra, {x});
      std::vector<FixedTensor> quantized;
      for (size_t k = 0; k < g.nodes.size(); ++k)
        if (g.nodes[k].op == OpKind::FixedQuant && g.nodes[k].inputs[0] == g.inputs[0]) {
          Graph probe = g;
          probe.outputs = {g.nodes[k].outputs[0]};
          quantized.push_back(evaluate_fixed(probe, ra, {x}).outputs.at(0));
        }
      REQUIRE(quantized.size() == 1);
      std::vector<int64_t> bus = input_bus_of(net, quantized);
      std::vector<Int128> vals = evaluate_netlist(net, bus);
      const NetPort &p = net.outputs.at(0);
      for (size_t e = 0; e < p.el.size(); ++e) {
        CAPTURE(e);
        CHECK(net_value_at(p.el[e], vals, p.range[e].f) == run.outputs[0].q[e]);
      }
    }
  }
}

TEST_CASE("table ops: the Verilog writer emits one function per distinct table") {
  Graph g = table_model(kCases[1], 6, {1, 2, 3}, {1, 1, 6}, "RND", "SAT");
  RangeAnalysis ra = analyze_ranges(g);
  Netlist net = backend::remove_dead_nodes(lower_graph(g, ra, backend::make_cmvm_builder()));
  backend::Schedule s = backend::schedule_pipeline(net, {});
  std::string v = backend::write_verilog(net, s, {});
  size_t functions = 0, calls = 0;
  for (size_t at = v.find("endfunction"); at != std::string::npos;
       at = v.find("endfunction", at + 1))
    ++functions;
  for (size_t at = v.find("= rom_t0("); at != std::string::npos; at = v.find("= rom_t0(", at + 1))
    ++calls;
  CHECK(net.tables.size() == 1);
  CHECK(functions == 1);
  CHECK(calls == 6);
}

TEST_CASE("table ops: a fused node exports as the function and its quantizer and reads back") {
  Graph g = table_model(kCases[0], 3, {1, 2, 3}, {0, 0, 7}, "RND_CONV", "SAT");
  auto path = std::filesystem::temp_directory_path() /
              ("hgqc_unit_table_" + std::to_string(::getpid()) + ".onnx");
  export_onnx(g, path.string());
  Graph h = import_onnx(path.string());
  std::filesystem::remove(path);
  normalize(h);
  to_fixed(h);
  RangeAnalysis ra = analyze_ranges(g), rb = analyze_ranges(h);
  for (int64_t q = -32; q < 32; ++q)
    CHECK(run_codes(g, ra, {q, -q, q / 2}, 3) == run_codes(h, rb, {q, -q, q / 2}, 3));
}

TEST_CASE("table ops: refusals name the node and the reason") {
  // An input of 17 bits.
  Graph g = table_model(kCases[1], 2, {1, 8, 8}, {1, 1, 6}, "RND", "SAT");
  std::string e = range_error(g);
  CHECK(contains(e, "fn"));
  CHECK(contains(e, "17 bits; a table takes at most 16 input bits"));
  // 16 bits are accepted.
  CHECK(range_error(table_model(kCases[1], 1, {1, 7, 8}, {1, 1, 6}, "RND", "SAT")).empty());
  // A table function whose output no quantizer reads.
  ModelBuilder b;
  b.input("x_in", {-1, 2});
  quant(b, "x_in", "x", {}, {1}, {2}, {3});
  b.node("Tanh", {"x"}, {"y"}, "fn");
  b.output("y");
  Graph h = b.import();
  normalize(h);
  to_fixed(h);
  e = range_error(h);
  CHECK(contains(e, "fn"));
  CHECK(contains(e, "no quantizer alone reads the output"));
}

TEST_CASE("table ops: an entry no precision decides is refused, an exact one decided") {
  using ops::Quad;
  FixedFormat fmt{1, 3, 0};
  // A value 2^-110 above the boundary 1/2 that is not known exactly: undecidable.
  Quad half = 0.5, tiny = ops::quad_ldexp(1, 110);
  CHECK_FALSE(ops::decide_entry(ops::TableValue<Quad>{half + tiny}, 100, fmt, RoundMode::RND,
                                OverflowMode::SAT));
  // 2^-90 away: decided (up), in binary128.
  auto r = ops::decide_entry(ops::TableValue<Quad>{half - ops::quad_ldexp(1, 90)}, 100, fmt,
                             RoundMode::RND, OverflowMode::SAT);
  REQUIRE(r);
  CHECK(r->q == 0);
  // long double leaves 2^-60 to binary128; an exact tie is decided by the mode.
  CHECK_FALSE(ops::decide_entry(ops::TableValue<long double>{0.5L + std::ldexp(1.0L, -60)}, 48, fmt,
                                RoundMode::RND, OverflowMode::SAT));
  auto t = ops::decide_entry(ops::TableValue<long double>{3, 2, true}, 48, fmt, RoundMode::RND_CONV,
                             OverflowMode::SAT);
  REQUIRE(t);
  CHECK(t->q == 2);
  CHECK_THROWS_AS(ops::table_undecidable(1, 2, fmt), UserError);
}

TEST_CASE("table ops: Log over every code of a non-negative input, -infinity saturated") {
  // Log's domain is x >= 0, so it is checked here rather than in kCases (signed inputs).
  const TableCase c{"Log", 13, [](double x) { return std::log(x); }};
  std::vector<int64_t> codes;
  for (int64_t q = 0; q < 256; ++q)
    codes.push_back(q);
  const FixedFormat out{1, 3, 8};
  int64_t checked = 0;
  for (int m = 0; m < 3; ++m) {
    Graph g = table_model(c, static_cast<int>(codes.size()), {0, 4, 4}, out, kRnd[m], "SAT");
    RangeAnalysis ra = analyze_ranges(g);
    std::vector<int64_t> got = run_codes(g, ra, codes, 4);
    CAPTURE(kRnd[m]);
    CHECK(got[0] == -(int64_t{1} << (out.i + out.f))); // log 0 = -inf: the lowest code
    for (size_t j = 1; j < codes.size(); ++j) {
      double s = std::ldexp(std::log(std::ldexp(double(codes[j]), -4)), out.f);
      int64_t r = static_cast<int64_t>(m == 0 ? std::floor(s) : std::floor(s + 0.5));
      if (codes[j] != 16) // log 1 = 0 exactly; the others are transcendental, no tie
        REQUIRE(std::fabs(s - (m == 0 ? std::round(s) : std::floor(s) + 0.5)) > 1e-9);
      CAPTURE(codes[j]);
      REQUIRE(got[j] == quantize_int(r, out.f, out, RoundMode::TRN, OverflowMode::SAT).q);
      ++checked;
    }
    // The float evaluator of the same graph, on positive inputs, and the netlist's ROM.
    check_matches_float(g, MatchOptions{.trials = 4, .lo = 0.0625, .hi = 15, .seed = 3});
    Netlist net = backend::remove_dead_nodes(lower_graph(g, ra, backend::make_cmvm_builder()));
    std::vector<Tensor> xs = backend::random_inputs(g, ra, 64, 11);
    Tensor all(DType::Float32, {1, static_cast<int64_t>(codes.size())});
    for (size_t j = 0; j < codes.size(); ++j)
      all[static_cast<int64_t>(j)] = std::ldexp(double(codes[j]), -4);
    backend::check_netlist(net, g, ra, {all});
    backend::check_netlist(net, g, ra, xs);
  }
  CHECK(checked == 3 * 255);
}

TEST_CASE("table ops: Log refuses a negative input range and a wrapped -infinity") {
  const TableCase c{"Log", 13, [](double x) { return std::log(x); }};
  auto error = [&](FixedFormat in, const char *ovf) {
    try {
      Graph g = table_model(c, 2, in, {1, 3, 8}, "RND", ovf);
      RangeAnalysis ra = analyze_ranges(g);
      run_codes(g, ra, {1, 2}, in.f);
    } catch (const UserError &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error({1, 3, 4}, "SAT").find("negative value") != std::string::npos);
  CHECK(error({0, 3, 4}, "WRAP").find("saturating quantizer") != std::string::npos);
  CHECK(error({0, 3, 4}, "SAT").empty());
}
