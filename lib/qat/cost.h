// The hardware cost surrogates of HGQ training (method.md §2): EBOPs of the linear and pooling
// nodes, the ROMs of table functions and the width term, with their gradients with respect to
// each element's width.
#pragma once

#include "ir/graph.h"
#include "ir/train.h"
#include "qat/hgq.h"

#include <any>
#include <functional>
#include <vector>

namespace hgqc {

/// A node whose EBOPs count: activation quantizer qa (input `ia` of the node) times input
/// `iw`, which is weight quantizer qw or, when qw < 0, a constant of fixed widths `cw` (e.g.
/// the scale of a Mul); or, when `counts` is not empty, a pooling node whose input element k
/// enters counts[k] windows (OpDef::addend_counts): counts[k] * width(k).
struct EbopsTerm {
  int node, qa, qw, ia, iw;
  TrainTensor cw;
  std::any cache;
  std::vector<float> counts;
};

/// A table function (Sigmoid, Tanh, Exp, ...: OpDef::table) between two activation
/// quantizers: element k is a ROM of 2^b_in(k) entries of b_out(k) bits.
struct TableTerm {
  int node, qin, qout;
};

/// LUTs per ROM output bit of a ROM of at most kRomFloorBits address bits: the `rom` class of
/// the calibrated LUT model (lib/backend/lut_model.cpp, docs/hardware.md "ROMs").
inline constexpr double kLutsPerRomBit = 0.77;
/// Address bits up to which a ROM costs one LUT6 per output bit; each further bit doubles it.
inline constexpr double kRomFloorBits = 6;
/// EBOPs charged per LUT, to price tables in the units that beta multiplies: Yosys LUTs per
/// EBOP is 0.37 to 0.79 over the LUT model's calibration designs, geometric mean 0.51
/// (docs/hardware.md, "The LUT model"), so one LUT counts as 2 EBOPs.
inline constexpr double kEbopsPerLut = 2.0;

/// The table term of one element, in EBOPs: kEbopsPerLut * kLutsPerRomBit * b_out *
/// 2^(max(b_in, kRomFloorBits) - kRomFloorBits), and 0 for b_in <= 0 (a constant input needs
/// no ROM). Writes its partial derivatives to *d_in and *d_out: below kRomFloorBits input bits
/// the cost does not depend on b_in (d_in = 0), above it d_in = cost * ln 2.
double table_cost(double b_in, double b_out, double *d_in, double *d_out);

/// The cost terms of a training graph, found once; evaluated at each step's widths.
class CostModel {
public:
  /// Finds the EBOPs terms of `g`: nodes with an EBOPs hook reading an activation quantizer
  /// (quant_of: by node, the quantizer index or -1) and a weight quantizer, a second
  /// activation quantizer or an untrained constant (`is_const`), and pooling nodes with
  /// addend counts; and the table terms: table functions reading an activation quantizer
  /// whose output an activation quantizer of the same shape reads. Node `skip_node` (an output
  /// Softmax fused into the loss) is left out.
  CostModel(const Graph &g, const std::vector<HgqQuantizer> &quants,
            const std::vector<int> &quant_of, const std::function<bool(ValueId)> &is_const,
            int skip_node);

  /// EBOPs at the quantizers' current widths; adds beta * d EBOPs / d width(e) * live(e) to
  /// egrad[quantizer][e].
  double add_ebops(const Graph &g, const std::vector<HgqQuantizer> &quants, double beta,
                   std::vector<std::vector<float>> &egrad);

  /// The table term (ROMs priced in EBOPs, table_cost() per element) at the quantizers'
  /// current widths; adds beta * d term / d width(e) * live(e) to the egrad of the table's
  /// input and output quantizers.
  double add_tables(const std::vector<HgqQuantizer> &quants, double beta,
                    std::vector<std::vector<float>> &egrad) const;

  /// The sum of all quantizers' widths; sets fgrad[quantizer] (by fractional-bit parameter)
  /// to the sum over the elements sharing it of egrad + gamma * live.
  static double fold_widths(const std::vector<HgqQuantizer> &quants, double gamma,
                            const std::vector<std::vector<float>> &egrad,
                            std::vector<std::vector<float>> &fgrad);

  /// The EBOPs terms (for tests).
  const std::vector<EbopsTerm> &terms() const { return terms_; }
  /// The table terms (for tests).
  const std::vector<TableTerm> &tables() const { return tables_; }

private:
  std::vector<EbopsTerm> terms_;
  std::vector<TableTerm> tables_;
};

} // namespace hgqc
