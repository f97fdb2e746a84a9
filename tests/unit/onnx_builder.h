// A small builder of ONNX models in memory for unit tests (the C++ twin of onnx.helper).
#pragma once

#include "frontend/onnx_import.h"

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include <unistd.h>

namespace hgqc::test {

/// Builds a ModelProto node by node and imports it through a temporary file.
class ModelBuilder {
public:
  explicit ModelBuilder(int opset = 13) {
    m_.set_ir_version(8);
    auto *o = m_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    m_.mutable_graph()->set_name("test");
  }
  /// Declares a float32 graph input.
  ModelBuilder &input(const std::string &name, std::vector<int64_t> dims) {
    value_info(m_.mutable_graph()->add_input(), name, dims);
    return *this;
  }
  /// Declares a graph output (float32, shape left to inference).
  ModelBuilder &output(const std::string &name) {
    value_info(m_.mutable_graph()->add_output(), name, {});
    return *this;
  }
  /// Adds a float32 (or int64) initializer.
  ModelBuilder &init(const std::string &name, std::vector<int64_t> dims, std::vector<double> v,
                     bool int64 = false) {
    auto *t = m_.mutable_graph()->add_initializer();
    t->set_name(name);
    for (int64_t d : dims)
      t->add_dims(d);
    t->set_data_type(int64 ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT);
    for (double x : v)
      int64 ? t->add_int64_data(static_cast<int64_t>(x)) : t->add_float_data(static_cast<float>(x));
    return *this;
  }
  /// Adds a node; returns it so that attributes can be set with attr_*().
  onnx::NodeProto &node(const std::string &op, std::vector<std::string> in,
                        std::vector<std::string> out, const std::string &name = "") {
    auto *n = m_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + std::to_string(m_.graph().node_size()) : name);
    for (auto &s : in)
      n->add_input(s);
    for (auto &s : out)
      n->add_output(s);
    return *n;
  }
  static void attr_int(onnx::NodeProto &n, const std::string &k, int64_t v) {
    auto *a = n.add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr_ints(onnx::NodeProto &n, const std::string &k, std::vector<int64_t> v) {
    auto *a = n.add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
      a->add_ints(x);
  }
  /// Serialises to a temporary file and imports it.
  Graph import() const {
    auto path =
        std::filesystem::temp_directory_path() /
        ("hgqc_unit_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++) + ".onnx");
    {
      std::ofstream f(path, std::ios::binary);
      m_.SerializeToOstream(&f);
    }
    struct Rm {
      std::filesystem::path p;
      ~Rm() { std::filesystem::remove(p); }
    } rm{path};
    return import_onnx(path.string());
  }

private:
  static void value_info(onnx::ValueInfoProto *vi, const std::string &name,
                         const std::vector<int64_t> &dims) {
    vi->set_name(name);
    auto *tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    auto *sh = tt->mutable_shape();
    for (int64_t d : dims)
      sh->add_dim()->set_dim_value(d);
  }
  onnx::ModelProto m_;
  static inline int counter_ = 0;
};

/// A float32 tensor with values 0.1*i - offset (deterministic test data).
inline Tensor ramp(Dims d, double offset = 0.0, double step = 0.1) {
  Tensor t(DType::Float32, std::move(d));
  for (int64_t i = 0; i < t.numel(); ++i)
    t[i] = round_to_dtype(step * static_cast<double>(i) - offset, DType::Float32);
  return t;
}

} // namespace hgqc::test
