// Runs ONNX backend node tests (model.onnx + test_data_set_*/{input,output}_N.pb) through
// the importer and the float evaluator, then, where the graph has a fixed-point form, through
// 8-bit uniform quantization, the integer emulator and the netlist.
//
//   hgqc_node_test DIR          one test: exit 0 pass, 1 fail (float or fixed point), 77 when
//                               hgqc does not claim the op/attributes/types (import refuses)
//   hgqc_node_test --markdown ROOT
//                               prints docs/onnx-node-tests.md for every test under ROOT
#include "backend/emit.h"
#include "fixed_compare.h"
#include "frontend/onnx_import.h"
#include "ir/eval.h"
#include "ir/passes/passes.h"
#include "qat/ptq.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>

namespace fs = std::filesystem;
using namespace hgqc;

namespace {
constexpr double kRtol = 1e-4;     // relative tolerance of the acceptance criterion
constexpr double kAtol = 1e-6;     // absolute floor for values near zero (float32 noise)
constexpr int kBits = 8;           // hgqc quantize --bits 8,8
constexpr int kRandomVectors = 64; // random netlist check vectors besides the test's inputs

std::vector<fs::path> numbered(const fs::path &dir, const std::string &prefix) {
  std::vector<fs::path> r;
  for (int i = 0;; ++i) {
    fs::path p = dir / (prefix + "_" + std::to_string(i) + ".pb");
    if (!fs::exists(p))
      return r;
    r.push_back(p);
  }
}

// The importer's verdict in a few words for the docs.
std::string short_reason(const UserError &e) {
  std::string m = e.bare_message();
  const std::string unsup = "unsupported op '";
  if (m.rfind(unsup, 0) == 0)
    return "op " + m.substr(unsup.size(), m.find('\'', unsup.size()) - unsup.size()) +
           " not supported";
  auto loc = e.location();
  return (loc.op_type.empty() ? "" : loc.op_type + ": ") + m;
}

enum class Verdict { Pass, Fail, Skip };

/// One test_data_set_* directory.
struct DataSet {
  std::string name;
  std::vector<Tensor> in, ref;
};

std::vector<DataSet> data_sets(const fs::path &dir) {
  std::vector<DataSet> r;
  for (const auto &entry : fs::directory_iterator(dir)) {
    if (!entry.is_directory() || entry.path().filename().string().rfind("test_data_set_", 0) != 0)
      continue;
    DataSet d{entry.path().filename().string(), {}, {}};
    for (const auto &p : numbered(entry.path(), "input"))
      d.in.push_back(read_tensor_pb(p.string()));
    for (const auto &p : numbered(entry.path(), "output"))
      d.ref.push_back(read_tensor_pb(p.string()));
    r.push_back(std::move(d));
  }
  std::sort(r.begin(), r.end(), [](const DataSet &a, const DataSet &b) { return a.name < b.name; });
  return r;
}

// The documented error of an average over a count that is not a power of two
// (docs/fixed-point.md, Averages): below half the spacing 2^-F / n of exact means, F the
// fractional bits of the sum, so below 2^-(F+1) for any n. Nothing rounds it away when the
// average is a graph output: the tolerance for those outputs (0 when there are none).
double average_atol(const Graph &g, const RangeAnalysis &ra) {
  double atol = 0;
  for (const Node &n : g.nodes) {
    if (n.op != OpKind::AveragePool && n.op != OpKind::GlobalAveragePool &&
        n.op != OpKind::ReduceMean && n.op != OpKind::Mean)
      continue;
    if (std::find(g.outputs.begin(), g.outputs.end(), n.outputs[0]) == g.outputs.end())
      continue;
    int f = std::numeric_limits<int>::max();
    for (size_t j = 0; j < (n.op == OpKind::Mean ? n.inputs.size() : 1); ++j)
      for (const Interval &iv : ra.ranges[n.inputs[j]]->el)
        f = std::min(f, iv.f);
    atol = std::max(atol, std::ldexp(1.0, -(f + 1)));
  }
  return atol;
}

/// The fixed-point verdict of a test that passes in float.
enum class Fixed { Checked, FloatOnly, Fail };

// Quantizes `g` as `hgqc quantize --bits 8,8` does, calibrated on the first data set, and
// checks the emulator against the float evaluation of the quantized graph and the netlist
// against the emulator on every data set plus random vectors. FloatOnly (with the reason)
// when the graph has no fixed-point form.
Fixed run_fixed(Graph g, const std::vector<DataSet> &sets, std::string &detail) {
  for (ValueId v : g.inputs)
    if (!is_float(g.values[v].type.dtype)) {
      detail = "input '" + g.values[v].name + "' is " + dtype_name(g.values[v].type.dtype);
      return Fixed::FloatOnly;
    }
  if (g.inputs.empty()) {
    detail = "no graph input";
    return Fixed::FloatOnly;
  }
  RangeAnalysis ra;
  try {
    PtqOptions p;
    p.weight_bits = p.act_bits = kBits;
    quantize_uniform(g, sets.at(0).in, p);
    ToFixedOptions tf;
    tf.drop_output_softmax = false; // the outputs keep their meaning
    to_fixed(g, tf);
    ra = analyze_ranges(g);
  } catch (const UserError &e) {
    detail = short_reason(e);
    return Fixed::FloatOnly;
  }
  if (int w = test::max_fixed_width(ra); w > 53) {
    detail = "a value is " + std::to_string(w) + " bits wide (the float evaluator is exact to 53)";
    return Fixed::FloatOnly;
  }
  const double atol = average_atol(g, ra);
  for (const DataSet &d : sets) {
    test::FixedVsFloat c;
    try {
      c = test::fixed_vs_float(g, ra, d.in, 0, atol);
    } catch (const UserError &e) { // refused only once the shapes are known
      detail = "emulator: " + short_reason(e);
      return Fixed::FloatOnly;
    }
    for (size_t o = 0; o < c.diff.size(); ++o)
      if (!c.diff[o].same_shape || c.diff[o].mismatches) {
        detail = d.name + " output " + std::to_string(o) + ": emulator and float evaluation of " +
                 "the quantized graph differ in " + std::to_string(c.diff[o].mismatches) +
                 " elements, max abs " + std::to_string(c.diff[o].max_abs);
        return Fixed::Fail;
      }
  }
  backend::EmitOptions eo;
  eo.check_vectors = kRandomVectors;
  backend::EmittedDesign design;
  try {
    design = backend::emit_design(g, ra, eo);
  } catch (const UserError &e) {
    detail = "emulator checked; no netlist: " + short_reason(e);
    return Fixed::FloatOnly;
  }
  for (const DataSet &d : sets)
    backend::check_netlist(design.net, g, ra, d.in);
  return Fixed::Checked;
}

Verdict run_one(const fs::path &dir, std::string &detail, Fixed &fixed, std::string &fixed_detail) {
  Graph g;
  try {
    g = import_onnx((dir / "model.onnx").string());
    normalize(g);
  } catch (const UserError &e) {
    detail = short_reason(e);
    return Verdict::Skip;
  }
  std::vector<DataSet> sets = data_sets(dir);
  for (const DataSet &set : sets) {
    const std::vector<Tensor> &in = set.in, &ref = set.ref;
    std::vector<Tensor> out;
    try {
      out = evaluate(g, in);
    } catch (const UserError &e) {
      detail = set.name + ": evaluation failed: " + e.what();
      return Verdict::Fail;
    }
    if (out.size() != ref.size()) {
      detail =
          "expected " + std::to_string(ref.size()) + " outputs, got " + std::to_string(out.size());
      return Verdict::Fail;
    }
    for (size_t i = 0; i < out.size(); ++i) {
      Tensor o = out[i].cast(g.values[g.outputs[i]].type.dtype);
      TensorDiff d = compare(o, ref[i], kRtol, kAtol);
      if (!d.same_shape || d.mismatches) {
        detail =
            set.name + " output " + std::to_string(i) + ": " +
            (d.same_shape
                 ? std::to_string(d.mismatches) + " elements differ, max abs " +
                       std::to_string(d.max_abs) + " max rel " + std::to_string(d.max_rel)
                 : "shape " + dims_str(o.shape()) + " vs reference " + dims_str(ref[i].shape()));
        return Verdict::Fail;
      }
    }
  }
  if (sets.empty()) {
    detail = "no test_data_set_* directory";
    return Verdict::Fail;
  }
  try {
    fixed = run_fixed(g, sets, fixed_detail);
  } catch (const std::exception &e) { // CheckFailed, or an error of the quantized graph
    fixed = Fixed::Fail;
    fixed_detail = e.what();
  }
  if (fixed == Fixed::Fail) {
    detail = "fixed point: " + fixed_detail;
    return Verdict::Fail;
  }
  return Verdict::Pass;
}

// `s` with '|' escaped for a Markdown table cell.
std::string cell(const std::string &s) {
  std::string esc;
  for (char c : s)
    esc += c == '|' ? std::string("\\|") : std::string(1, c);
  return esc;
}

int markdown(const fs::path &root) {
  std::vector<std::string> names;
  for (const auto &e : fs::directory_iterator(root))
    if (e.is_directory() && fs::exists(e.path() / "model.onnx"))
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  std::vector<std::string> pass;
  std::vector<std::pair<std::string, std::string>> skip, fail, float_only;
  int64_t checked = 0;
  for (const auto &n : names) {
    std::string detail, fixed_detail;
    Fixed fixed = Fixed::FloatOnly;
    Verdict v;
    try {
      v = run_one(root / n, detail, fixed, fixed_detail);
    } catch (const std::exception &e) {
      v = Verdict::Fail;
      detail = e.what();
    }
    if (v == Verdict::Pass) {
      pass.push_back(n);
      if (fixed == Fixed::Checked)
        ++checked;
      else
        float_only.emplace_back(n, fixed_detail);
    } else {
      (v == Verdict::Skip ? skip : fail).emplace_back(n, detail);
    }
  }
  std::cout << "# ONNX backend node tests\n\n"
            << "Generated by `scripts/gen_node_test_doc.sh` from Debian's libonnx-testdata "
               "(/usr/share/libonnx-testdata/data/node). A test is *supported* when hgqc's "
               "importer accepts its model (every op, attribute and element type in it is "
               "claimed); each supported test is its own CTest case (`node/<name>`, label "
               "`golden`) and must match the reference outputs within rtol "
            << kRtol << ", atol " << kAtol
            << ". Where its graph has a fixed-point form, a supported test is also quantized "
               "as `hgqc quantize --bits "
            << kBits << "," << kBits
            << "` does (calibrated on the test's inputs); the integer emulator must equal "
               "the float evaluation of the quantized graph bit for bit (an average that is "
               "an output within half a step of its sum's grid, the bound of "
               "docs/fixed-point.md, Averages), and the netlist the emulator "
               "bit for bit on the test's inputs and "
            << kRandomVectors
            << " random vectors. The test `node/claims` fails when this file is out of date, "
               "so the lists below are what the importer does.\n\n"
            << "Supported: " << pass.size() << ", skipped: " << skip.size()
            << ", failing: " << fail.size() << " (of " << names.size() << ").\n\n"
            << "Fixed point: " << checked << " checked, " << float_only.size()
            << " float only (of the " << pass.size() << " supported).\n\n";
  std::cout << "## Supported\n\n";
  for (const auto &n : pass)
    std::cout << "- `" << n << "`\n";
  if (!fail.empty()) {
    std::cout << "\n## Failing (claimed but wrong)\n\n| test | problem |\n|---|---|\n";
    for (const auto &[n, r] : fail)
      std::cout << "| `" << n << "` | " << cell(r) << " |\n";
  }
  std::cout << "\n## Float only (supported, no fixed-point check)\n\n| test | reason |\n"
               "|---|---|\n";
  for (const auto &[n, r] : float_only)
    std::cout << "| `" << n << "` | " << cell(r) << " |\n";
  std::cout << "\n## Skipped\n\n| test | reason |\n|---|---|\n";
  for (const auto &[n, r] : skip)
    std::cout << "| `" << n << "` | " << cell(r) << " |\n";
  return fail.empty() ? 0 : 1;
}
} // namespace

int main(int argc, char **argv) {
  try {
    if (argc == 3 && std::string(argv[1]) == "--markdown")
      return markdown(argv[2]);
    if (argc != 2) {
      std::cerr << "usage: hgqc_node_test DIR | hgqc_node_test --markdown ROOT\n";
      return 2;
    }
    std::string detail, fixed_detail;
    Fixed fixed = Fixed::FloatOnly;
    Verdict v = run_one(argv[1], detail, fixed, fixed_detail);
    if (v == Verdict::Pass) {
      std::cout << (fixed == Fixed::Checked ? "pass (float and fixed point)\n"
                                            : "pass (float only: " + fixed_detail + ")\n");
      return 0;
    }
    std::cout << (v == Verdict::Skip ? "skip: " : "FAIL: ") << detail << "\n";
    return v == Verdict::Skip ? 77 : 1;
  } catch (const std::exception &e) {
    std::cout << "FAIL: " << e.what() << "\n";
    return 1;
  }
}
