// Golden test driver: writes a model with export_onnx and has the standard ONNX tooling
// (/usr/bin/python3 with the onnx package, when present) load and check the file.
//
// Usage: hgqc_export_check OUT.onnx CHECK_SCRIPT [--model M.onnx [--fixed]] [DOMAIN:OP ...]
// Without --model the built-in FixedQuant model (tests/unit/fixed_graph.h) is written; with
// --fixed the model is normalised and brought to fixed point (to_fixed) first. Exit status:
// 0 pass, 1 failure, 77 skipped (no python3 with onnx, or the model file is absent).
#include "fixed_graph.h"
#include "frontend/onnx_export.h"
#include "frontend/onnx_import.h"
#include "ir/passes/passes.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

using namespace hgqc;

namespace {
constexpr int kSkip = 77;
constexpr const char *kPython = "/usr/bin/python3";

// Single-quoted for /bin/sh.
std::string quote(const std::string &s) {
  std::string r = "'";
  for (char c : s)
    r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

int run(int argc, char **argv) {
  if (argc < 3) {
    std::cerr << "usage: hgqc_export_check OUT.onnx CHECK_SCRIPT [--model M.onnx [--fixed]] "
                 "[DOMAIN:OP ...]\n";
    return 1;
  }
  std::string out = argv[1], script = argv[2], model;
  bool fixed = false;
  std::vector<std::string> expected;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--model" && i + 1 < argc)
      model = argv[++i];
    else if (a == "--fixed")
      fixed = true;
    else
      expected.push_back(a);
  }
  Graph g;
  if (model.empty()) {
    g = test::fixed_mlp_graph();
  } else {
    if (!std::filesystem::exists(model)) {
      std::cout << "skipped: " << model << " is absent\n";
      return kSkip;
    }
    g = import_onnx(model);
    if (fixed) {
      normalize(g);
      to_fixed(g);
    }
  }
  export_onnx(g, out);
  // hgqc reads its own file back to the same bytes.
  if (export_onnx_bytes(import_onnx(out)) != export_onnx_bytes(g)) {
    std::cerr << out << ": re-import and export gives different bytes\n";
    return 1;
  }
  std::string probe = std::string(kPython) + " -c 'import onnx' >/dev/null 2>&1";
  if (std::system(probe.c_str()) != 0) {
    std::cout << "skipped: " << kPython << " cannot import onnx\n";
    return kSkip;
  }
  std::string cmd = std::string(kPython) + " " + quote(script) + " " + quote(out);
  for (const std::string &e : expected) {
    cmd += ' ';
    cmd += quote(e);
  }
  int rc = std::system(cmd.c_str());
  return rc == 0 ? 0 : 1;
}
} // namespace

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
