// ONNX model export: writes a graph IR as an ONNX ModelProto (float and quantized models).
#include "frontend/onnx_export.h"

#include "frontend/data_io.h"
#include "ir/op.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/onnx_pb.h>

#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#ifndef HGQC_VERSION
#error "HGQC_VERSION must be defined by the build"
#endif

namespace hgqc {

namespace {

int elem_type(DType t) {
  switch (t) {
  case DType::Float32:
    return onnx::TensorProto::FLOAT;
  case DType::Float64:
    return onnx::TensorProto::DOUBLE;
  case DType::Int64:
    return onnx::TensorProto::INT64;
  case DType::Int32:
    return onnx::TensorProto::INT32;
  case DType::UInt8:
    return onnx::TensorProto::UINT8;
  case DType::Bool:
    return onnx::TensorProto::BOOL;
  }
  HGQC_ASSERT(false, "unknown element type");
  return 0;
}

std::string domain_name(OpDomain d) {
  switch (d) {
  case OpDomain::Onnx:
    return "";
  case OpDomain::Qonnx:
    return kQonnxExportDomain;
  case OpDomain::Hgqc:
    return kHgqcDomain;
  }
  HGQC_ASSERT(false, "unknown op domain");
  return "";
}

std::string num_str(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

bool is_integer_in(double v, double lo, double hi) {
  return std::isfinite(v) && v == std::trunc(v) && v >= lo && v <= hi;
}

// Whether element type t represents v exactly.
bool exact_in(double v, DType t) {
  switch (t) {
  case DType::Float32:
    if (std::isnan(v) || std::isinf(v))
      return true;
    return std::fabs(v) <= FLT_MAX && static_cast<double>(static_cast<float>(v)) == v;
  case DType::Float64:
    return true;
  case DType::Int64:
    // [-2^63, 2^63): 2^63 itself is the first double past INT64_MAX.
    return is_integer_in(v, -9223372036854775808.0, 9223372036854775807.0) &&
           v != 9223372036854775808.0;
  case DType::Int32:
    return is_integer_in(v, INT32_MIN, INT32_MAX);
  case DType::UInt8:
    return is_integer_in(v, 0, 255);
  case DType::Bool:
    return v == 0.0 || v == 1.0;
  }
  return false;
}

template <class T> void append_raw(std::string &raw, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  raw.append(b, sizeof(T));
}

// An attribute as ONNX writes it; float attributes are float32.
void attr_to_proto(const std::string &name, const Attr &a, onnx::AttributeProto &p) {
  using A = onnx::AttributeProto;
  p.set_name(name);
  auto check_float = [&](double v) {
    if (!exact_in(v, DType::Float32))
      throw UserError("attribute '" + name + "' holds " + num_str(v) +
                      ", which an ONNX float (float32) attribute cannot represent exactly");
    return static_cast<float>(v);
  };
  if (const auto *i = std::get_if<int64_t>(&a)) {
    p.set_type(A::INT);
    p.set_i(*i);
  } else if (const auto *f = std::get_if<double>(&a)) {
    p.set_type(A::FLOAT);
    p.set_f(check_float(*f));
  } else if (const auto *s = std::get_if<std::string>(&a)) {
    p.set_type(A::STRING);
    p.set_s(*s);
  } else if (const auto *is = std::get_if<std::vector<int64_t>>(&a)) {
    p.set_type(A::INTS);
    for (int64_t x : *is)
      p.add_ints(x);
  } else if (const auto *fs = std::get_if<std::vector<double>>(&a)) {
    p.set_type(A::FLOATS);
    for (double x : *fs)
      p.add_floats(check_float(x));
  } else {
    p.set_type(A::TENSOR);
    tensor_to_proto(std::get<Tensor>(a), "attribute '" + name + "'", *p.mutable_t());
  }
}

void type_to_proto(const ValueType &t, onnx::TypeProto &p) {
  auto *tt = p.mutable_tensor_type();
  tt->set_elem_type(elem_type(t.dtype));
  auto *sh = tt->mutable_shape();
  for (size_t i = 0; i < t.dims.size(); ++i) {
    auto *d = sh->add_dim();
    if (t.dims[i] != kDynamic)
      d->set_dim_value(t.dims[i]);
    else if (i == 0)
      d->set_dim_param("N");
  }
}

// The batch size the importer will read from the written graph inputs (see
// ImportContext::declared_batch): float inputs of rank >= 2 agree on dimension 0.
int64_t declared_batch(const Graph &g) {
  int64_t b = -1;
  for (ValueId v : g.inputs) {
    const ValueType &t = g.values[v].type;
    if (!is_float(t.dtype) || t.dims.size() < 2)
      continue;
    int64_t d = t.dims[0] == kDynamic ? 0 : t.dims[0];
    b = b < 0 || b == d ? d : 0;
  }
  return std::max<int64_t>(b, 0);
}

// Builds the ModelProto: names, initializers in order of first use, nodes, opsets.
class Writer {
public:
  explicit Writer(const Graph &g) : g_(g), producer_(g.producers()) {}

  void write(onnx::ModelProto &m) {
    verify(g_);
    ExportContext ctx{g_, declared_batch(g_)};
    std::vector<std::vector<ExportNode>> forms;
    forms.reserve(g_.nodes.size());
    for (const Node &n : g_.nodes) {
      try {
        forms.push_back(export_nodes(n, ctx));
      } catch (const UserError &e) {
        throw e.with_location(n.loc());
      }
    }
    collect_names(forms);

    m.set_ir_version(kExportIrVersion);
    m.set_producer_name("hgqc");
    m.set_producer_version(HGQC_VERSION);
    onnx::GraphProto &gp = *m.mutable_graph();
    gp_ = &gp;
    gp.set_name(g_.name.empty() ? "hgqc" : g_.name);
    std::set<OpDomain> domains;
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      const Node &n = g_.nodes[i];
      try {
        std::map<int, std::string> temps;
        for (const ExportNode &e : forms[i]) {
          domains.insert(e.domain);
          write_node(node_names_[i], e, temps, *gp.add_node());
        }
      } catch (const UserError &e) {
        throw e.with_location(n.loc());
      }
    }
    for (ValueId v : g_.inputs)
      value_info(v, *gp.add_input());
    for (ValueId v : g_.outputs) {
      use_constant(v);
      value_info(v, *gp.add_output());
    }

    auto *o = m.add_opset_import();
    o->set_domain("");
    o->set_version(kExportOpset);
    if (domains.count(OpDomain::Hgqc)) {
      o = m.add_opset_import();
      o->set_domain(kHgqcDomain);
      o->set_version(1);
    }
    if (domains.count(OpDomain::Qonnx)) {
      o = m.add_opset_import();
      o->set_domain(kQonnxExportDomain);
      o->set_version(1);
    }
  }

private:
  // Names of the values and nodes written, so that names made up for constants, temps
  // and extra nodes collide with nothing. Values that nothing written refers to (e.g. an
  // axes initializer the importer moved into an attribute) do not count.
  void collect_names(const std::vector<std::vector<ExportNode>> &forms) {
    std::map<std::string, ValueId> by_name;
    auto use = [&](ValueId v) {
      if (v == kNoValue)
        return;
      const std::string &nm = g_.values[v].name;
      HGQC_ASSERT(!nm.empty(), "a value without a name");
      auto [it, fresh] = by_name.emplace(nm, v);
      HGQC_ASSERT(fresh || it->second == v, "two values named '" + nm + "'");
      value_names_.insert(nm);
    };
    for (ValueId v : g_.inputs)
      use(v);
    for (ValueId v : g_.outputs)
      use(v);
    for (const Node &n : g_.nodes)
      for (ValueId v : n.outputs)
        use(v);
    for (const auto &f : forms)
      for (const ExportNode &e : f) {
        for (const ExportRef &r : e.inputs)
          use(r.value);
        for (const ExportRef &r : e.outputs)
          use(r.value);
      }
    // Nodes without a name get the importer's default name.
    std::set<std::string> taken;
    for (const Node &n : g_.nodes)
      if (!n.name.empty())
        taken.insert(n.name);
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      std::string nm = g_.nodes[i].name;
      if (nm.empty()) {
        nm = std::string(op_def(g_.nodes[i].op).name) + "_" + std::to_string(i);
        while (!taken.insert(nm).second)
          nm += "_";
      }
      node_names_.push_back(nm);
    }
    all_node_names_ = std::move(taken);
  }

  std::string fresh_value_name(const std::string &base) {
    std::string nm = base;
    for (int i = 1; value_names_.count(nm); ++i)
      nm = base + "_" + std::to_string(i);
    value_names_.insert(nm);
    return nm;
  }

  std::string fresh_node_name(const std::string &base) {
    std::string nm = base;
    while (!all_node_names_.insert(nm).second)
      nm += "_";
    return nm;
  }

  void add_initializer(const std::string &name, const Tensor &t) {
    onnx::TensorProto &p = *gp_->add_initializer();
    p.set_name(name);
    tensor_to_proto(t, "constant '" + name + "'", p);
  }

  // Writes a constant graph value as an initializer the first time it is referenced.
  void use_constant(ValueId v) {
    const Value &val = g_.values[v];
    if (!val.constant || producer_[v] >= 0 || !written_.insert(v).second)
      return;
    add_initializer(val.name, *val.constant);
  }

  std::string resolve(const ExportRef &r, const std::string &node_name,
                      std::map<int, std::string> &temps) {
    if (r.constant) {
      std::string nm = fresh_value_name(node_name + "_" + r.hint);
      add_initializer(nm, *r.constant);
      return nm;
    }
    if (r.temp >= 0) {
      auto it = temps.find(r.temp);
      if (it == temps.end())
        it = temps.emplace(r.temp, fresh_value_name(node_name + "_" + r.hint)).first;
      return it->second;
    }
    if (r.value == kNoValue)
      return "";
    use_constant(r.value);
    return g_.values[r.value].name;
  }

  void write_node(const std::string &name, const ExportNode &e, std::map<int, std::string> &temps,
                  onnx::NodeProto &np) {
    np.set_name(e.name_suffix.empty() ? name : fresh_node_name(name + e.name_suffix));
    np.set_op_type(e.op_type);
    std::string dom = domain_name(e.domain);
    if (!dom.empty())
      np.set_domain(dom);
    std::vector<std::string> ins, outs;
    for (const ExportRef &r : e.inputs)
      ins.push_back(resolve(r, name, temps));
    for (const ExportRef &r : e.outputs)
      outs.push_back(resolve(r, name, temps));
    while (!ins.empty() && ins.back().empty())
      ins.pop_back();
    while (!outs.empty() && outs.back().empty())
      outs.pop_back();
    HGQC_ASSERT(!outs.empty(), name + ": exported node has no output");
    for (const std::string &s : ins)
      np.add_input(s);
    for (const std::string &s : outs)
      np.add_output(s);
    for (const auto &[k, a] : e.attrs)
      attr_to_proto(k, a, *np.add_attribute());
  }

  void value_info(ValueId v, onnx::ValueInfoProto &vi) {
    vi.set_name(g_.values[v].name);
    type_to_proto(g_.values[v].type, *vi.mutable_type());
  }

  const Graph &g_;
  std::vector<int> producer_;
  onnx::GraphProto *gp_ = nullptr;
  std::set<std::string> value_names_;
  std::set<std::string> all_node_names_;
  std::vector<std::string> node_names_;
  std::set<ValueId> written_;
};

} // namespace

void tensor_to_proto(const Tensor &t, const std::string &what, onnx::TensorProto &p) {
  DType dt = t.dtype();
  p.set_data_type(elem_type(dt));
  for (int64_t d : t.shape())
    p.add_dims(d);
  std::string raw;
  for (int64_t i = 0; i < t.numel(); ++i) {
    double v = t[i];
    if (!exact_in(v, dt))
      throw UserError(what + " holds " + num_str(v) + " at element " + std::to_string(i) +
                      ", which its element type " + dtype_name(dt) + " cannot represent exactly");
    switch (dt) {
    case DType::Float32:
      append_raw(raw, static_cast<float>(v));
      break;
    case DType::Float64:
      append_raw(raw, v);
      break;
    case DType::Int64:
      append_raw(raw, static_cast<int64_t>(v));
      break;
    case DType::Int32:
      append_raw(raw, static_cast<int32_t>(v));
      break;
    case DType::UInt8:
    case DType::Bool:
      append_raw(raw, static_cast<uint8_t>(v));
      break;
    }
  }
  p.set_raw_data(std::move(raw));
}

std::string export_onnx_bytes(const Graph &g) {
  onnx::ModelProto m;
  Writer(g).write(m);
  if (m.ByteSizeLong() > static_cast<size_t>(INT_MAX))
    throw UserError("the model is larger than the 2 GiB that an ONNX file can hold");
  std::string out;
  {
    google::protobuf::io::StringOutputStream sos(&out);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    m.SerializeWithCachedSizes(&cos);
    HGQC_ASSERT(!cos.HadError(), "protobuf serialization failed");
  }
  return out;
}

void export_onnx(const Graph &g, const std::string &path) {
  std::string bytes;
  try {
    bytes = export_onnx_bytes(g);
  } catch (const UserError &e) {
    throw e.with_location({path});
  }
  write_file_atomic(path, bytes);
}

} // namespace hgqc
