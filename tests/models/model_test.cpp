// Imports a model, runs it on a deterministic random batch, and checks the result
// against an expectation; compares with ONNX test data when the model has it.
//
//   hgqc_model_test MODEL ok          must import and run; outputs finite, batch kept
//   hgqc_model_test MODEL error TEXT  must fail with a UserError whose message has TEXT
//   hgqc_model_test --unlisted LIST ROOT
//                                     fails if a .onnx under ROOT is not in LIST
// Exit 0 pass, 1 fail, 77 skipped (model file absent, e.g. no ../shared checkout).
#include "frontend/onnx_import.h"
#include "ir/eval.h"
#include "ir/passes/passes.h"

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
