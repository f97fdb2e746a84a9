// Unit tests of the importer on hostile models: declared sizes, shapes, formats and names.
#include "frontend/onnx_import.h"
#include "ir/eval.h"
#include "ir/fixed.h"

#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <unistd.h>

using namespace hgqc;

namespace {

/// A model x[N,4] -> Identity -> y, to be changed by each test before import().
struct Model {
  onnx::ModelProto m;
  Model() {
    m.set_ir_version(8);
    auto *o = m.add_opset_import();
    o->set_domain("");
    o->set_version(13);
    auto *g = m.mutable_graph();
    g->set_name("t");
    auto *in = g->add_input();
    in->set_name("x");
    auto *tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_param("N");
    tt->mutable_shape()->add_dim()->set_dim_value(4);
    g->add_output()->set_name("y");
  }
  onnx::GraphProto &g() { return *m.mutable_graph(); }
  onnx::NodeProto &node(const std::string &op, std::vector<std::string> in,
                        std::vector<std::string> out, const std::string &name) {
    auto *n = g().add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto &s : in)
      n->add_input(s);
    for (auto &s : out)
      n->add_output(s);
    return *n;
  }
  onnx::TensorProto &init(const std::string &name, std::vector<int64_t> dims, int type) {
    auto *t = g().add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (int64_t d : dims)
      t->add_dims(d);
    return *t;
  }
  std::string path() const {
    return (std::filesystem::temp_directory_path() /
            ("hgqc_import_" + std::to_string(::getpid()) + ".onnx"))
        .string();
  }
  Graph import() const {
    std::string p = path();
    {
      std::ofstream f(p, std::ios::binary);
      m.SerializeToOstream(&f);
    }
    struct Rm {
      std::string p;
      ~Rm() { std::filesystem::remove(p); }
    } rm{p};
    return import_onnx(p);
  }
  /// The UserError message of importing (and evaluating on `x`, if given), or "" if none.
  std::string error(const Tensor *x = nullptr) const {
    try {
      Graph g = import();
      if (x)
        evaluate(g, {*x});
    } catch (const UserError &e) {
      return e.what();
    }
    return "";
  }
};

bool has(const std::string &msg, const std::string &part) {
  INFO(msg);
  bool ok = msg.find(part) != std::string::npos;
  CHECK_MESSAGE(ok, "missing '" << part << "'");
  return ok;
}

} // namespace

TEST_CASE("import: initializer sizes are checked against the data before allocating") {
  auto start = std::chrono::steady_clock::now();
  {
    Model m; // 2^40 float32 elements declared, 16 bytes present
    m.init("w", {int64_t{1} << 20, int64_t{1} << 20}, onnx::TensorProto::FLOAT)
        .set_raw_data(std::string(16, '\0'));
    m.node("Identity", {"x"}, {"y"}, "id");
    has(m.error(), "initializer 'w': shape [1048576,1048576] has more than the 268435456");
  }
  {
    Model m; // within the cap, but the bytes are missing
    m.init("w", {1000, 1000}, onnx::TensorProto::FLOAT).set_raw_data(std::string(16, '\0'));
    m.node("Identity", {"x"}, {"y"}, "id");
    has(m.error(), "initializer 'w' has 16 bytes of data, shape [1000,1000] needs 4000000");
  }
  {
    Model m; // typed field
    auto &t = m.init("w", {1000, 1000}, onnx::TensorProto::INT64);
    t.add_int64_data(1);
    m.node("Identity", {"x"}, {"y"}, "id");
    has(m.error(), "initializer 'w' has 1 values, shape [1000,1000] needs 1000000");
  }
  {
    Model m; // a dimension of -2^63 (UBSan used to report an overflow in dims_numel)
    m.init("w", {std::numeric_limits<int64_t>::min(), 2}, onnx::TensorProto::FLOAT);
    m.node("Identity", {"x"}, {"y"}, "id");
    has(m.error(), "initializer 'w' has a negative dimension");
  }
  {
    Model m; // int64 overflow of the product
    m.init("w", {int64_t{1} << 62, 8}, onnx::TensorProto::FLOAT);
    m.node("Identity", {"x"}, {"y"}, "id");
    has(m.error(), "more than the 268435456");
  }
  {
    Model m; // a Constant node's tensor
    auto &n = m.node("Constant", {}, {"c"}, "big_const");
    auto *a = n.add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
    a->mutable_t()->add_dims(int64_t{1} << 40);
    m.node("Identity", {"x"}, {"y"}, "id");
    std::string e = m.error();
    has(e, "node 'big_const' (Constant)");
    has(e, "has more than the 268435456");
  }
  // Nothing above may allocate what it declares (this would take far longer, or fail).
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("import: FixedQuant formats outside the int range are refused naming the node") {
  for (int64_t bad : {(int64_t{1} << 32) + 5, -(int64_t{1} << 31), int64_t{97}}) {
    for (int which = 1; which < 3; ++which) {
      Model m;
      auto *o = m.m.add_opset_import();
      o->set_domain("hgqc");
      o->set_version(1);
      m.init("k", {}, onnx::TensorProto::INT64).add_int64_data(1);
      m.init("i", {}, onnx::TensorProto::INT64).add_int64_data(which == 1 ? bad : 3);
      m.init("f", {}, onnx::TensorProto::INT64).add_int64_data(which == 2 ? bad : 4);
      m.node("FixedQuant", {"x", "k", "i", "f"}, {"y"}, "fq").set_domain("hgqc");
      std::string e = m.error();
      has(e, "node 'fq' (hgqc.FixedQuant)");
      has(e, std::string(which == 1 ? "i" : "f") + " must lie in [-96, 96]");
      has(e, "holds " + std::to_string(bad));
    }
  }
}

TEST_CASE("import: Quant bitwidth outside [1, 53] is refused") {
  Model m;
  auto *o = m.m.add_opset_import();
  o->set_domain("qonnx.custom_op.general");
  o->set_version(1);
  m.init("s", {}, onnx::TensorProto::FLOAT).add_float_data(1);
  m.init("z", {}, onnx::TensorProto::FLOAT).add_float_data(0);
  m.init("b", {}, onnx::TensorProto::FLOAT).add_float_data(1e12f);
  m.node("Quant", {"x", "s", "z", "b"}, {"y"}, "q").set_domain("qonnx.custom_op.general");
  has(m.error(), "is not an integer in [1, 53]");
}

TEST_CASE("import: corrupt names reach the message escaped, on one line") {
  Model m;
  m.node(std::string("Bad\x01Op"), {"x"}, {"y"}, std::string("n\x01\n\xff\xc3(", 6));
  std::string e = m.error();
  has(e, "node 'n\\x01\\x0a\\xff\\xc3(' (Bad\\x01Op)");
  has(e, "unsupported op 'Bad\\x01Op'");
  CHECK(e.find('\n') == std::string::npos);
  for (char c : e)
    CHECK(static_cast<unsigned char>(c) >= 0x20);
}

TEST_CASE("evaluate: values that do not survive the conversion to the input type are refused") {
  Model m;
  m.node("Identity", {"x"}, {"y"}, "id");
  Graph g = m.import();
  Tensor x(DType::Float64, {2, 4});
  x[5] = 1e300;
  try {
    check_input(g, 0, x, "data.npy");
    FAIL("no error");
  } catch (const UserError &e) {
    CHECK(e.location().file == "data.npy");
    has(e.what(), "data.npy: input 'x': element 5 (1e+300) is outside the range of float32");
  }
  has(m.error(&x), "input 'x': element 5");
  x[5] = 3e38; // within float32
  CHECK(evaluate(g, {x}).at(0)[5] == static_cast<double>(3e38f));
  Tensor wrong(DType::Float32, {2, 5});
  try {
    check_input(g, 0, wrong, "data.npy");
    FAIL("no error");
  } catch (const UserError &e) {
    has(e.what(), "data.npy: input 'x' has shape [2,5], the model expects [N,4]");
  }
}

TEST_CASE("evaluate: errors raised by a node name the model file and the node") {
  Model m; // Quant's scale is a graph input here, so it is only checked at run time
  auto *o = m.m.add_opset_import();
  o->set_domain("qonnx.custom_op.general");
  o->set_version(1);
  auto *s = m.g().add_input();
  s->set_name("s");
  s->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  s->mutable_type()->mutable_tensor_type()->mutable_shape();
  m.init("z", {}, onnx::TensorProto::FLOAT).add_float_data(0);
  m.init("b", {}, onnx::TensorProto::FLOAT).add_float_data(4);
  m.node("Quant", {"x", "s", "z", "b"}, {"y"}, "q").set_domain("qonnx.custom_op.general");
  Graph g = m.import();
  try {
    evaluate(g, {Tensor(DType::Float32, {1, 4}), Tensor::scalar(DType::Float32, -1)});
    FAIL("no error");
  } catch (const UserError &e) {
    CHECK(e.location().file == g.source);
    has(e.what(), g.source + ": node 'q' (qonnx.custom_op.general.Quant): scale must be");
  }
}

TEST_CASE("import: window attributes are bounded so that no shape arithmetic overflows") {
  auto window = [](const std::string &op, const std::string &attr, int64_t v) {
    Model m;
    auto *shape = m.g().mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
    shape->mutable_dim(1)->set_dim_value(1);
    shape->add_dim()->set_dim_value(4);
    shape->add_dim()->set_dim_value(4); // x: [N,1,4,4]
    std::vector<std::string> in{"x"};
    if (op == "Conv") {
      auto &w = m.init("w", {1, 1, 2, 2}, onnx::TensorProto::FLOAT);
      for (int k = 0; k < 4; ++k)
        w.add_float_data(1);
      in.push_back("w");
    }
    auto &n = m.node(op, in, {"y"}, "win");
    if (op == "MaxPool") {
      auto *k = n.add_attribute();
      k->set_name("kernel_shape");
      k->set_type(onnx::AttributeProto::INTS);
      k->add_ints(2);
      k->add_ints(2);
    }
    auto *a = n.add_attribute();
    a->set_name(attr);
    a->set_type(onnx::AttributeProto::INTS);
    for (int k = 0; k < (attr == "pads" ? 4 : 2); ++k)
      a->add_ints(v);
    return m.error();
  };
  has(window("Conv", "pads", int64_t{1} << 62),
      "node 'win' (Conv): pads entries must be at most 268435456");
  has(window("MaxPool", "dilations", int64_t{1} << 40),
      "node 'win' (MaxPool): dilations entries must be at most 268435456");
  has(window("MaxPool", "strides", std::numeric_limits<int64_t>::max()), "strides entries");
  CHECK(window("MaxPool", "strides", 3).empty());
}
