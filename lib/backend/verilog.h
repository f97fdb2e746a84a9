// Verilog-2001 writer for a scheduled netlist: one flat, pipelined top module (read-only
// over the netlist; any preparation is a pass before it).
#pragma once

#include "backend/passes.h"

#include <string>
#include <vector>

namespace hgqc::backend {

/// One element of a bus: bits [lsb, lsb + width) of in_data or out_data hold the integer q
/// of the value q * 2^-f, two's complement when `is_signed`.
struct BusField {
  int port = 0;        ///< index of the graph input / output
  int64_t element = 0; ///< element of the port (row-major, one sample)
  int64_t lsb = 0;
  int width = 0;
  bool is_signed = false;
  int f = 0;
};

/// The bit layout of the buses: elements in port order, then row-major, from bit 0 up;
/// elements that are the constant zero (pruned) take no bits.
struct BusLayout {
  std::vector<BusField> in, out;
  int64_t in_width = 0, out_width = 0;
};

/// The layout of `net`'s buses.
BusLayout bus_layout(const Netlist &net);

/// Options of the writer.
struct VerilogOptions {
  std::string top = "hgqc_top";    ///< module name (a legal identifier; see verilog_identifier)
  bool reset = true;               ///< a synchronous active-high `rst` clearing the valid chain
  std::vector<std::string> header; ///< extra comment lines for the file header
};

/// `s` as a legal Verilog identifier: characters other than letters, digits and '_' become
/// '_', a leading digit gets a prefix, keywords get a trailing '_'; never empty.
std::string verilog_identifier(const std::string &s);

/// The module: ports clk, [rst,] in_valid, in_data, out_valid, out_data. Deterministic text.
/// Throws UserError when a bus would have no bits.
std::string write_verilog(const Netlist &net, const Schedule &sched, const VerilogOptions &options);

} // namespace hgqc::backend
