// The op registry built from ops.def, and node-level shape inference.
#include "ir/op.h"

namespace hgqc {

namespace {
const OpDef *const kOps[] = {
#define HGQC_OP(name, domain) &op_def_##name,
#include "ir/ops.def"
};

struct Alias {
  OpDomain domain;
  std::string_view onnx_name;
  OpKind kind;
};
const Alias kAliases[] = {
#define HGQC_OP(name, domain)
#define HGQC_ALIAS(domain, onnx_name, name) {OpDomain::domain##_domain, #onnx_name, OpKind::name},
#define onnx_domain Onnx
#define qonnx_domain Qonnx
#define hgqc_domain Hgqc
#include "ir/ops.def"
#undef onnx_domain
#undef qonnx_domain
#undef hgqc_domain
    {OpDomain::Onnx, "", OpKind{}}, // keeps the array non-empty
};
} // namespace

const OpDef &op_def(OpKind k) { return *kOps[static_cast<int>(k)]; }

std::span<const OpDef *const> all_ops() { return kOps; }

OpKind op_kind(const OpDef &d) {
  for (size_t i = 0; i < std::size(kOps); ++i)
    if (kOps[i] == &d)
      return static_cast<OpKind>(i);
  HGQC_ASSERT(false, "op not registered: " + std::string(d.name));
  return OpKind{};
}

const OpDef *find_op(OpDomain d, std::string_view type) {
  for (const OpDef *op : kOps)
    if (op->domain == d && op->name == type)
      return op;
  for (const Alias &a : kAliases)
    if (!a.onnx_name.empty() && a.domain == d && a.onnx_name == type)
      return &op_def(a.kind);
  return nullptr;
}

std::vector<ValueType> infer_node(const Graph &g, const Node &n) {
  std::vector<const ValueType *> in;
  std::vector<const Tensor *> consts;
  for (ValueId v : n.inputs) {
    in.push_back(v == kNoValue ? nullptr : &g.values[v].type);
    consts.push_back(v == kNoValue || !g.values[v].constant ? nullptr : &*g.values[v].constant);
  }
  return op_def(n.op).infer(n, in, consts);
}

} // namespace hgqc
