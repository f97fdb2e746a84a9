// The backend's constant matrix-vector product builder for lowering: optimise_cmvm adder
// graphs turned into netlist adders, with a cache for repeated products (convolutions).
#pragma once

#include "backend/cmvm.h"
#include "ir/op.h"

#include <memory>
#include <optional>

namespace hgqc::backend {

/// What the CMVM builder did, for reports.
struct CmvmStats {
  int64_t products = 0;        ///< products requested
  int64_t cache_hits = 0;      ///< of those, answered from the cache
  int64_t adders = 0;          ///< adders placed in the netlist (before dead-code removal)
  double optimise_seconds = 0; ///< time spent in optimise_cmvm
};

/// Options of the builder.
struct CmvmLowerOptions {
  bool share = true; ///< greedy common-subexpression elimination (false: plain CSD)
  /// Adder depth of each product at most its minimum (cmvm_min_depth from the adder levels
  /// at which its operands arrive in the netlist) plus this many levels, counted from its
  /// earliest operand; unset: unconstrained (fewest adders, deepest logic). Under a slack the
  /// unconstrained graph is also built and kept where the LUT model prices it lower and it is
  /// no deeper.
  std::optional<int> depth_slack = 2;
  /// After lowering: cones of logic on at most this many input-bus bits become ROMs where
  /// cheaper (collapse_rom_cones; 0: never).
  int rom_cone_bits = 8;
};

/// A CmvmBuildFn that optimises each product with optimise_cmvm (operand widths from the
/// nodes' exact bounds) and adds its adders to the netlist; `stats` (optional) collects
/// figures. Throws UserError for operands wider than 32 bits.
CmvmBuildFn make_cmvm_builder(const CmvmLowerOptions &options = {},
                              std::shared_ptr<CmvmStats> stats = nullptr);

} // namespace hgqc::backend
