// Unit tests of the ONNX writer: byte-stable round trips through import on every model at
// hand (raw, normalised and in fixed point), each op's ONNX form, and exactness errors.
#include "fixed_graph.h"
#include "frontend/data_io.h"
#include "frontend/onnx_export.h"
#include "ir/eval.h"
#include "ir/op.h"
#include "ir/passes/passes.h"
#include "onnx_builder.h"

#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

using namespace hgqc;
using hgqc::test::ModelBuilder;
namespace fs = std::filesystem;

namespace {

fs::path testdata() { return fs::path(HGQC_TESTDATA_DIR); }

// Imports ONNX bytes through a temporary file.
Graph import_bytes(const std::string &bytes) {
  static int counter = 0;
  fs::path p = fs::temp_directory_path() / ("hgqc_export_" + std::to_string(::getpid()) + "_" +
                                            std::to_string(counter++) + ".onnx");
  write_file_atomic(p.string(), bytes);
  struct Rm {
    fs::path p;
    ~Rm() { fs::remove(p); }
  } rm{p};
  return import_onnx(p.string());
}

onnx::ModelProto parse(const std::string &bytes) {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(bytes));
  return m;
}

void attr_float(onnx::NodeProto &n, const std::string &k, float v) {
  auto *a = n.add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

bool same_tensor(const Tensor &a, const Tensor &b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::equal(a.data().begin(), a.data().end(), b.data().begin(), b.data().end(),
                    [](double x, double y) {
                      return std::memcmp(&x, &y, sizeof x) == 0 || (std::isnan(x) && std::isnan(y));
                    });
}

// Text of the canonical graph: node names, ops, attributes, operands by name with their
// types and constant values. Equal texts mean equal canonical graphs.
std::string canonical(const Graph &g) {
  std::string s;
  auto val = [&](ValueId v) {
    if (v == kNoValue)
      return std::string("-");
    const Value &x = g.values[v];
    std::string r = x.name + ":" + dtype_name(x.type.dtype) + dims_str(x.type.dims);
    if (x.constant) {
      r += "=";
      for (double d : x.constant->data()) {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%a,", d); // exact
        r += buf;
      }
    }
    return r;
  };
  for (ValueId v : g.inputs)
    s += "in " + val(v) + "\n";
  for (const Node &n : g.nodes) {
    s += n.name + " " + std::string(op_def(n.op).name) + "(";
    for (ValueId v : n.inputs)
      s += val(v) + " ";
    s += ") ->";
    for (ValueId v : n.outputs) {
      s += ' ';
      s += val(v);
    }
    for (const auto &[k, a] : n.attrs) {
      s += ' ';
      s += k + "=" + attr_str(a);
    }
    s += "\n";
  }
  for (ValueId v : g.outputs)
    s += "out " + val(v) + "\n";
  return s;
}

// Deterministic inputs: batch 3 where the batch is free, values in [-2, 2].
std::vector<Tensor> inputs_for(const Graph &g) {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<double> u(-2, 2);
  std::vector<Tensor> r;
  for (ValueId v : g.inputs) {
    Dims d = g.values[v].type.dims;
    for (int64_t &x : d)
      x = x == kDynamic ? 3 : x;
    Tensor t(g.values[v].type.dtype, d);
    for (double &x : t.data())
      x = round_to_dtype(is_float(t.dtype()) ? u(rng) : std::floor(u(rng) + 2), t.dtype());
    r.push_back(std::move(t));
  }
  return r;
}

// Both graphs give bit-identical outputs, or both fail.
void check_same_results(const Graph &a, const Graph &b) {
  std::vector<Tensor> in = inputs_for(a);
  std::vector<Tensor> ra, rb;
  bool fa = false, fb = false;
  try {
    ra = evaluate(a, in);
  } catch (const UserError &) {
    fa = true;
  }
  try {
    rb = evaluate(b, in);
  } catch (const UserError &) {
    fb = true;
  }
  CHECK(fa == fb);
  REQUIRE(ra.size() == rb.size());
  for (size_t i = 0; i < ra.size(); ++i)
    CHECK(same_tensor(ra[i], rb[i]));
}

// export(g1) == export(import(export(g1))), the second import reads back the first's
// canonical graph unchanged, and g1 and its re-import compute the same. Returns g2.
Graph check_round_trip(const Graph &g1, const std::string &what) {
  INFO(what);
  std::string b1 = export_onnx_bytes(g1);
  CHECK(export_onnx_bytes(g1) == b1);
  Graph g2 = import_bytes(b1);
  std::string b2 = export_onnx_bytes(g2);
  CHECK(b1.size() == b2.size());
  CHECK(b1 == b2);
  Graph g3 = import_bytes(b2);
  CHECK(canonical(g2) == canonical(g3));
  check_same_results(g1, g2);
  return g2;
}

// Rounds every constant to its element type (what a pass computing in double leaves
// unrounded); returns how many values changed.
int round_constants(Graph &g) {
  int changed = 0;
  for (Value &v : g.values)
    if (v.constant) {
      Tensor r = v.constant->cast(v.constant->dtype());
      if (!same_tensor(r, *v.constant)) {
        ++changed;
        v.constant = std::move(r);
      }
    }
  return changed;
}

struct Counts {
  int models = 0, raw = 0, normalized = 0, fixed = 0, rounded = 0;
};

// Round trips of a model file: as imported, normalised, and in fixed point (where to_fixed
// accepts it). A normalised graph whose folded constants hold values that their float32
// type cannot represent is refused with an error naming the value; it is then checked
// with those constants rounded.
void round_trip_file(const fs::path &p, Counts &c) {
  Graph g;
  try {
    g = import_onnx(p.string());
  } catch (const UserError &) {
    return; // not importable: nothing to write
  }
  ++c.models;
  check_round_trip(g, p.string() + " (raw)");
  ++c.raw;
  for (int fixed = 0; fixed < 2; ++fixed) {
    Graph n = g;
    std::string what = p.string() + (fixed ? " (fixed)" : " (normalized)");
    try {
      normalize(n);
      if (fixed)
        to_fixed(n);
    } catch (const UserError &) {
      continue;
    }
    try {
      (void)export_onnx_bytes(n);
    } catch (const UserError &e) {
      INFO(what << ": " << e.what());
      CHECK(std::string(e.what()).find("cannot represent exactly") != std::string::npos);
      CHECK(round_constants(n) > 0);
      ++c.rounded;
    }
    check_round_trip(n, what);
    ++(fixed ? c.fixed : c.normalized);
  }
}

std::vector<fs::path> onnx_files(const fs::path &dir, bool recursive) {
  std::vector<fs::path> r;
  if (!fs::is_directory(dir))
    return r;
  auto add = [&](const fs::directory_entry &e) {
    if (e.is_regular_file() && e.path().extension() == ".onnx")
      r.push_back(e.path());
  };
  if (recursive)
    for (const auto &e : fs::recursive_directory_iterator(dir))
      add(e);
  else
    for (const auto &e : fs::directory_iterator(dir))
      add(e);
  std::sort(r.begin(), r.end());
  return r;
}

const Node &only_node(const Graph &g, OpKind k) {
  const Node *r = nullptr;
  for (const Node &n : g.nodes)
    if (n.op == k) {
      REQUIRE(r == nullptr);
      r = &n;
    }
  REQUIRE(r != nullptr);
  return *r;
}

} // namespace

TEST_CASE("committed models round-trip byte for byte, raw, normalised and in fixed point") {
  Counts c;
  for (const char *sub : {"torch", "qonnx", "misc"})
    for (const fs::path &p : onnx_files(testdata() / sub, false))
      round_trip_file(p, c);
  MESSAGE("testdata: " << c.models << " models; round trips: " << c.raw << " raw, " << c.normalized
                       << " normalized, " << c.fixed << " fixed point (" << c.rounded
                       << " after rounding folded constants)");
  CHECK(c.models >= 6);
  CHECK(c.normalized == c.models);
}

TEST_CASE("the models in ../shared/models round-trip byte for byte (skipped when absent)") {
  fs::path dir = testdata() / ".." / ".." / "shared" / "models";
  std::vector<fs::path> files = onnx_files(dir, true);
  if (files.empty()) {
    MESSAGE("no models under " << dir.string() << ": skipped");
    return;
  }
  Counts c;
  for (const fs::path &p : files)
    round_trip_file(p, c);
  MESSAGE("shared: " << files.size() << " files, " << c.models << " import; round trips: " << c.raw
                     << " raw, " << c.normalized << " normalized, " << c.fixed << " fixed point ("
                     << c.rounded << " after rounding folded constants)");
  CHECK(c.models > 0);
  CHECK(c.fixed > 0);
}

TEST_CASE("a FixedQuant model built in memory is written in domain hgqc and reads back") {
  Graph g = test::fixed_mlp_graph();
  std::string bytes = export_onnx_bytes(g);
  onnx::ModelProto m = parse(bytes);
  CHECK(m.ir_version() == kExportIrVersion);
  CHECK(m.producer_name() == "hgqc");
  CHECK(!m.producer_version().empty());
  REQUIRE(m.opset_import_size() == 2);
  CHECK(m.opset_import(0).domain() == "");
  CHECK(m.opset_import(0).version() == 13);
  CHECK(m.opset_import(1).domain() == "hgqc");
  CHECK(m.opset_import(1).version() == 1);
  const onnx::GraphProto &gp = m.graph();
  CHECK(gp.name() == "fixed_mlp");
  REQUIRE(gp.input_size() == 1);
  const auto &dims = gp.input(0).type().tensor_type().shape().dim();
  REQUIRE(dims.size() == 2);
  CHECK(dims[0].dim_param() == "N");
  CHECK(dims[1].dim_value() == 4);
  int fixedquant = 0;
  for (const auto &n : gp.node())
    if (n.op_type() == "FixedQuant") {
      ++fixedquant;
      CHECK(n.domain() == "hgqc");
      REQUIRE(n.attribute_size() == 2);
      CHECK(n.attribute(0).name() == "overflow_mode"); // attributes in name order
      CHECK(n.attribute(1).name() == "round_mode");
    }
  CHECK(fixedquant == 4);
  // Initializers keep their names and element types, in the order nodes first read them.
  std::vector<std::string> names;
  for (const auto &t : gp.initializer())
    names.push_back(t.name());
  CHECK(names == std::vector<std::string>{"x_k", "x_i", "x_f", "w", "w_k", "w_i", "w_f", "b", "b_k",
                                          "b_i", "b_f", "o_k", "o_i", "o_f"});
  CHECK(gp.initializer(0).data_type() == onnx::TensorProto::INT64);
  CHECK(gp.initializer(4).data_type() == onnx::TensorProto::INT32);
  CHECK(gp.initializer(8).data_type() == onnx::TensorProto::UINT8);
  CHECK(gp.initializer(3).data_type() == onnx::TensorProto::FLOAT);

  Graph g2 = check_round_trip(g, "fixed_mlp");
  CHECK(canonical(g2) == canonical(g));
}

TEST_CASE("the written file is the bytes, written atomically: errors name the path") {
  Graph g = test::fixed_mlp_graph();
  fs::path dir = fs::temp_directory_path() / ("hgqc_export_dir_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path p = dir / "m.onnx";
  export_onnx(g, p.string());
  CHECK(read_file(p.string()) == export_onnx_bytes(g));
  std::vector<fs::path> left;
  for (const auto &e : fs::directory_iterator(dir))
    left.push_back(e.path());
  CHECK(left.size() == 1); // no temporary file left behind
  fs::remove_all(dir);
  std::string bad = (dir / "no" / "such" / "dir" / "m.onnx").string();
  CHECK_THROWS_WITH_AS(export_onnx(g, bad), doctest::Contains(bad.c_str()), UserError);
  CHECK(!fs::exists(bad));
}

TEST_CASE("values that their element type cannot hold exactly are refused by name") {
  SUBCASE("a float32 constant holding a double") {
    Graph g = test::fixed_mlp_graph();
    for (Value &v : g.values)
      if (v.name == "w")
        (*v.constant)[5] = 0.1;
    CHECK_THROWS_WITH_AS(export_onnx_bytes(g),
                         doctest::Contains("constant 'w' holds 0.10000000000000001 at element 5"),
                         UserError);
  }
  SUBCASE("an int64 constant holding a fraction") {
    Graph g = test::fixed_mlp_graph();
    for (Value &v : g.values)
      if (v.name == "x_i")
        (*v.constant)[1] = 1.5;
    CHECK_THROWS_WITH_AS(export_onnx_bytes(g), doctest::Contains("constant 'x_i' holds 1.5"),
                         UserError);
  }
  SUBCASE("a uint8 constant out of range") {
    Graph g = test::fixed_mlp_graph();
    for (Value &v : g.values)
      if (v.name == "b_i")
        (*v.constant)[0] = 256;
    CHECK_THROWS_WITH_AS(export_onnx_bytes(g), doctest::Contains("constant 'b_i' holds 256"),
                         UserError);
  }
  SUBCASE("a float attribute that float32 cannot hold") {
    Graph g = test::fixed_mlp_graph();
    for (Node &n : g.nodes)
      if (n.name == "fc")
        n.attrs["alpha"] = 0.1;
    CHECK_THROWS_WITH_AS(export_onnx_bytes(g),
                         doctest::Contains("node 'fc' (Gemm): attribute 'alpha' holds 0.1"),
                         UserError);
  }
}

TEST_CASE("Squeeze and Unsqueeze axes become constant inputs (opset 13)") {
  ModelBuilder b(11);
  b.input("x", {1, 3});
  ModelBuilder::attr_ints(b.node("Unsqueeze", {"x"}, {"u"}, "unsq"), "axes", {-1, 1});
  ModelBuilder::attr_ints(b.node("Squeeze", {"u"}, {"y"}, "sq"), "axes", {3, 1});
  b.output("y");
  Graph g = b.import();
  Graph g2 = check_round_trip(g, "squeeze/unsqueeze");
  CHECK(canonical(g2) == canonical(g));
  onnx::ModelProto m = parse(export_onnx_bytes(g));
  REQUIRE(m.graph().node_size() == 2);
  for (const auto &n : m.graph().node()) {
    CHECK(n.attribute_size() == 0);
    REQUIRE(n.input_size() == 2);
    CHECK(n.input(1) == n.name() + "_axes");
  }
  CHECK(attr_ints(only_node(g2, OpKind::Unsqueeze), "axes", {}) == std::vector<int64_t>{1, 3});
}

TEST_CASE("Clip bounds become inputs: infinite ones are left out") {
  SUBCASE("attributes (opset 6)") {
    ModelBuilder b(6);
    b.input("x", {1, 4});
    attr_float(b.node("Clip", {"x"}, {"y"}, "clip"), "max", 0.5f);
    b.output("y");
    Graph g = b.import();
    Graph g2 = check_round_trip(g, "clip opset 6");
    CHECK(canonical(g2) == canonical(g));
    onnx::ModelProto m = parse(export_onnx_bytes(g));
    REQUIRE(m.graph().node(0).input_size() == 3);
    CHECK(m.graph().node(0).input(1) == "");
    CHECK(m.graph().node(0).input(2) == "clip_max");
  }
  SUBCASE("a bound computed at run time stays an input") {
    ModelBuilder b(13);
    b.input("x", {1, 4}).input("lo", {});
    b.init("hi", {}, {2.0});
    b.node("Clip", {"x", "lo", "hi"}, {"y"}, "clip");
    b.output("y");
    Graph g = b.import();
    Graph g2 = check_round_trip(g, "clip dynamic");
    CHECK(canonical(g2) == canonical(g));
  }
}

TEST_CASE("Softmax before opset 13 is written as one Softmax, or as its 2-D view") {
  SUBCASE("axis last: the same at opset 13") {
    ModelBuilder b(11);
    b.input("x", {1, 5});
    ModelBuilder::attr_int(b.node("Softmax", {"x"}, {"y"}, "sm"), "axis", 1);
    b.output("y");
    Graph g = b.import();
    Graph g2 = check_round_trip(g, "softmax last axis");
    CHECK(g2.nodes.size() == 1);
    CHECK(attr_int(g2.nodes[0], "coerce_2d", 1) == 0);
  }
  for (int64_t axis : {0, 1}) {
    CAPTURE(axis);
    ModelBuilder b(11);
    b.input("x", {1, 3, 4});
    ModelBuilder::attr_int(b.node("Softmax", {"x"}, {"y"}, "sm"), "axis", axis);
    b.output("y");
    Graph g = b.import();
    Graph g2 = check_round_trip(g, "softmax coerced");
    std::vector<OpKind> ops;
    for (const Node &n : g2.nodes)
      ops.push_back(n.op);
    CHECK(ops == std::vector<OpKind>{axis == 0 ? OpKind::Reshape : OpKind::Flatten, OpKind::Softmax,
                                     OpKind::Reshape});
    CHECK(g2.values[g2.outputs[0]].type.dims == Dims{kDynamic, 3, 4});
  }
}

TEST_CASE("Shape with start/end (opset 15) is written as Shape and Gather") {
  ModelBuilder b(15);
  b.input("x", {1, 3, 4});
  ModelBuilder::attr_int(b.node("Shape", {"x"}, {"y"}, "shp"), "start", 1);
  b.output("y");
  Graph g = b.import();
  Graph g2 = check_round_trip(g, "shape slice");
  CHECK(g2.nodes.size() == 2);
  CHECK(evaluate(g2, {test::ramp({2, 3, 4})})[0].as_int64() == std::vector<int64_t>{3, 4});
}

TEST_CASE("Reshape: allowzero, and targets that import frees from the batch") {
  SUBCASE("a target copying the batch reads back as written") {
    ModelBuilder b(13);
    b.input("x", {1, 3, 4});
    b.init("t", {2}, {0, 12}, true);
    b.node("Reshape", {"x", "t"}, {"y"}, "rs");
    b.output("y");
    Graph g = b.import(); // declared batch 1: [0, 12] is kept as it is
    Graph g2 = check_round_trip(g, "reshape copy batch");
    CHECK(g2.values[g2.nodes[0].inputs[1]].constant->as_int64() == std::vector<int64_t>{-1, 12});
  }
  SUBCASE("allowzero = 1 without zeros is the same as 0") {
    ModelBuilder b(14);
    b.input("x", {1, 3, 4});
    b.init("t", {2}, {-1, 4}, true);
    ModelBuilder::attr_int(b.node("Reshape", {"x", "t"}, {"y"}, "rs"), "allowzero", 1);
    b.output("y");
    Graph g = b.import();
    Graph g2 = check_round_trip(g, "reshape allowzero");
    CHECK(attr_int(g2.nodes[0], "allowzero", 1) == 0);
  }
  SUBCASE("allowzero = 1 with a zero cannot be written") {
    ModelBuilder b(14);
    b.input("x", {1, 0, 4});
    b.init("t", {3}, {-1, 0, 2}, true);
    ModelBuilder::attr_int(b.node("Reshape", {"x", "t"}, {"y"}, "rs"), "allowzero", 1);
    b.output("y");
    Graph g = b.import();
    CHECK_THROWS_WITH_AS(export_onnx_bytes(g),
                         doctest::Contains("node 'rs' (Reshape): allowzero = 1"), UserError);
  }
}

TEST_CASE("window ops: no pads under auto_pad, no dilations on AveragePool") {
  ModelBuilder b(11);
  b.input("x", {1, 2, 5, 5});
  auto &p = b.node("AveragePool", {"x"}, {"a"}, "avg");
  ModelBuilder::attr_ints(p, "kernel_shape", {2, 2});
  auto *ap = p.add_attribute();
  ap->set_name("auto_pad");
  ap->set_type(onnx::AttributeProto::STRING);
  ap->set_s("SAME_UPPER");
  auto &mp = b.node("MaxPool", {"a"}, {"y"}, "max");
  ModelBuilder::attr_ints(mp, "kernel_shape", {3, 3});
  ModelBuilder::attr_ints(mp, "pads", {1, 1, 1, 1});
  ModelBuilder::attr_ints(mp, "dilations", {1, 2});
  b.output("y");
  Graph g = b.import();
  Graph g2 = check_round_trip(g, "pools");
  CHECK(canonical(g2) == canonical(g));
  onnx::ModelProto m = parse(export_onnx_bytes(g));
  std::vector<std::string> avg, max;
  for (const auto &a : m.graph().node(0).attribute())
    avg.push_back(a.name());
  for (const auto &a : m.graph().node(1).attribute())
    max.push_back(a.name());
  CHECK(avg == std::vector<std::string>{"auto_pad", "ceil_mode", "count_include_pad",
                                        "kernel_shape", "strides"});
  CHECK(max == std::vector<std::string>{"auto_pad", "ceil_mode", "dilations", "kernel_shape",
                                        "pads", "strides"});
}

TEST_CASE("unnamed nodes and graphs get the names the importer would give") {
  Graph g = test::fixed_mlp_graph();
  g.name.clear();
  for (Node &n : g.nodes)
    n.name.clear();
  onnx::ModelProto m = parse(export_onnx_bytes(g));
  CHECK(m.graph().name() == "hgqc");
  CHECK(m.graph().node(0).name() == "FixedQuant_0");
  CHECK(m.graph().node(3).name() == "Gemm_3");
  Graph g2 = import_bytes(export_onnx_bytes(g));
  CHECK(export_onnx_bytes(g2) == export_onnx_bytes(g));
}

TEST_CASE("reductions: ReduceSum axes become an input, ReduceMean and ReduceMax keep attributes") {
  ModelBuilder b;
  b.input("x", {1, 3, 4});
  b.init("ax", {1}, {-1}, true);
  b.node("ReduceSum", {"x", "ax"}, {"s"}, "rsum");
  auto &mean = b.node("ReduceMean", {"s"}, {"m"}, "rmean");
  ModelBuilder::attr_ints(mean, "axes", {1});
  ModelBuilder::attr_int(mean, "keepdims", 0);
  b.node("ReduceMax", {"m"}, {"y"}, "rmax"); // every axis
  b.output("y");
  Graph g = b.import();
  Graph g2 = check_round_trip(g, "reductions");
  CHECK(canonical(g2) == canonical(g));
  onnx::ModelProto m = parse(export_onnx_bytes(g));
  REQUIRE(m.graph().node_size() == 3);
  CHECK(m.graph().node(0).input_size() == 2); // ReduceSum: axes [2] as a constant input
  CHECK(m.graph().node(0).input(1) == "rsum_axes");
  CHECK(m.graph().node(1).input_size() == 1); // ReduceMean: the axes attribute
  CHECK(attr_ints(only_node(g2, OpKind::ReduceMax), "axes", {}) == std::vector<int64_t>{0, 1});
  // A no-op reduction (noop_with_empty_axes = 1) is written as Identity.
  ModelBuilder n;
  n.input("x", {1, 3});
  ModelBuilder::attr_int(n.node("ReduceSum", {"x"}, {"y"}, "noop"), "noop_with_empty_axes", 1);
  n.output("y");
  onnx::ModelProto mn = parse(export_onnx_bytes(n.import()));
  REQUIRE(mn.graph().node_size() == 1);
  CHECK(mn.graph().node(0).op_type() == "Identity");
}
