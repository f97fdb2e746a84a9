// Calibration in passes: a quantizer downstream of a saturated rounded-up maximum is calibrated
// on the saturated value, as the calibrated model computes it.
#include "fixed_test_util.h"
#include "frontend/onnx_export.h"
#include "frontend/onnx_import.h"
#include "ir/passes/passes.h"
#include "qat/calibrate.h"
#include "qat/pareto.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <unistd.h>

using namespace hgqc;
using namespace hgqc::test;

namespace {

// xin [N,1] -> q1 (RND, SAT, f = 0) -> Relu -> q2 (RND, SAT, f = 0) -> y, written to a file.
std::string write_model(const std::string &name) {
  ModelBuilder b;
  b.input("xin", {1, 1});
  quant(b, "xin", "x", {}, {1}, {4}, {0});
  b.node("Relu", {"x"}, {"r"}, "relu");
  quant(b, "r", "y", {}, {1}, {4}, {0});
  b.output("y");
  Graph g = b.import();
  std::string path = (std::filesystem::temp_directory_path() /
                      ("hgqc_unit_" + std::to_string(::getpid()) + "_" + name + ".onnx"))
                         .string();
  export_onnx(g, path);
  return path;
}

// The format of the (scalar or one-element) quantizer named `node` in `file`.
FixedFormat format_of(const std::string &file, const std::string &node) {
  Graph g = import_onnx(file);
  normalize(g);
  for (const Node &n : g.nodes)
    if (n.name == node)
      return broadcast_formats(*g.constant_of(n.inputs[1]), *g.constant_of(n.inputs[2]),
                               *g.constant_of(n.inputs[3]), {1, 1})[0];
  FAIL("no node " << node);
  throw 0;
}

Dataset data(std::vector<double> xs) {
  Dataset d;
  d.n = static_cast<int64_t>(xs.size());
  d.x = Tensor(DType::Float32, {d.n, 1}, xs);
  for (double v : xs)
    d.xf.push_back(static_cast<float>(v));
  return d;
}

} // namespace

TEST_CASE("calibration in passes: behind a saturated rounded-up maximum, the saturated value") {
  // 3.6 rounds up to 4, which would need a third integer bit: q1 saturates it at 3 (fixed<0,2,0>).
  Dataset d = data({0.2, 1.0, 3.6, 2.4});
  std::string one = write_model("one"), two = write_model("two");
  struct Rm {
    std::vector<std::string> p;
    ~Rm() {
      for (auto &s : p)
        std::filesystem::remove(s);
    }
  } rm{{one, two}};
  // One pass: q2 is traced behind the widened q1, sees 4 and keeps three integer bits.
  calibrate_checkpoint(one, d, 1.0, 1);
  CHECK(format_of(one, "q_x") == FixedFormat{0, 2, 0});
  CHECK(format_of(one, "q_y") == FixedFormat{0, 3, 0});
  // In passes: the second traces q2 behind q1 saturating at 3, as the model computes.
  int passes = calibrate_in_passes(two, d, 1.0, 1);
  CHECK(passes == 3); // the second changes q2; the third finds nothing more to change
  CHECK(format_of(two, "q_x") == FixedFormat{0, 2, 0});
  CHECK(format_of(two, "q_y") == FixedFormat{0, 2, 0});
  // The clamps are gone, and the calibrated model overflows nowhere on the data: the model's
  // own outputs are q1's (saturated) values.
  Graph g = import_onnx(two);
  normalize(g);
  CHECK(g.nodes.size() == 3);
  to_fixed(g);
  RangeAnalysis ra = analyze_ranges(g);
  FixedRun run = evaluate_fixed(g, ra, {d.x});
  Tensor y = fixed_to_tensor(run.outputs[0], *ra.ranges[g.outputs[0]]);
  CHECK(y[0] == 0);
  CHECK(y[1] == 1);
  CHECK(y[2] == 3);
  CHECK(y[3] == 2);
  for (size_t ni = 0; ni < g.nodes.size(); ++ni)
    if (g.nodes[ni].name == "q_y")
      CHECK(run.overflows[ni] == 0);
  CHECK(!std::filesystem::exists(two + ".calib.onnx"));
}
