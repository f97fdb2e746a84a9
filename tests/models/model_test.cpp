// Imports a model, runs it on a deterministic random batch, and checks the result
// against an expectation; compares with ONNX test data when the model has it.
//
//   hgqc_model_test MODEL ok          must import and run; outputs finite, batch kept
//   hgqc_model_test MODEL error TEXT  must fail with a UserError whose message has TEXT
//   hgqc_model_test MODEL fixed [SCALE]
//                                     the integer emulator of the model's fixed-point form
//                                     equals the float evaluation of its QONNX semantics on
//                                     1000 random inputs on the input grid (times SCALE)
//   hgqc_model_test --unlisted LIST ROOT
//                                     fails if a .onnx under ROOT is not in LIST
// Exit 0 pass, 1 fail, 77 skipped (model file absent, e.g. no ../shared checkout).
#include "frontend/onnx_import.h"
#include "ir/eval.h"
#include "ir/fixed_eval.h"
#include "ir/passes/passes.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using namespace hgqc;

namespace {
constexpr int64_t kBatch = 3; // differs from every declared batch in the shared models

// Runs ONNX test data sets next to the model (mnist-conv has one); returns false on mismatch.
bool check_test_data(const Graph &g, const fs::path &model) {
  for (const auto &e : fs::directory_iterator(model.parent_path())) {
    if (!e.is_directory() || e.path().filename().string().rfind("test_data_set_", 0) != 0)
      continue;
    std::vector<Tensor> in, ref;
    for (int i = 0; fs::exists(e.path() / ("input_" + std::to_string(i) + ".pb")); ++i)
      in.push_back(read_tensor_pb((e.path() / ("input_" + std::to_string(i) + ".pb")).string()));
    for (int i = 0; fs::exists(e.path() / ("output_" + std::to_string(i) + ".pb")); ++i)
      ref.push_back(read_tensor_pb((e.path() / ("output_" + std::to_string(i) + ".pb")).string()));
    std::vector<Tensor> out = evaluate(g, in);
    for (size_t i = 0; i < ref.size(); ++i) {
      TensorDiff d = compare(out.at(i).cast(DType::Float32), ref[i], 1e-4, 1e-5);
      std::cout << e.path().filename().string() << " output " << i << ": max abs diff " << d.max_abs
                << ", max rel diff " << d.max_rel << "\n";
      if (!d.same_shape || d.mismatches)
        return false;
    }
  }
  return true;
}

int run_model(const fs::path &model, const std::string &expect, const std::string &text) {
  if (!fs::exists(model)) {
    std::cout << "skipped: " << model << " not found (no ../shared checkout?)\n";
    return 77;
  }
  try {
    Graph g = import_onnx(model.string());
    normalize(g);
    std::mt19937 rng(1234);
    std::normal_distribution<double> nd(0.0, 1.0);
    std::vector<Tensor> in;
    for (ValueId v : g.inputs) {
      Dims d = g.values[v].type.dims;
      for (int64_t &x : d)
        if (x == kDynamic)
          x = kBatch;
      Tensor t(g.values[v].type.dtype, d);
      for (double &x : t.data())
        x = round_to_dtype(nd(rng), t.dtype());
      in.push_back(t);
    }
    std::vector<Tensor> out = evaluate(g, in);
    for (size_t i = 0; i < out.size(); ++i) {
      for (double x : out[i].data())
        if (!std::isfinite(x)) {
          std::cout << "FAIL: output " << i << " is not finite\n";
          return 1;
        }
      if (g.values[g.outputs[i]].type.dims.at(0) == kDynamic && out[i].shape()[0] != kBatch) {
        std::cout << "FAIL: output " << i << " has shape " << dims_str(out[i].shape())
                  << ", expected batch " << kBatch << "\n";
        return 1;
      }
      std::cout << "output " << g.values[g.outputs[i]].name << ": " << dims_str(out[i].shape())
                << "\n";
    }
    if (!check_test_data(g, model)) {
      std::cout << "FAIL: differs from the model's test data\n";
      return 1;
    }
    if (expect != "ok") {
      std::cout << "FAIL: expected an error containing '" << text << "', but the model ran\n";
      return 1;
    }
    std::cout << "pass: imports and runs with batch " << kBatch << "\n";
    return 0;
  } catch (const UserError &e) {
    std::cout << "error: " << e.what() << "\n";
    if (expect == "error" && std::string(e.what()).find(text) != std::string::npos) {
      std::cout << "pass: clear error as expected\n";
      return 0;
    }
    std::cout << "FAIL: unexpected error\n";
    return 1;
  }
}

// The emulator of to_fixed(model) against the float evaluator of the model itself (QONNX
// Quant semantics in double precision), with only the float-level rewrites of to_fixed
// applied to it: the output Softmax removed and BatchNormalization / constant scalings folded
// into float32 coefficients (fold_affine). The emulator must equal that bit for bit; the
// effect of fold_affine itself is reported against the untouched model (same argmax,
// relative difference below 1e-5).
int run_fixed(const fs::path &model, double scale) {
  if (!fs::exists(model)) {
    std::cout << "skipped: " << model << " not found (no ../shared checkout?)\n";
    return 77;
  }
  Graph orig = import_onnx(model.string());
  normalize(orig);
  drop_output_softmax(orig, nullptr);
  Graph ref = orig;
  fold_affine(ref, nullptr);
  infer_shapes(ref);
  Graph fx = import_onnx(model.string());
  normalize(fx);
  ToFixedOptions opt;
  for (const std::string &n : to_fixed(fx, opt))
    std::cout << "note: " << n << "\n";
  RangeAnalysis ra = analyze_ranges(fx);
  // Inputs on the grid of the added input quantizer, inside its range before scaling.
  std::mt19937 rng(99);
  std::normal_distribution<double> nd(0.0, 2.0);
  const FixedFormat &f = opt.input.format;
  double lim = std::ldexp(1.0, f.i) - std::ldexp(1.0, -f.f);
  std::vector<Tensor> in;
  for (ValueId v : ref.inputs) {
    Dims d = ref.values[v].type.dims;
    d[0] = 1000;
    Tensor t(DType::Float64, d);
    for (double &x : t.data())
      x = scale * std::ldexp(std::round(std::ldexp(std::clamp(nd(rng), -lim, lim), f.f)), -f.f);
    in.push_back(t);
  }
  std::vector<Tensor> a = evaluate(ref, in), o = evaluate(orig, in);
  FixedRun r = evaluate_fixed(fx, ra, in);
  int64_t overflows = 0;
  for (int64_t v : r.overflows)
    overflows += v;
  bool ok = true;
  for (size_t i = 0; i < a.size(); ++i) {
    Tensor b = fixed_to_tensor(r.outputs[i], *ra.ranges[fx.outputs[i]]);
    TensorDiff d = compare(b, a[i], 0, 0);
    TensorDiff dof = compare(a[i], o[i], 1e-5, 1e-6);
    int64_t argmax_diff = 0;
    if (b.rank() == 2)
      for (int64_t row = 0; row < b.shape()[0]; ++row) {
        int64_t n = b.shape()[1], ia = 0, ib = 0;
        for (int64_t c = 1; c < n; ++c) {
          ia = o[i][row * n + c] > o[i][row * n + ia] ? c : ia;
          ib = b[row * n + c] > b[row * n + ib] ? c : ib;
        }
        argmax_diff += ia != ib;
      }
    std::cout << "output " << i << " " << dims_str(b.shape()) << ": " << d.mismatches
              << " elements differ from the float QONNX semantics (" << overflows
              << " quantizer overflows); the float32 folding of constant scalings changes "
              << "outputs by at most " << dof.max_abs << " (relative " << dof.max_rel << "), "
              << argmax_diff << " argmax changes\n";
    ok &= d.same_shape && d.mismatches == 0 && dof.mismatches == 0 && argmax_diff == 0;
  }
  std::cout << (ok ? "pass: emulator equals the float QONNX semantics bit for bit\n"
                   : "FAIL: emulator differs\n");
  return ok ? 0 : 1;
}

int unlisted(const fs::path &list, const fs::path &root) {
  if (!fs::exists(root)) {
    std::cout << "skipped: " << root << " not found\n";
    return 77;
  }
  std::set<std::string> listed;
  std::ifstream f(list);
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream ss(line);
    std::string name;
    if (ss >> name && name[0] != '#')
      listed.insert(name);
  }
  int missing = 0;
  for (const auto &e : fs::recursive_directory_iterator(root))
    if (e.path().extension() == ".onnx") {
      std::string rel = fs::relative(e.path(), root).string();
      if (!listed.count(rel)) {
        std::cout << "FAIL: " << rel << " is not listed in " << list << "\n";
        ++missing;
      }
    }
  return missing ? 1 : 0;
}
} // namespace

int main(int argc, char **argv) {
  try {
    std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() == 3 && a[0] == "--unlisted")
      return unlisted(a[1], a[2]);
    if (a.size() == 2 && a[1] == "ok")
      return run_model(a[0], "ok", "");
    if ((a.size() == 2 || a.size() == 3) && a[1] == "fixed")
      return run_fixed(a[0], a.size() == 3 ? std::stod(a[2]) : 1.0);
    if (a.size() >= 3 && a[1] == "error") {
      std::string text = a[2];
      for (size_t i = 3; i < a.size(); ++i)
        text += " " + a[i];
      return run_model(a[0], "error", text);
    }
    std::cerr << "usage: hgqc_model_test MODEL ok | MODEL error TEXT | --unlisted LIST ROOT\n";
    return 2;
  } catch (const std::exception &e) {
    std::cout << "FAIL: " << e.what() << "\n";
    return 1;
  }
}
