// One fuzz case in process: a model through every stage of hgqc, a data file through its
// readers, option values through their parser.
#include "fuzz.h"

#include "backend/emit.h"
#include "frontend/data_io.h"
#include "frontend/onnx_import.h"
#include "ir/eval.h"
#include "ir/fixed_eval.h"
#include "ir/fixed_options.h"
#include "ir/passes/passes.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace hgqc::fuzz {

namespace {
constexpr int64_t kMaxEvalElements = 1 << 16; ///< per input, or evaluation is skipped
constexpr size_t kMaxEvalNodes = 4000;        ///< larger graphs are only imported
constexpr size_t kMaxEmitNodes = 300;         ///< larger graphs are not lowered to Verilog
constexpr int64_t kMaxEmitWeights = 20000;    ///< nor graphs with more constant elements

const char *g_stage = ""; // the stage running, for failure messages

// A small deterministic input per graph input (the batch 2, other unknown dims 1), or an
// empty vector when some input is too large or has no usable shape.
std::vector<Tensor> small_inputs(const Graph &g) {
  std::vector<Tensor> r;
  for (ValueId v : g.inputs) {
    Dims d = g.values[v].type.dims;
    int64_t n = 1;
    for (size_t j = 0; j < d.size(); ++j) {
      if (d[j] == kDynamic)
        d[j] = j == 0 ? 2 : 1;
      if (d[j] < 0 || d[j] > kMaxEvalElements || n * d[j] > kMaxEvalElements)
        return {};
      n *= d[j];
    }
    std::vector<double> x(static_cast<size_t>(n));
    DType t = g.values[v].type.dtype;
    for (int64_t j = 0; j < n; ++j)
      x[static_cast<size_t>(j)] =
          is_float(t) ? static_cast<double>((j * 7919) % 97) / 12.0 - 4.0 : (j * 31) % 3;
    r.emplace_back(t, d, std::move(x));
  }
  return r;
}

bool has_quantizer(const Graph &g) {
  for (const Node &n : g.nodes)
    if (n.op == OpKind::Quant || n.op == OpKind::FixedQuant || n.op == OpKind::BipolarQuant)
      return true;
  return false;
}

int64_t constant_elements(const Graph &g) {
  int64_t n = 0;
  for (const Value &v : g.values)
    if (v.constant)
      n += v.constant->numel();
  return n;
}

void oracle(bool ok, const std::string &what) {
  if (!ok)
    throw std::logic_error("oracle: " + what);
}

// import + normalise (inspect), float evaluation (run), the quantized-model checks and
// EBOPs (inspect, to_fixed), the emulator (run --fixed) and emit_design (emit-verilog).
void run_model(const std::string &path, const ToFixedOptions &opt) {
  g_stage = "import";
  Graph g = import_onnx(path);
  g_stage = "normalize";
  normalize(g);
  (void)dump(g);
  if (g.nodes.size() > kMaxEvalNodes)
    return;
  std::vector<Tensor> in = small_inputs(g);
  bool eval = !in.empty() || g.inputs.empty();
  if (eval) {
    g_stage = "evaluate";
    std::vector<Tensor> out = evaluate(g, in);
    oracle(out.size() == g.outputs.size(), "evaluate returned one tensor per output");
  }
  if (!has_quantizer(g))
    return;
  g_stage = "to_fixed";
  to_fixed(g, opt);
  g_stage = "analyze_ranges";
  RangeAnalysis ra = analyze_ranges(g);
  (void)node_ebops(g, ra);
  in = small_inputs(g);
  if (!in.empty() || g.inputs.empty()) {
    g_stage = "evaluate_fixed";
    FixedRun r = evaluate_fixed(g, ra, in);
    oracle(r.outputs.size() == g.outputs.size(), "the emulator returned one tensor per output");
  }
  if (g.nodes.size() > kMaxEmitNodes || constant_elements(g) > kMaxEmitWeights)
    return;
  g_stage = "emit_design";
  backend::EmitOptions e;
  e.check_vectors = 8;
  backend::EmittedDesign d = backend::emit_design(g, ra, e);
  oracle(!d.verilog.empty(), "emit_design wrote Verilog");
  (void)backend::design_report(d, e, path);
}

// The readers of a data file, and a .npy round trip of what they read.
void run_data(const std::string &path, const std::string &ext) {
  g_stage = "read";
  Tensor t;
  if (ext == ".npz") {
    auto all = read_npz(path);
    for (auto &[name, m] : all)
      oracle(m.numel() == dims_numel(m.shape()), "npz member '" + name + "' is consistent");
    if (all.empty())
      return;
    t = read_npz_member(path, all[0].first);
  } else {
    t = read_array(path);
  }
  oracle(t.numel() == dims_numel(t.shape()), "a tensor holds as many values as its shape");
  if (ext == ".csv")
    (void)read_csv(path);
  if (ext == ".idx")
    (void)read_idx(path);
  Tensor back = parse_npy(serialize_npy(t), "round trip");
  oracle(back.shape() == t.shape() && back.dtype() == t.dtype(), ".npy round trip keeps the type");
}

// name=value lines: model (relative to the source dir) and the three --input-* options.
void run_options(const std::string &text, const std::string &source_dir) {
  std::istringstream in(text);
  std::string line, model, format, round, overflow;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    std::string k = line.substr(0, eq), v = eq == std::string::npos ? "" : line.substr(eq + 1);
    if (k == "model")
      model = v;
    else if (k == "input-format")
      format = v;
    else if (k == "input-round")
      round = v;
    else if (k == "input-overflow")
      overflow = v;
  }
  ToFixedOptions opt;
  g_stage = "options";
  finish_fixed_options(opt, format, round, overflow);
  if (!model.empty() && model.find("..") == std::string::npos)
    run_model((std::filesystem::path(source_dir) / model).string(), opt);
}
} // namespace

Outcome run_case(const Case &c, const std::string &path, const std::string &source_dir,
                 std::string &detail) {
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(c.bytes.data(), static_cast<std::streamsize>(c.bytes.size()));
  }
  g_stage = "";
  try {
    if (c.ext == ".onnx")
      run_model(path, {});
    else if (c.ext == ".opts")
      run_options(c.bytes, source_dir);
    else
      run_data(path, c.ext);
    return Outcome::Ran;
  } catch (const UserError &e) {
    detail = e.what();
    return Outcome::UserError;
  } catch (const CheckFailed &e) {
    detail = std::string("CheckFailed (netlist differs from the emulator): ") + e.what();
  } catch (const InternalError &e) {
    detail = std::string("InternalError: ") + e.what();
  } catch (const std::bad_alloc &) {
    detail = "std::bad_alloc";
  } catch (const std::exception &e) {
    detail = std::string("std::exception: ") + e.what();
  } catch (...) {
    detail = "unknown exception";
  }
  detail = std::string("in ") + g_stage + ": " + detail;
  return Outcome::Failure;
}

} // namespace hgqc::fuzz
