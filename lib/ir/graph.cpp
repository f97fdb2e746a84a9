// Graph IR utilities: value bookkeeping, attribute access, the verifier and the text dump.
#include "ir/graph.h"
#include "ir/graph_edit.h"

#include "ir/op.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace hgqc {

ValueId Graph::add_value(std::string nm, ValueType type, std::optional<Tensor> constant) {
  values.push_back(Value{std::move(nm), std::move(type), std::move(constant)});
  return static_cast<ValueId>(values.size() - 1);
}

ValueId Graph::add_constant(const std::string &base, Tensor t) {
  ValueType ty{t.dtype(), t.shape()};
  return add_value(fresh_value_name(base), ty, std::move(t));
}

const Tensor *Graph::constant_of(ValueId v) const {
  return v == kNoValue || !values[v].constant ? nullptr : &*values[v].constant;
}

std::vector<int> Graph::producers() const {
  std::vector<int> p(values.size(), -1);
  for (size_t i = 0; i < nodes.size(); ++i)
    for (ValueId v : nodes[i].outputs)
      if (v != kNoValue)
        p[v] = static_cast<int>(i);
  return p;
}

std::vector<int> Graph::use_counts() const {
  std::vector<int> u(values.size(), 0);
  for (const Node &n : nodes)
    for (ValueId v : n.inputs)
      if (v != kNoValue)
        ++u[v];
  for (ValueId v : outputs)
    ++u[v];
  return u;
}

void Graph::replace_uses(ValueId from, ValueId to) {
  for (Node &n : nodes)
    for (ValueId &v : n.inputs)
      if (v == from)
        v = to;
  for (ValueId &v : outputs)
    if (v == from)
      v = to;
}

void replace_uses(Graph &g, const std::vector<ValueId> &to) {
  HGQC_ASSERT(to.size() == g.values.size(), "replace_uses: one entry per value needed");
  for (Node &n : g.nodes)
    for (ValueId &v : n.inputs)
      if (v != kNoValue)
        v = to[v];
  for (ValueId &v : g.outputs)
    v = to[v];
}

bool Graph::bypass(ValueId out, ValueId in) {
  auto listed = [](const std::vector<ValueId> &vs, ValueId v) {
    return std::find(vs.begin(), vs.end(), v) != vs.end();
  };
  if (!listed(outputs, out)) {
    replace_uses(out, in);
    return true;
  }
  int p = producers()[in];
  if (p < 0 || listed(inputs, in) || listed(outputs, in) || use_counts()[in] != 1)
    return false;
  std::replace(nodes[p].outputs.begin(), nodes[p].outputs.end(), in, out);
  return true;
}

void Graph::remove_dead() {
  // Drop nodes none of whose outputs are used, back to front so chains go at once.
  std::vector<int> uses = use_counts();
  std::vector<bool> keep(nodes.size(), true);
  for (size_t k = nodes.size(); k-- > 0;) {
    bool used = false;
    for (ValueId v : nodes[k].outputs)
      used |= v != kNoValue && uses[v] > 0;
    if (!used) {
      keep[k] = false;
      for (ValueId v : nodes[k].inputs)
        if (v != kNoValue)
          --uses[v];
    }
  }
  std::vector<Node> kept;
  for (size_t k = 0; k < nodes.size(); ++k)
    if (keep[k])
      kept.push_back(std::move(nodes[k]));
  nodes = std::move(kept);

  // Renumber the values still referred to, in their old order.
  std::vector<bool> live(values.size(), false);
  for (ValueId v : inputs)
    live[v] = true;
  for (ValueId v : outputs)
    live[v] = true;
  for (const Node &n : nodes) {
    for (ValueId v : n.inputs)
      if (v != kNoValue)
        live[v] = true;
    for (ValueId v : n.outputs)
      if (v != kNoValue)
        live[v] = true;
  }
  std::vector<ValueId> remap(values.size(), kNoValue);
  std::vector<Value> nv;
  for (size_t i = 0; i < values.size(); ++i)
    if (live[i]) {
      remap[i] = static_cast<ValueId>(nv.size());
      nv.push_back(std::move(values[i]));
    }
  values = std::move(nv);
  auto fix = [&](ValueId &v) {
    if (v != kNoValue)
      v = remap[v];
  };
  for (Node &n : nodes) {
    for (ValueId &v : n.inputs)
      fix(v);
    for (ValueId &v : n.outputs)
      fix(v);
  }
  for (ValueId &v : inputs)
    fix(v);
  for (ValueId &v : outputs)
    fix(v);
}

std::string Graph::fresh_value_name(const std::string &base) const {
  std::set<std::string> used;
  for (const Value &v : values)
    used.insert(v.name);
  if (!used.count(base))
    return base;
  for (int i = 1;; ++i) {
    std::string s = base + "_" + std::to_string(i);
    if (!used.count(s))
      return s;
  }
}

FreshNames::FreshNames(Graph &g) : g_(g) {}

std::string FreshNames::name(const std::string &base) {
  if (!scanned_) {
    for (const Value &v : g_.values)
      used_.insert(v.name);
    scanned_ = true;
  }
  if (used_.insert(base).second)
    return base;
  int &i = next_[base];
  for (;;) {
    std::string s = base + "_" + std::to_string(++i);
    if (used_.insert(s).second)
      return s;
  }
}

ValueId FreshNames::add_value(const std::string &base, ValueType type,
                              std::optional<Tensor> constant) {
  return g_.add_value(name(base), std::move(type), std::move(constant));
}

ValueId FreshNames::add_constant(const std::string &base, Tensor t) {
  ValueType ty{t.dtype(), t.shape()};
  return g_.add_value(name(base), ty, std::move(t));
}

namespace {
template <class T> const T *get_attr(const Node &n, const std::string &name, const char *kind) {
  auto it = n.attrs.find(name);
  if (it == n.attrs.end())
    return nullptr;
  if (const T *p = std::get_if<T>(&it->second))
    return p;
  throw UserError("attribute '" + name + "' must be " + kind);
}
} // namespace

int64_t attr_int(const Node &n, const std::string &name, int64_t def) {
  const int64_t *p = get_attr<int64_t>(n, name, "an integer");
  return p ? *p : def;
}

double attr_float(const Node &n, const std::string &name, double def) {
  auto it = n.attrs.find(name);
  if (it != n.attrs.end())
    if (const int64_t *i = std::get_if<int64_t>(&it->second))
      return static_cast<double>(*i);
  const double *p = get_attr<double>(n, name, "a float");
  return p ? *p : def;
}

std::string attr_string(const Node &n, const std::string &name, const std::string &def) {
  const std::string *p = get_attr<std::string>(n, name, "a string");
  return p ? *p : def;
}

std::vector<int64_t> attr_ints(const Node &n, const std::string &name,
                               const std::vector<int64_t> &def) {
  const auto *p = get_attr<std::vector<int64_t>>(n, name, "a list of integers");
  return p ? *p : def;
}

std::vector<double> attr_floats(const Node &n, const std::string &name,
                                const std::vector<double> &def) {
  const auto *p = get_attr<std::vector<double>>(n, name, "a list of floats");
  return p ? *p : def;
}

void check_known_attrs(const Node &n, std::initializer_list<const char *> known) {
  std::string bad;
  for (const auto &[k, v] : n.attrs) {
    bool ok = false;
    for (const char *s : known)
      ok |= k == s;
    if (!ok)
      bad += (bad.empty() ? "" : ", ") + k;
  }
  if (!bad.empty())
    throw UserError("unsupported attribute(s): " + bad);
}

std::string attr_str(const Attr &a) {
  std::ostringstream os;
  os.precision(9);
  std::visit(
      [&](const auto &x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>)
          os << x;
        else if constexpr (std::is_same_v<T, std::string>)
          os << '"' << x << '"';
        else if constexpr (std::is_same_v<T, Tensor>)
          os << "tensor<" << dtype_name(x.dtype()) << dims_str(x.shape()) << ">";
        else {
          os << '[';
          for (size_t i = 0; i < x.size(); ++i)
            os << (i ? "," : "") << x[i];
          os << ']';
        }
      },
      a);
  return os.str();
}

void verify(const Graph &g) {
  const auto nv = static_cast<ValueId>(g.values.size());
  auto in_range = [&](ValueId v) { return v >= 0 && v < nv; };
  std::vector<bool> defined(g.values.size(), false);
  std::set<std::string> names;
  for (ValueId v = 0; v < nv; ++v) {
    HGQC_ASSERT(names.insert(g.values[v].name).second, "duplicate value name " + g.values[v].name);
    if (g.values[v].constant) {
      defined[v] = true;
      HGQC_ASSERT(g.values[v].constant->shape() == g.values[v].type.dims,
                  "constant " + g.values[v].name + " shape disagrees with its type");
    }
  }
  for (ValueId v : g.inputs) {
    HGQC_ASSERT(in_range(v), "graph input id out of range");
    HGQC_ASSERT(!g.values[v].constant, "graph input " + g.values[v].name + " is a constant");
    HGQC_ASSERT(!defined[v], "graph input listed twice: " + g.values[v].name);
    defined[v] = true;
  }
  for (const Node &n : g.nodes) {
    const OpDef &d = op_def(n.op);
    auto ni = static_cast<int>(n.inputs.size()), no = static_cast<int>(n.outputs.size());
    HGQC_ASSERT(ni >= d.min_inputs && ni <= d.max_inputs, n.name + ": input count");
    HGQC_ASSERT(no >= d.min_outputs && no <= d.max_outputs, n.name + ": output count");
    for (ValueId v : n.inputs) {
      if (v == kNoValue)
        continue;
      HGQC_ASSERT(in_range(v), n.name + ": input id out of range");
      HGQC_ASSERT(defined[v], n.name + ": input " + g.values[v].name + " used before definition");
    }
    for (ValueId v : n.outputs) {
      if (v == kNoValue)
        continue;
      HGQC_ASSERT(in_range(v), n.name + ": output id out of range");
      HGQC_ASSERT(!defined[v], n.name + ": value " + g.values[v].name + " defined twice");
      defined[v] = true;
    }
  }
  for (ValueId v : g.outputs) {
    HGQC_ASSERT(in_range(v), "graph output id out of range");
    HGQC_ASSERT(defined[v], "graph output " + g.values[v].name + " is never defined");
  }
}

std::string dump(const Graph &g) {
  std::ostringstream os;
  auto ty = [&](ValueId v) {
    const Value &x = g.values[v];
    return "%" + x.name + ": " + dtype_name(x.type.dtype) + dims_str(x.type.dims);
  };
  std::vector<int> uses = g.use_counts();
  os << "graph " << (g.name.empty() ? "<unnamed>" : g.name) << " (" << g.nodes.size()
     << " nodes)\n";
  for (ValueId v : g.inputs)
    os << "  input  " << ty(v) << "\n";
  size_t nconst = 0;
  int64_t nparam = 0;
  for (ValueId v = 0; v < static_cast<ValueId>(g.values.size()); ++v)
    if (g.values[v].constant && uses[v] > 0) {
      ++nconst;
      nparam += g.values[v].constant->numel();
    }
  os << "  " << nconst << " constants, " << nparam << " parameters\n";
  for (const Node &n : g.nodes) {
    os << "  ";
    for (size_t i = 0; i < n.outputs.size(); ++i)
      os << (i ? ", " : "") << (n.outputs[i] == kNoValue ? std::string("_") : ty(n.outputs[i]));
    os << " = " << op_def(n.op).name << "(";
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      os << (i ? ", " : "");
      ValueId v = n.inputs[i];
      if (v == kNoValue)
        os << "_";
      else if (g.values[v].constant)
        os << "%" << g.values[v].name << "=const" << dims_str(g.values[v].type.dims);
      else
        os << "%" << g.values[v].name;
    }
    os << ")";
    if (!n.attrs.empty()) {
      os << " {";
      bool first = true;
      for (const auto &[k, a] : n.attrs) {
        os << (first ? "" : ", ") << k << "=" << attr_str(a);
        first = false;
      }
      os << "}";
    }
    os << "  # " << n.name << "\n";
  }
  for (ValueId v : g.outputs)
    os << "  output " << ty(v) << "\n";
  return os.str();
}

} // namespace hgqc
