// Netlist pass: cuts the logic into pipeline stages of a bounded number of adder levels.
#include "backend/passes.h"

#include "ir/error.h"

#include <algorithm>
#include <bit>

namespace hgqc::backend {

int adder_levels(const Netlist &net, const NetNode &n) {
  switch (n.op) {
  case NetOp::Mul: {
    // The shift-and-add tree of verilog.cpp: the narrower factor's bits gate the partial
    // products, summed pairwise; a signed gate's top term is subtracted after.
    const NetNode &a = net.nodes[static_cast<size_t>(n.a)],
                  &b = net.nodes[static_cast<size_t>(n.b)];
    const NetNode &g = b.width() > a.width() ? a : b;
    int terms = g.width() - (g.is_signed() ? 1 : 0);
    return std::bit_width(static_cast<unsigned>(std::max(terms, 1) - 1)) + (g.is_signed() ? 1 : 0);
  }
  case NetOp::Add:
  case NetOp::Sub:
  case NetOp::Neg:
  case NetOp::Max:
  case NetOp::Min:
  case NetOp::Clamp:
  case NetOp::Table: // a ROM: one level of LUTs and their multiplexers
    return 1;
  case NetOp::Round:
    return n.rnd == RoundMode::TRN ? 0 : 1;
  case NetOp::Input:
  case NetOp::Const:
  case NetOp::Relu:
  case NetOp::Wrap:
  case NetOp::Concat:
    return 0;
  }
  return 0;
}

Schedule schedule_pipeline(const Netlist &net, const PipelineOptions &options) {
  const size_t n = net.nodes.size();
  Schedule s;
  s.level.assign(n, 0);
  s.stage.assign(n, 0);
  s.need.assign(n, 0);
  for (size_t k = 0; k < n; ++k) {
    const NetNode &nd = net.nodes[k];
    int l = 0;
    if (nd.a != kNoNet)
      l = std::max(l, s.level[static_cast<size_t>(nd.a)]);
    if (nd.b != kNoNet)
      l = std::max(l, s.level[static_cast<size_t>(nd.b)]);
    s.level[k] = l + adder_levels(net, nd);
    s.depth = std::max(s.depth, s.level[k]);
  }
  int per = std::max(s.depth, 1);
  if (options.max_adder_depth) {
    if (*options.max_adder_depth < 1)
      throw UserError("--max-adder-depth must be at least 1");
    per = *options.max_adder_depth;
  } else if (options.stages) {
    if (*options.stages < 1)
      throw UserError("--stages must be at least 1");
    per = std::max(1, (s.depth + *options.stages - 1) / *options.stages);
  }
  s.levels_per_stage = per;
  int last = 0;
  for (size_t k = 0; k < n; ++k) {
    const NetNode &nd = net.nodes[k];
    if (nd.op == NetOp::Const || nd.op == NetOp::Input)
      continue;
    int st = 0;
    for (NetId o : {nd.a, nd.b})
      if (o != kNoNet && net.nodes[static_cast<size_t>(o)].op != NetOp::Const)
        st = std::max(st, s.stage[static_cast<size_t>(o)]);
    if (adder_levels(net, nd) > 0)
      st = std::max(st, (s.level[k] - 1) / per);
    s.stage[k] = st;
    last = std::max(last, st);
  }
  s.stages = last + 1;
  // Registers: each node is carried to the last stage that reads it; outputs to the end.
  for (size_t k = 0; k < n; ++k)
    s.need[k] = s.stage[k];
  for (size_t k = 0; k < n; ++k) {
    const NetNode &nd = net.nodes[k];
    for (NetId o : {nd.a, nd.b})
      if (o != kNoNet)
        s.need[static_cast<size_t>(o)] = std::max(s.need[static_cast<size_t>(o)], s.stage[k]);
  }
  for (const NetPort &p : net.outputs)
    for (NetRef r : p.el)
      if (!r.zero())
        s.need[static_cast<size_t>(r.node)] = s.stages;
  for (size_t k = 0; k < n; ++k)
    if (net.nodes[k].op == NetOp::Const)
      s.need[k] = 0;
  return s;
}

} // namespace hgqc::backend
