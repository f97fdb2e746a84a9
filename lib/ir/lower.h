// Lowering of a quantized graph to a netlist: each op's lower hook, driven in graph order.
#pragma once

#include "ir/fixed_eval.h"
#include "ir/netlist.h"
#include "ir/op.h"

namespace hgqc {

/// Lowers the quantized graph `g` (ranges `ra`) to a netlist for one sample. Each graph input
/// must feed exactly one FixedQuant: the input bus carries that quantizer's output, element
/// by element (pruned elements take no bits). Output ports carry the graph outputs' elements.
/// Constant matrix-vector products are built by `cmvm`. Throws UserError naming the node when
/// an op has no hardware lowering or cannot be built.
Netlist lower_graph(const Graph &g, const RangeAnalysis &ra, const CmvmBuildFn &cmvm);

/// The input bus of a netlist for one sample of the graph inputs, given as the integers of
/// each input quantizer's output (row-major over each input, inputs in order, as the
/// emulator computes them): the values of the non-pruned elements.
std::vector<int64_t> input_bus_of(const Netlist &net, std::span<const FixedTensor> quantized);

} // namespace hgqc
