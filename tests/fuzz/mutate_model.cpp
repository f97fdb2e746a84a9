// Structure-aware mutations of ONNX models through onnx::ModelProto, and raw byte edits.
#include "fuzz.h"

#include <onnx/onnx_pb.h>

#include <climits>
#include <cmath>
#include <limits>

namespace hgqc::fuzz {

namespace {
template <class T> T pick(Rng &rng, std::initializer_list<T> xs) {
  return *(xs.begin() + std::uniform_int_distribution<size_t>(0, xs.size() - 1)(rng));
}
size_t below(Rng &rng, size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }
bool coin(Rng &rng, int one_in) { return below(rng, static_cast<size_t>(one_in)) == 0; }

// An integer that breaks assumptions: 0, negative, huge, the int/int64 limits.
int64_t odd_int(Rng &rng) {
  return pick<int64_t>(rng, {0,
                             -1,
                             -2,
                             1,
                             2,
                             3,
                             7,
                             63,
                             64,
                             97,
                             1000,
                             65536,
                             INT_MAX,
                             INT_MIN,
                             int64_t{1} << 31,
                             (int64_t{1} << 32) + 5,
                             int64_t{1} << 40,
                             std::numeric_limits<int64_t>::max(),
                             std::numeric_limits<int64_t>::min(),
                             -(int64_t{1} << 40)});
}
float odd_float(Rng &rng) {
  return pick<float>(rng, {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 3.0f, 1e-30f, 1e30f, -1e30f,
                           std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity(),
                           std::numeric_limits<float>::quiet_NaN(),
                           std::numeric_limits<float>::denorm_min(), 65536.0f});
}

// Every ValueInfoProto of the graph (inputs, outputs, value_info).
std::vector<onnx::ValueInfoProto *> value_infos(onnx::GraphProto &g) {
  std::vector<onnx::ValueInfoProto *> r;
  for (auto &v : *g.mutable_input())
    r.push_back(&v);
  for (auto &v : *g.mutable_output())
    r.push_back(&v);
  for (auto &v : *g.mutable_value_info())
    r.push_back(&v);
  return r;
}

// All value names a node input may refer to.
std::vector<std::string> value_names(const onnx::GraphProto &g) {
  std::vector<std::string> r;
  for (const auto &v : g.input())
    r.push_back(v.name());
  for (const auto &t : g.initializer())
    r.push_back(t.name());
  for (const auto &n : g.node())
    for (const auto &o : n.output())
      r.push_back(o);
  return r;
}

// Replaces the data of `t` by `count` copies of the int64 `v` (as int64_data or raw_data).
void set_int_tensor(onnx::TensorProto &t, int64_t v, int64_t count) {
  t.clear_float_data();
  t.clear_int32_data();
  t.clear_int64_data();
  t.clear_double_data();
  t.clear_raw_data();
  t.set_data_type(onnx::TensorProto::INT64);
  for (int64_t j = 0; j < count; ++j)
    t.add_int64_data(v);
}

int64_t declared_numel(const onnx::TensorProto &t) {
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > (int64_t{1} << 20) || n > (int64_t{1} << 20))
      return -1;
    n *= d;
  }
  return n;
}

void mutate_dims(onnx::GraphProto &g, Rng &rng) {
  auto vis = value_infos(g);
  if (vis.empty())
    return;
  onnx::ValueInfoProto *v = vis[below(rng, vis.size())];
  auto *shape = v->mutable_type()->mutable_tensor_type()->mutable_shape();
  int op = static_cast<int>(below(rng, 5));
  if (op == 0 || shape->dim_size() == 0) {
    shape->add_dim()->set_dim_value(odd_int(rng));
  } else if (op == 1) {
    shape->mutable_dim()->RemoveLast();
  } else if (op == 2) {
    shape->mutable_dim(static_cast<int>(below(rng, shape->dim_size())))
        ->set_dim_param(pick<const char *>(rng, {"N", "batch", "", "?", "\x01\xff"}));
  } else if (op == 3) {
    v->mutable_type()->mutable_tensor_type()->clear_shape();
  } else {
    shape->mutable_dim(static_cast<int>(below(rng, shape->dim_size())))
        ->set_dim_value(odd_int(rng));
  }
}

void mutate_initializer(onnx::GraphProto &g, Rng &rng) {
  if (g.initializer_size() == 0)
    return;
  onnx::TensorProto &t = *g.mutable_initializer(static_cast<int>(below(rng, g.initializer_size())));
  switch (below(rng, 7)) {
  case 0: // a huge declared size with the data left as is (or dropped)
    t.add_dims(pick<int64_t>(rng, {int64_t{1} << 31, int64_t{1} << 40, 1 << 20, 65536}));
    if (coin(rng, 2))
      set_int_tensor(t, 0, 0);
    break;
  case 1: // a dim changed
    if (t.dims_size() > 0)
      t.set_dims(static_cast<int>(below(rng, t.dims_size())), odd_int(rng));
    break;
  case 2: // another element type for the same bytes
    t.set_data_type(static_cast<int32_t>(below(rng, 18)));
    break;
  case 3: // raw data cut short or lengthened
    if (!t.raw_data().empty())
      t.mutable_raw_data()->resize(below(rng, t.raw_data().size() * 2 + 1));
    else
      t.mutable_raw_data()->assign(below(rng, 9), '\x7f');
    break;
  case 4: { // odd float values
    int64_t n = declared_numel(t);
    if (n < 0 || n > 100000)
      break;
    t.clear_raw_data();
    t.clear_float_data();
    t.set_data_type(onnx::TensorProto::FLOAT);
    float v = odd_float(rng);
    for (int64_t j = 0; j < n; ++j)
      t.add_float_data(coin(rng, 3) ? v : static_cast<float>(j % 5) - 2);
    break;
  }
  case 5: { // odd integer values, the same everywhere (formats, bit widths, shapes)
    int64_t n = declared_numel(t);
    if (n >= 0 && n <= 100000)
      set_int_tensor(t, odd_int(rng), n);
    break;
  }
  default: // a second initializer of the same name, or one whose name is a node output
    if (coin(rng, 2))
      *g.add_initializer() = onnx::TensorProto(t); // copied before the field can grow
    else if (g.node_size() > 0 && g.node(0).output_size() > 0)
      t.set_name(g.node(static_cast<int>(below(rng, g.node_size()))).output(0));
  }
}

void mutate_attribute(onnx::NodeProto &n, Rng &rng) {
  if (n.attribute_size() == 0 || coin(rng, 4)) {
    auto *a = n.add_attribute();
    a->set_name(pick<const char *>(
        rng, {"axis",          "perm",     "kernel_shape", "strides",       "pads",     "group",
              "alpha",         "to",       "round_mode",   "overflow_mode", "signed",   "narrow",
              "rounding_mode", "keepdims", "transA",       "transB",        "auto_pad", "dilations",
              "axes",          "epsilon",  "value"}));
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(odd_int(rng));
    return;
  }
  int at = static_cast<int>(below(rng, n.attribute_size()));
  onnx::AttributeProto &a = *n.mutable_attribute(at);
  switch (below(rng, 7)) {
  case 0:
    a.set_i(odd_int(rng));
    break;
  case 1:
    a.set_f(odd_float(rng));
    break;
  case 2: // the type tag changed, the payload kept
    a.set_type(static_cast<onnx::AttributeProto_AttributeType>(below(rng, 15)));
    break;
  case 3: // removed
    n.mutable_attribute()->DeleteSubrange(at, 1);
    break;
  case 4:
    if (a.ints_size() > 0)
      a.set_ints(static_cast<int>(below(rng, a.ints_size())), odd_int(rng));
    else
      for (int j = 0; j < static_cast<int>(below(rng, 9)); ++j)
        a.add_ints(odd_int(rng));
    break;
  case 5:
    a.set_s(pick<const char *>(rng, {"", "SAME_UPPER", "VALID", "RND", "SAT", "FLOOR",
                                     "\x1b[31m\xc3(", "ROUND", "NOTSET"}));
    break;
  default:
    *n.add_attribute() = onnx::AttributeProto(a); // duplicated (copied before the field grows)
  }
}

// FixedQuant's k, i, f and Quant's scale, zero point and bit width are initializers: give
// one of them an odd value (huge, negative, INT_MIN, 2^32+5).
void mutate_format(onnx::GraphProto &g, Rng &rng) {
  std::vector<std::string> targets;
  for (const auto &n : g.node())
    if (n.op_type() == "FixedQuant" || n.op_type() == "Quant" || n.op_type() == "BipolarQuant")
      for (int j = 1; j < n.input_size(); ++j)
        targets.push_back(n.input(j));
  if (targets.empty())
    return;
  const std::string &name = targets[below(rng, targets.size())];
  for (auto &t : *g.mutable_initializer())
    if (t.name() == name) {
      int64_t n = declared_numel(t);
      if (n < 0 || n > 100000)
        return;
      if (t.data_type() == onnx::TensorProto::FLOAT && coin(rng, 2)) {
        t.clear_raw_data();
        t.clear_float_data();
        float v = coin(rng, 2) ? odd_float(rng) : static_cast<float>(odd_int(rng));
        for (int64_t j = 0; j < n; ++j)
          t.add_float_data(v);
      } else {
        int32_t dt = t.data_type();
        set_int_tensor(t, odd_int(rng), n);
        if (dt == onnx::TensorProto::FLOAT) { // keep the type QONNX expects, odd values
          t.set_data_type(onnx::TensorProto::FLOAT);
          for (int64_t j = 0; j < n; ++j)
            t.add_float_data(static_cast<float>(t.int64_data(static_cast<int>(j))));
          t.clear_int64_data();
        }
      }
      return;
    }
}

void mutate_wiring(onnx::GraphProto &g, Rng &rng) {
  if (g.node_size() == 0)
    return;
  int at = static_cast<int>(below(rng, g.node_size()));
  onnx::NodeProto &n = *g.mutable_node(at);
  auto names = value_names(g);
  switch (below(rng, 8)) {
  case 0: // a cycle: read a later node's output (or the node's own)
    if (n.input_size() > 0 && n.output_size() > 0) {
      const onnx::NodeProto &later = g.node(static_cast<int>(below(rng, g.node_size())));
      n.set_input(static_cast<int>(below(rng, n.input_size())),
                  later.output_size() > 0 ? later.output(0) : n.output(0));
    }
    break;
  case 1: // a dangling input
    if (n.input_size() > 0)
      n.set_input(static_cast<int>(below(rng, n.input_size())),
                  pick<const char *>(rng, {"nowhere", "", "\xff\xfe"}));
    break;
  case 2: // a duplicate output name
    if (n.output_size() > 0 && !names.empty())
      n.set_output(0, names[below(rng, names.size())]);
    break;
  case 3: // an input added or removed
    if (coin(rng, 2) && !names.empty())
      n.add_input(names[below(rng, names.size())]);
    else if (n.input_size() > 0)
      n.mutable_input()->RemoveLast();
    break;
  case 4: // the node removed
    g.mutable_node()->DeleteSubrange(at, 1);
    break;
  case 5: // a graph output that names nothing, or none at all
    if (coin(rng, 2))
      g.add_output()->set_name("dangling_output");
    else
      g.clear_output();
    break;
  case 6: // a duplicated node (same outputs) or node name
    if (coin(rng, 2))
      *g.add_node() = onnx::NodeProto(n); // copied before the field can grow
    else if (g.node_size() > 1)
      n.set_name(g.node(0).name());
    break;
  default: // nodes out of order
    if (g.node_size() > 1)
      g.mutable_node()->SwapElements(static_cast<int>(below(rng, g.node_size())),
                                     static_cast<int>(below(rng, g.node_size())));
  }
}

void mutate_op(onnx::ModelProto &m, onnx::GraphProto &g, Rng &rng) {
  switch (below(rng, 4)) {
  case 0:
    if (g.node_size() > 0)
      g.mutable_node(static_cast<int>(below(rng, g.node_size())))
          ->set_op_type(
              pick<const char *>(rng, {"Relu",    "Identity", "Gemm",       "MatMul",
                                       "Add",     "Mul",      "Conv",       "MaxPool",
                                       "Reshape", "Flatten",  "Transpose",  "Concat",
                                       "Softmax", "Quant",    "FixedQuant", "BatchNormalization",
                                       "Cast",    "Clip",     "Sigmoid",    "Foo"}));
    break;
  case 1:
    if (g.node_size() > 0)
      g.mutable_node(static_cast<int>(below(rng, g.node_size())))
          ->set_domain(pick<const char *>(rng, {"", "qonnx.custom_op.general", "hgqc", "x"}));
    break;
  case 2:
    if (m.opset_import_size() > 0)
      m.mutable_opset_import(0)->set_version(odd_int(rng));
    else
      m.add_opset_import()->set_version(13);
    break;
  default: { // a chain of Identity (or Relu) nodes after a node's output
    if (g.node_size() == 0 || g.node(0).output_size() == 0)
      break;
    int len = static_cast<int>(pick<int64_t>(rng, {2, 10, 100, 1000, 3000}));
    const char *op = coin(rng, 2) ? "Identity" : "Relu";
    onnx::NodeProto &n = *g.mutable_node(static_cast<int>(below(rng, g.node_size())));
    if (n.output_size() == 0)
      break;
    std::string orig = n.output(0), prev = orig + "_chain_in";
    n.set_output(0, prev);
    for (int j = 0; j < len; ++j) {
      auto *c = g.add_node();
      c->set_op_type(op);
      c->set_name("chain" + std::to_string(j));
      c->add_input(prev);
      prev = j + 1 == len ? orig : orig + "_chain" + std::to_string(j);
      c->add_output(prev);
    }
  }
  }
}
} // namespace

void mutate_bytes(std::string &b, Rng &rng) {
  int edits = 1 + static_cast<int>(below(rng, 8));
  for (int e = 0; e < edits; ++e) {
    size_t n = b.size();
    switch (below(rng, 6)) {
    case 0:
    case 1:
      if (n > 0)
        b[below(rng, n)] ^= static_cast<char>(1 << below(rng, 8));
      break;
    case 2:
      if (n > 0)
        b[below(rng, n)] = static_cast<char>(pick<int>(rng, {0, 0xff, 0x7f, 0x80, 0x01}));
      break;
    case 3:
      b.insert(below(rng, n + 1), std::string(1 + below(rng, 8), static_cast<char>(rng())));
      break;
    case 4:
      if (n > 1)
        b.erase(below(rng, n), 1 + below(rng, std::min<size_t>(n / 2, 64)));
      break;
    default:
      if (n > 0)
        b.resize(below(rng, n)); // truncated
    }
  }
}

void mutate_model(std::string &bytes, Rng &rng) {
  onnx::ModelProto m;
  if (coin(rng, 4) || !m.ParseFromString(bytes)) {
    mutate_bytes(bytes, rng);
    return;
  }
  onnx::GraphProto &g = *m.mutable_graph();
  int count = 1 + static_cast<int>(below(rng, 3));
  for (int j = 0; j < count; ++j) {
    switch (below(rng, 7)) {
    case 0:
      mutate_dims(g, rng);
      break;
    case 1:
      mutate_initializer(g, rng);
      break;
    case 2:
      if (g.node_size() > 0)
        mutate_attribute(*g.mutable_node(static_cast<int>(below(rng, g.node_size()))), rng);
      break;
    case 3: { // a value's element type
      auto vis = value_infos(g);
      if (!vis.empty())
        vis[below(rng, vis.size())]->mutable_type()->mutable_tensor_type()->set_elem_type(
            static_cast<int32_t>(below(rng, 18)));
      break;
    }
    case 4:
      mutate_format(g, rng);
      break;
    case 5:
      mutate_wiring(g, rng);
      break;
    default:
      mutate_op(m, g, rng);
    }
  }
  bytes = m.SerializeAsString();
}

} // namespace hgqc::fuzz
