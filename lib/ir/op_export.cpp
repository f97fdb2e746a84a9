// The ONNX form of IR nodes for the exporter: the default form and the dispatch to op hooks.
#include "ir/op.h"

namespace hgqc {

ExportRef ExportRef::of(ValueId v) {
  ExportRef r;
  r.value = v;
  return r;
}

ExportRef ExportRef::constant_of(Tensor t, std::string hint) {
  ExportRef r;
  r.constant = std::move(t);
  r.hint = std::move(hint);
  return r;
}

ExportRef ExportRef::temp_of(int k, std::string hint) {
  HGQC_ASSERT(k >= 0, "temp numbers start at 0");
  ExportRef r;
  r.temp = k;
  r.hint = std::move(hint);
  return r;
}

ExportNode default_export_node(const Node &n) {
  const OpDef &d = op_def(n.op);
  ExportNode e;
  e.op_type = std::string(d.name);
  e.domain = d.domain;
  e.attrs = n.attrs;
  for (ValueId v : n.inputs)
    e.inputs.push_back(ExportRef::of(v));
  for (ValueId v : n.outputs)
    e.outputs.push_back(ExportRef::of(v));
  return e;
}

std::vector<ExportNode> export_nodes(const Node &n, const ExportContext &ctx) {
  const OpDef &d = op_def(n.op);
  if (!d.export_form)
    return {default_export_node(n)};
  std::vector<ExportNode> r = d.export_form(n, ctx);
  HGQC_ASSERT(!r.empty(), n.name + ": export hook wrote no node");
  return r;
}

} // namespace hgqc
