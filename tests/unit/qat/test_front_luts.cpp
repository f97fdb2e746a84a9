// hgqc train's front on the LUT estimate: a checkpoint's estimate equals emit-verilog's design
// (same loading, rewrites and LUT model), and the front is ranked on it.
#include "backend/emit.h"
#include "fixed_test_util.h"
#include "frontend/fixed_model.h"
#include "frontend/onnx_export.h"
#include "qat/pareto.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <unistd.h>

using namespace hgqc;
using namespace hgqc::test;

namespace {

// y = FixedQuant(x) with per-tensor format k, i, f and the modes.
void quant(ModelBuilder &b, const std::string &x, const std::string &y, double k, double i,
           double f, const char *rnd, const char *ovf) {
  b.init(y + "_k", {}, {k}, true).init(y + "_i", {}, {i}, true).init(y + "_f", {}, {f}, true);
  auto &n = b.node("FixedQuant", {x, y + "_k", y + "_i", y + "_f"}, {y}, "q_" + y);
  n.set_domain("hgqc");
  attr_s(n, "round_mode", rnd);
  attr_s(n, "overflow_mode", ovf);
}

// A quantized model file: conv-free pool net where the design's rewrite (a quantizer hoisted in
// front of the MaxPool) changes the LUTs, then a dense layer. Removed on destruction.
struct ModelFile {
  std::string path;
  ModelFile() {
    path = (std::filesystem::temp_directory_path() /
            ("hgqc_front_luts_" + std::to_string(::getpid()) + ".onnx"))
               .string();
    ModelBuilder b;
    b.input("xin", {1, 2, 4, 4});
    quant(b, "xin", "x", 1, 6, 4, "TRN", "SAT");
    auto &p = b.node("MaxPool", {"x"}, {"m"}, "pool");
    ModelBuilder::attr_ints(p, "kernel_shape", {2, 2});
    ModelBuilder::attr_ints(p, "strides", {2, 2});
    quant(b, "m", "mq", 1, 2, 1, "RND", "SAT");
    b.node("Flatten", {"mq"}, {"fl"}, "flat");
    std::vector<double> w;
    for (int k = 0; k < 8 * 3; ++k)
      w.push_back(static_cast<double>((k * 7) % 11 - 5) / 4.0);
    b.init("w", {8, 3}, w);
    b.node("MatMul", {"fl", "w"}, {"y"}, "dense");
    quant(b, "y", "yq", 1, 8, 2, "TRN", "SAT");
    b.output("yq");
    export_onnx(b.import(), path);
  }
  ~ModelFile() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

Checkpoint point(int epoch, int64_t correct, double ebops, int64_t luts) {
  Checkpoint c;
  c.file = "/nonexistent/epoch_" + std::to_string(epoch) + ".onnx";
  c.epoch = epoch;
  c.correct = correct;
  c.total = 100;
  c.ebops = ebops;
  c.luts_estimate = luts;
  return c;
}
} // namespace

TEST_CASE("qat: a checkpoint's LUT estimate is emit-verilog's design, per layer and in total") {
  ModelFile m;
  Checkpoint c;
  c.file = m.path;
  estimate_checkpoint_luts(c);
  REQUIRE(c.lut_error.empty());
  // What `hgqc emit-verilog` builds with default options.
  Graph g = read_fixed_design(m.path);
  backend::EmitOptions eo;
  backend::EmittedDesign d = backend::emit_design(g, analyze_ranges(g), eo);
  CHECK(c.luts_estimate == d.total.luts);
  CHECK(c.adders == d.total.adders);
  REQUIRE(c.layers.size() == d.layers.size());
  for (size_t l = 0; l < d.layers.size(); ++l) {
    CHECK(c.layers[l].node == d.layers[l].name);
    CHECK(c.layers[l].luts == d.layers[l].luts);
    CHECK(c.layers[l].adders == d.layers[l].adders);
  }
  // The design's rewrite is counted: the graph without it costs more.
  Graph plain = read_fixed_model(m.path);
  backend::DesignFigures f = backend::estimate_design(plain, analyze_ranges(plain));
  INFO("LUTs with the rewrite " << c.luts_estimate << ", without " << f.total.luts);
  CHECK(c.luts_estimate < f.total.luts);
  // evaluate_checkpoint fills the same estimate beside the scores.
  Dataset val;
  val.n = 3;
  val.x = Tensor(DType::Float64, {3, 2, 4, 4});
  for (int64_t j = 0; j < val.x.numel(); ++j)
    val.x[j] = static_cast<double>(j % 13) / 4.0 - 1.5;
  val.labels = {0, 1, 2};
  Checkpoint e;
  e.file = m.path;
  evaluate_checkpoint(e, val, TaskKind::Classify, 1);
  CHECK(e.luts_estimate == c.luts_estimate);
  CHECK(e.adders == c.adders);
  CHECK(e.layers.size() == c.layers.size());
}

TEST_CASE("qat: the front is ranked on estimated LUTs, on EBOPs without an estimate") {
  std::vector<Checkpoint> front;
  CHECK(update_front(front, point(1, 80, 1000, 500), TaskKind::Classify));
  // More EBOPs but fewer LUTs at the same score: it replaces the first.
  CHECK(update_front(front, point(2, 80, 2000, 400), TaskKind::Classify));
  REQUIRE(front.size() == 1);
  CHECK(front[0].epoch == 2);
  // Fewer EBOPs, more LUTs, same score: dominated.
  CHECK_FALSE(update_front(front, point(3, 80, 500, 450), TaskKind::Classify));
  // Better score at more LUTs: kept, and the front stays sorted by LUTs.
  CHECK(update_front(front, point(4, 90, 100, 700), TaskKind::Classify));
  CHECK(update_front(front, point(5, 85, 3000, 600), TaskKind::Classify));
  REQUIRE(front.size() == 3);
  CHECK(front[0].luts_estimate == 400);
  CHECK(front[1].luts_estimate == 600);
  CHECK(front[2].luts_estimate == 700);
  // Without an estimate (a design that cannot be built), EBOPs decide.
  Checkpoint a = point(6, 80, 100, -1), b = point(7, 80, 200, 10);
  CHECK(covers(a, b, TaskKind::Classify));
  CHECK_FALSE(covers(b, a, TaskKind::Classify));
  std::vector<Checkpoint> mixed;
  update_front(mixed, point(8, 90, 300, 10), TaskKind::Classify);
  update_front(mixed, point(9, 80, 100, -1), TaskKind::Classify);
  REQUIRE(mixed.size() == 2);
  CHECK(mixed[0].epoch == 9);
}

TEST_CASE("qat: front.svg plots the score against estimated LUTs, EBOPs without an estimate") {
  std::vector<Checkpoint> all{point(1, 80, 1000, 500), point(2, 90, 100, 50000)};
  std::string s = front_svg({all[0]}, all, TaskKind::Classify);
  CHECK(s.find("vs estimated LUTs") != std::string::npos);
  CHECK(s.find("estimated LUTs (emit-verilog's LUT model, log scale)") != std::string::npos);
  // LUTs from 500 to 50000: decades 1e2 to 1e5 on the axis (EBOPs would give 1e2 to 1e3).
  CHECK(s.find(">1e5<") != std::string::npos);
  CHECK(s.find("500 LUTs (est.), 1000 EBOPs") != std::string::npos);
  all.push_back(point(3, 70, 10, -1));
  std::string e = front_svg({all[0]}, all, TaskKind::Classify);
  CHECK(e.find("EBOPs (exact, log scale)") != std::string::npos);
  CHECK(e.find(">1e5<") == std::string::npos);
}
