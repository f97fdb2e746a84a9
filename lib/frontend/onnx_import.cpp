// ONNX / QONNX model import into the graph IR.
#include "frontend/onnx_import.h"

#include "frontend/data_io.h"
#include "ir/op.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <map>
#include <set>

namespace hgqc {

namespace {

const char *const kQonnxDomains[] = {"qonnx.custom_op.general", "finn.custom_op.general",
                                     "onnx.brevitas"};

bool is_qonnx_domain(const std::string &d) {
  for (const char *q : kQonnxDomains)
    if (d == q)
      return true;
  return false;
}

const char *elem_type_name(int t) {
  switch (t) {
  case onnx::TensorProto::FLOAT:
    return "float32";
  case onnx::TensorProto::UINT8:
    return "uint8";
  case onnx::TensorProto::INT8:
    return "int8";
  case onnx::TensorProto::UINT16:
    return "uint16";
  case onnx::TensorProto::INT16:
    return "int16";
  case onnx::TensorProto::INT32:
    return "int32";
  case onnx::TensorProto::INT64:
    return "int64";
  case onnx::TensorProto::STRING:
    return "string";
  case onnx::TensorProto::BOOL:
    return "bool";
  case onnx::TensorProto::FLOAT16:
    return "float16";
  case onnx::TensorProto::DOUBLE:
    return "float64";
  case onnx::TensorProto::UINT32:
    return "uint32";
  case onnx::TensorProto::UINT64:
    return "uint64";
  case onnx::TensorProto::BFLOAT16:
    return "bfloat16";
  default:
    return "an unknown type";
  }
}

// hgqc element type of an ONNX element type, or throws.
DType dtype_of(int t, const std::string &what) {
  switch (t) {
  case onnx::TensorProto::FLOAT:
    return DType::Float32;
  case onnx::TensorProto::DOUBLE:
    return DType::Float64;
  case onnx::TensorProto::INT64:
    return DType::Int64;
  case onnx::TensorProto::INT32:
    return DType::Int32;
  case onnx::TensorProto::UINT8:
    return DType::UInt8;
  case onnx::TensorProto::BOOL:
    return DType::Bool;
  default:
    throw UserError(what + " has element type " + elem_type_name(t) +
                    "; supported: float32, float64, int64, int32, uint8, bool");
  }
}

template <class T> T read_le(const char *p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

Attr attr_from_proto(const onnx::AttributeProto &a, const std::string &node_name) {
  using A = onnx::AttributeProto;
  switch (a.type()) {
  case A::INT:
    return static_cast<int64_t>(a.i());
  case A::FLOAT:
    return static_cast<double>(a.f());
  case A::STRING:
    return a.s();
  case A::INTS:
    return std::vector<int64_t>(a.ints().begin(), a.ints().end());
  case A::FLOATS: {
    std::vector<double> v;
    for (float f : a.floats())
      v.push_back(f);
    return v;
  }
  case A::TENSOR:
    return tensor_from_proto(a.t(), "attribute '" + a.name() + "'");
  case A::UNDEFINED:
    // Old exporters leave the type out; infer it from which field is set.
    if (a.has_i())
      return static_cast<int64_t>(a.i());
    if (a.has_f())
      return static_cast<double>(a.f());
    if (a.has_s())
      return a.s();
    if (a.ints_size())
      return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    break;
  default:
    break;
  }
  (void)node_name;
  throw UserError("attribute '" + a.name() + "' has a kind hgqc does not support (" +
                  std::to_string(static_cast<int>(a.type())) + ")");
}

// Turns a Constant node's attribute into a tensor.
Tensor constant_value(const onnx::NodeProto &n) {
  if (n.attribute_size() != 1)
    throw UserError("Constant must have exactly one value attribute");
  const auto &a = n.attribute(0);
  const std::string &k = a.name();
  if (k == "value")
    return tensor_from_proto(a.t(), "Constant value");
  if (k == "value_float")
    return Tensor::scalar(DType::Float32, a.f());
  if (k == "value_int")
    return Tensor::scalar(DType::Int64, static_cast<double>(a.i()));
  if (k == "value_floats" || k == "value_ints")
    check_numel_cap(static_cast<uint64_t>(k == "value_floats" ? a.floats_size() : a.ints_size()),
                    "Constant " + k);
  if (k == "value_floats") {
    std::vector<double> v(a.floats().begin(), a.floats().end());
    return Tensor(DType::Float32, {static_cast<int64_t>(v.size())}, v);
  }
  if (k == "value_ints") {
    std::vector<double> v;
    for (int64_t x : a.ints())
      v.push_back(static_cast<double>(x));
    return Tensor(DType::Int64, {static_cast<int64_t>(v.size())}, v);
  }
  throw UserError("Constant attribute '" + k + "' is not supported");
}

// Indices of the nodes in a topological order (stable: ready nodes in file order).
std::vector<int> topo_order(const onnx::GraphProto &gp, const std::set<std::string> &available) {
  int nn = gp.node_size();
  std::map<std::string, int> producer;
  for (int i = 0; i < nn; ++i)
    for (const auto &o : gp.node(i).output())
      if (!o.empty())
        producer.emplace(o, i);
  std::vector<std::vector<int>> users(nn);
  std::vector<int> pending(nn, 0);
  for (int i = 0; i < nn; ++i) {
    std::set<int> deps;
    for (const auto &in : gp.node(i).input()) {
      if (in.empty() || available.count(in))
        continue;
      auto it = producer.find(in);
      if (it != producer.end() && it->second != i)
        deps.insert(it->second);
    }
    pending[i] = static_cast<int>(deps.size());
    for (int d : deps)
      users[d].push_back(i);
  }
  std::set<int> ready;
  for (int i = 0; i < nn; ++i)
    if (pending[i] == 0)
      ready.insert(i);
  std::vector<int> order;
  while (!ready.empty()) {
    int i = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(i);
    for (int u : users[i])
      if (--pending[u] == 0)
        ready.insert(u);
  }
  if (static_cast<int>(order.size()) != nn) {
    // Every node left waits for another one left: walk such dependencies from the first until
    // a node repeats; that node lies on a cycle (at most nn steps).
    int cur = 0;
    while (pending[cur] == 0)
      ++cur;
    std::vector<bool> seen(nn, false);
    while (!seen[cur]) {
      seen[cur] = true;
      int next = -1;
      for (const auto &in : gp.node(cur).input()) {
        auto it = in.empty() || available.count(in) ? producer.end() : producer.find(in);
        if (it != producer.end() && it->second != cur && pending[it->second] > 0) {
          next = it->second;
          break;
        }
      }
      HGQC_ASSERT(next >= 0, "topo_order: a waiting node has no waiting dependency");
      cur = next;
    }
    throw UserError("the graph has a cycle through this node",
                    {"", 0, gp.node(cur).name(), gp.node(cur).op_type()});
  }
  return order;
}

} // namespace

Tensor tensor_from_proto(const onnx::TensorProto &p, const std::string &what) {
  if (p.data_location() == onnx::TensorProto::EXTERNAL)
    throw UserError(what + " uses external data, which hgqc does not read");
  if (p.has_segment())
    throw UserError(what + " is segmented, which hgqc does not read");
  Dims dims(p.dims().begin(), p.dims().end());
  for (int64_t d : dims)
    if (d < 0)
      throw UserError(what + " has a negative dimension in its shape " + dims_str(dims));
  int64_t n = 0;
  try {
    n = dims_numel(dims);
  } catch (const UserError &e) {
    throw UserError(what + ": " + e.bare_message());
  }
  int et = p.data_type();
  DType dt;
  size_t esize;
  switch (et) {
  case onnx::TensorProto::FLOAT:
    dt = DType::Float32;
    esize = 4;
    break;
  case onnx::TensorProto::DOUBLE:
    dt = DType::Float64;
    esize = 8;
    break;
  case onnx::TensorProto::INT64:
    dt = DType::Int64;
    esize = 8;
    break;
  case onnx::TensorProto::INT32:
    dt = DType::Int32;
    esize = 4;
    break;
  case onnx::TensorProto::UINT8:
    dt = DType::UInt8;
    esize = 1;
    break;
  case onnx::TensorProto::BOOL:
    dt = DType::Bool;
    esize = 1;
    break;
  default:
    throw UserError(what + " has element type " + elem_type_name(et) +
                    "; supported: float32, float64, int64, int32, uint8, bool");
  }
  // The values present must match the shape before anything is allocated for them.
  size_t have = 0;
  if (p.has_raw_data())
    have = p.raw_data().size() / esize;
  else if (dt == DType::Float32)
    have = static_cast<size_t>(p.float_data_size());
  else if (dt == DType::Float64)
    have = static_cast<size_t>(p.double_data_size());
  else if (dt == DType::Int64)
    have = static_cast<size_t>(p.int64_data_size());
  else
    have = static_cast<size_t>(p.int32_data_size());
  if (p.has_raw_data() && p.raw_data().size() != static_cast<size_t>(n) * esize)
    throw UserError(what + " has " + std::to_string(p.raw_data().size()) +
                    " bytes of data, shape " + dims_str(dims) + " needs " +
                    std::to_string(static_cast<size_t>(n) * esize));
  if (!p.has_raw_data() && have != static_cast<size_t>(n))
    throw UserError(what + " has " + std::to_string(have) + " values, shape " + dims_str(dims) +
                    " needs " + std::to_string(n));
  std::vector<double> v;
  v.reserve(static_cast<size_t>(n));
  if (p.has_raw_data()) {
    const std::string &raw = p.raw_data();
    const char *b = raw.data();
    for (int64_t i = 0; i < n; ++i, b += esize) {
      switch (dt) {
      case DType::Float32:
        v.push_back(read_le<float>(b));
        break;
      case DType::Float64:
        v.push_back(read_le<double>(b));
        break;
      case DType::Int64:
        v.push_back(static_cast<double>(read_le<int64_t>(b)));
        break;
      case DType::Int32:
        v.push_back(read_le<int32_t>(b));
        break;
      case DType::UInt8:
        v.push_back(static_cast<unsigned char>(*b));
        break;
      case DType::Bool:
        v.push_back(*b ? 1.0 : 0.0);
        break;
      }
    }
  } else {
    switch (dt) {
    case DType::Float32:
      for (float f : p.float_data())
        v.push_back(f);
      break;
    case DType::Float64:
      for (double d : p.double_data())
        v.push_back(d);
      break;
    case DType::Int64:
      for (int64_t x : p.int64_data())
        v.push_back(static_cast<double>(x));
      break;
    default:
      for (int32_t x : p.int32_data())
        v.push_back(dt == DType::Bool ? (x != 0) : x);
      break;
    }
    HGQC_ASSERT(static_cast<int64_t>(v.size()) == n, what + ": value count changed");
  }
  return Tensor(dt, dims, std::move(v));
}

Tensor read_tensor_pb(const std::string &path) {
  std::string bytes = read_file(path);
  onnx::TensorProto p;
  if (!p.ParseFromString(bytes))
    throw UserError("not a serialized ONNX TensorProto", {path});
  try {
    return tensor_from_proto(p, "tensor");
  } catch (const UserError &e) {
    throw e.with_location({path});
  }
}

std::string supported_ops_list() {
  std::string s;
  for (const OpDef *d : all_ops())
    s += std::string(s.empty() ? "" : ", ") + std::string(d->name);
  s += ", IntQuant, Constant";
  return s;
}

Graph import_onnx(const std::string &path) {
  std::string bytes = read_file(path);
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes))
    throw UserError("not an ONNX model (the file is not a valid ModelProto; truncated or another "
                    "format?)",
                    {path});
  if (!model.has_graph() || model.ir_version() <= 0)
    throw UserError("not an ONNX model (no graph or IR version)", {path});
  try {
    // Opsets per domain. QONNX domains may be missing: they have one version.
    int onnx_opset = -1;
    std::map<std::string, int> opsets;
    for (const auto &o : model.opset_import()) {
      std::string d = o.domain() == "ai.onnx" ? "" : o.domain();
      opsets[d] = static_cast<int>(o.version());
    }
    if (opsets.count(""))
      onnx_opset = opsets[""];
    else
      onnx_opset = 1; // the ONNX rule for a model that declares none
    const onnx::GraphProto &gp = model.graph();
    bool uses_onnx_ops = false;
    for (const auto &n : gp.node())
      uses_onnx_ops |= n.domain().empty() || n.domain() == "ai.onnx";
    if (uses_onnx_ops && (onnx_opset < kMinOpset || onnx_opset > kMaxOpset))
      throw UserError("opset " + std::to_string(onnx_opset) +
                      " of the default ONNX domain is not supported (supported: " +
                      std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) + ")");

    Graph g;
    g.name = gp.name();
    g.source = path;
    std::map<std::string, ValueId> by_name;
    auto define = [&](const std::string &nm, ValueType t, std::optional<Tensor> c) {
      if (by_name.count(nm))
        throw UserError("value '" + nm + "' is defined more than once");
      ValueId id = g.add_value(nm, std::move(t), std::move(c));
      by_name[nm] = id;
      return id;
    };

    for (const auto &init : gp.initializer()) {
      Tensor t = tensor_from_proto(init, "initializer '" + init.name() + "'");
      ValueType ty{t.dtype(), t.shape()};
      define(init.name(), ty, std::move(t));
    }
    int64_t declared_batch = -1; // -1: no batch input seen yet
    for (const auto &vi : gp.input()) {
      if (by_name.count(vi.name()))
        continue; // an initializer listed as input (IR < 4): a constant
      if (!vi.type().has_tensor_type())
        throw UserError("graph input '" + vi.name() + "' is not a tensor");
      const auto &tt = vi.type().tensor_type();
      ValueType ty{dtype_of(tt.elem_type(), "graph input '" + vi.name() + "'"), {}};
      if (!tt.has_shape())
        throw UserError("graph input '" + vi.name() + "' has no declared shape");
      for (const auto &d : tt.shape().dim()) {
        ty.dims.push_back(d.has_dim_value() && d.dim_value() > 0 ? d.dim_value() : kDynamic);
        // One dimension beyond the cap is beyond it for any batch: refused before shape
        // inference computes with it (window sizes, strides).
        if (ty.dims.size() > 1 && ty.dims.back() != kDynamic)
          check_numel_cap(static_cast<uint64_t>(ty.dims.back()),
                          "graph input '" + vi.name() + "' dimension " +
                              std::to_string(ty.dims.size() - 1));
      }
      if (is_float(ty.dtype) && ty.dims.size() >= 2) {
        int64_t b = ty.dims[0] == kDynamic ? 0 : ty.dims[0];
        declared_batch = declared_batch < 0 || declared_batch == b ? b : 0;
        ty.dims[0] = kDynamic;
      }
      g.inputs.push_back(define(vi.name(), ty, {}));
    }

    std::set<std::string> available;
    for (const auto &[nm, id] : by_name)
      available.insert(nm);
    std::vector<int> order = topo_order(gp, available);

    std::set<std::string> node_names;
    std::map<std::string, int> name_count; // per repeated name: suffixes _1.._k are taken
    for (int idx : order) {
      const onnx::NodeProto &np = gp.node(idx);
      const std::string base =
          np.name().empty() ? np.op_type() + "_" + std::to_string(idx) : np.name();
      std::string nm = base;
      for (int &k = name_count[base]; !node_names.insert(nm).second;)
        nm = base + "_" + std::to_string(++k);
      std::string dom = np.domain() == "ai.onnx" ? "" : np.domain();
      std::string source_op = dom.empty() ? np.op_type() : dom + "." + np.op_type();
      Location loc{path, 0, nm, source_op};
      try {
        if (dom.empty() && np.op_type() == "Constant") {
          if (np.output_size() != 1)
            throw UserError("Constant must have one output");
          Tensor t = constant_value(np);
          ValueType ty{t.dtype(), t.shape()};
          define(np.output(0), ty, std::move(t));
          continue;
        }
        OpDomain od;
        int opset;
        if (dom.empty()) {
          od = OpDomain::Onnx;
          opset = onnx_opset;
        } else if (is_qonnx_domain(dom)) {
          od = OpDomain::Qonnx;
          opset = opsets.count(dom) ? opsets[dom] : 1;
        } else if (dom == kHgqcDomain) {
          od = OpDomain::Hgqc;
          opset = opsets.count(dom) ? opsets[dom] : 1;
        } else {
          throw UserError("unsupported op domain '" + dom +
                          "' (supported: the default ONNX domain, qonnx.custom_op.general, "
                          "finn.custom_op.general, onnx.brevitas, hgqc)");
        }
        const OpDef *def = find_op(od, np.op_type());
        if (!def)
          throw UserError("unsupported op '" + np.op_type() + "' (domain '" +
                          (dom.empty() ? std::string("ai.onnx") : dom) + "', opset " +
                          std::to_string(opset) + "); supported ops: " + supported_ops_list());
        Node n;
        n.name = nm;
        n.op = op_kind(*def);
        n.source_op = source_op;
        for (const auto &in : np.input()) {
          if (in.empty()) {
            n.inputs.push_back(kNoValue);
            continue;
          }
          auto it = by_name.find(in);
          if (it == by_name.end())
            throw UserError("input '" + in + "' is not defined by any node, input or initializer");
          n.inputs.push_back(it->second);
        }
        while (!n.inputs.empty() && n.inputs.back() == kNoValue)
          n.inputs.pop_back();
        int nout = np.output_size();
        while (nout > 0 && np.output(nout - 1).empty())
          --nout;
        auto ni = static_cast<int>(n.inputs.size());
        if (ni < def->min_inputs || ni > def->max_inputs)
          throw UserError("has " + std::to_string(ni) + " inputs; expected " +
                          std::to_string(def->min_inputs) +
                          (def->max_inputs > def->min_inputs
                               ? " to " + std::to_string(std::min(def->max_inputs, 1000))
                               : ""));
        if (nout < def->min_outputs || nout > def->max_outputs)
          throw UserError("has " + std::to_string(nout) + " outputs; this op supports " +
                          std::to_string(def->min_outputs) +
                          (def->max_outputs > def->min_outputs
                               ? " to " + std::to_string(def->max_outputs)
                               : ""));
        for (int i = 0; i < def->min_inputs; ++i)
          if (n.inputs[i] == kNoValue)
            throw UserError("required input " + std::to_string(i) + " is missing");
        for (const auto &a : np.attribute())
          n.attrs[a.name()] = attr_from_proto(a, nm);
        // Outputs are created before the import hook so that it sees the node whole.
        for (int k = 0; k < nout; ++k)
          n.outputs.push_back(np.output(k).empty() ? kNoValue : define(np.output(k), {}, {}));
        ImportContext ctx{g, opset, std::max<int64_t>(declared_batch, 0)};
        def->import(n, ctx);
        std::vector<ValueType> ts = infer_node(g, n);
        for (size_t k = 0; k < n.outputs.size(); ++k)
          if (n.outputs[k] != kNoValue)
            g.values[n.outputs[k]].type = ts[k];
        g.nodes.push_back(std::move(n));
      } catch (const UserError &e) {
        throw e.with_location(loc);
      }
    }

    for (const auto &vo : gp.output()) {
      auto it = by_name.find(vo.name());
      if (it == by_name.end())
        throw UserError("graph output '" + vo.name() + "' is not defined");
      g.outputs.push_back(it->second);
    }
    if (g.outputs.empty())
      throw UserError("the graph has no outputs");
    verify(g);
    return g;
  } catch (const UserError &e) {
    throw e.with_location({path});
  }
}

} // namespace hgqc
