// The hardware cost surrogates of HGQ training (method.md §2): EBOPs of the linear and pooling
// nodes, the surrogate LUTs of the circuit (docs/training.md "LUT cost"), the ROMs of table
// functions and the width term, with their gradients with respect to each element's width.
#pragma once

#include "backend/lut_model.h"
#include "ir/graph.h"
#include "ir/train.h"
#include "qat/hgq.h"

#include <any>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace hgqc {

/// The hardware cost that training's loss charges (hgqc train --cost).
enum class CostKind {
  Luts, ///< the surrogate LUTs of the circuit (CostModel::add_luts)
  Ebops ///< EBOPs plus the table term (CostModel::add_ebops, add_tables)
};

/// A node whose EBOPs count: activation quantizer qa (input `ia` of the node) times input
/// `iw`, which is weight quantizer qw or, when qw < 0, a constant of fixed widths `cw` (e.g.
/// the scale of a Mul); or, when `counts` is not empty, a pooling node whose input element k
/// enters counts[k] windows (OpDef::addend_counts): counts[k] * width(k).
struct EbopsTerm {
  int node = -1, qa = -1, qw = -1, ia = 0, iw = -1;
  TrainTensor cw;
  std::any cache;
  std::vector<float> counts;
  // The LUT cost's view of the term (set by the constructor, see add_luts()).
  /// The activation quantizer of the same shape that reads the node's output through
  /// elementwise nodes (bias Add, Relu), or -1: its live flags gate the outputs' LUTs.
  int out_q = -1;
  /// Linear layers (a weight quantizer, or a constant of another op than Mul): index into
  /// lut_layers(), else -1.
  int layer = -1;
  /// The nonzero CSD digits of an untrained constant's integers (a linear layer's fixed
  /// weights), or those digits minus one (a Mul by a constant: its adders per element).
  TrainTensor digits;
  bool max = false; ///< a pooling term that takes maxima (MaxPool, ReduceMax, ReduceMin)
  /// An average pool of a graph input whose windows an activation quantizer narrows: that
  /// quantizer (else -1), and the input elements of each window (window j: win_el[win_begin[j]]
  /// to win_el[win_begin[j + 1]]). emit-verilog may build each window as one ROM.
  int rom_q = -1;
  std::vector<int64_t> win_begin, win_el;
};

/// The surrogate LUTs of one linear layer at the last add_luts(), and its scale factor.
struct LutLayer {
  int node = -1;    ///< the layer's node in the training graph
  std::string name; ///< its name
  double raw = 0;   ///< surrogate LUTs before scaling
  double scale = 1; ///< the factor the loss multiplies them by (set_lut_scale)
  double scaled() const { return raw * scale; } ///< raw * scale
};

/// The calibrated scales of the LUT surrogate, averaged over checkpoints: the first
/// calibration of a scale sets it to the checkpoint's exact / surrogate ratio; each later one
/// moves it towards the new ratio (geometrically) by the weight kWeight, about the mean of the
/// last eight, plus kDrift times |ln| of the raw surrogate's change since the last calibration
/// (at most 1). One checkpoint's ratio is noisy (a few rounded values flipping can move a
/// convolution's exact LUTs by a third), and a recent mean prices the next checkpoints better;
/// but while the model shrinks fast the ratio drifts, and an old mean lags it
/// (docs/training.md).
class LutScaleAverage {
public:
  /// The weight of a new ratio while the surrogate stands still.
  static constexpr double kWeight = 1.0 / 8;
  /// The weight added per unit of |ln(raw / previous raw)|.
  static constexpr double kDrift = 2;
  /// The new scale of the scale named `key` ("" for the rest's), now `old`, given the ratio
  /// exact / raw of a checkpoint whose raw surrogate is `raw`.
  double update(const std::string &key, double old, double ratio, double raw);

private:
  std::map<std::string, double> last_raw_; ///< raw surrogate at each key's last calibration
};

/// A table function (Sigmoid, Tanh, Exp, ...: OpDef::table) between two activation
/// quantizers: element k is a ROM of 2^b_in(k) entries of b_out(k) bits.
struct TableTerm {
  int node, qin, qout;
};

/// LUTs per ROM output bit of a ROM of at most kRomFloorBits address bits: the `rom` class of
/// the calibrated LUT model (lib/backend/lut_model.cpp, docs/hardware.md "ROMs").
inline constexpr double kLutsPerRomBit = backend::kLutCoef[backend::kRom];
/// The mean density of nonzero CSD digits per bit of an integer: the LUT cost's derivative of
/// a surviving weight's digit count with respect to its width.
inline constexpr double kCsdDigitsPerBit = 1.0 / 3.0;
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

  /// The surrogate LUTs of the circuit at the quantizers' current widths (docs/training.md,
  /// "LUT cost"): linear layers (CSD-digit adders of their surviving terms at the mean term
  /// width plus the accumulator growth, times each layer's scale), products of two signals,
  /// products by constants, pooling adders and comparators, the rounding of activation
  /// quantizers, ReLU and the tables. `wq[q]`: the quantized values of weight quantizer q (its
  /// digits; null for activations). Adds beta * d LUTs / d width(e) * live(e) to
  /// egrad[quantizer][e] (nothing when beta is 0); sets each layer's LutLayer::raw.
  double add_luts(const Graph &g, const std::vector<HgqQuantizer> &quants,
                  const std::vector<const TrainTensor *> &wq, double beta,
                  std::vector<std::vector<float>> &egrad);

  /// Sets the scale factor of the linear layer of node `node` (index in the training graph);
  /// returns false when no layer has that node.
  bool set_lut_scale(int node, double factor);
  /// Sets the scale factor of the linear layer named `name`; false when none has that name.
  bool set_lut_scale(const std::string &name, double factor);
  /// The linear layers of the LUT cost, in graph order, with their last surrogate values.
  const std::vector<LutLayer> &lut_layers() const { return layers_; }
  /// Sets the scale factor of the rest of the LUT cost (pooling, products, rounding, ReLU,
  /// tables: everything but the linear layers).
  void set_lut_rest_scale(double factor) { rest_scale_ = factor; }
  /// The rest of the LUT cost at the last add_luts(), as a LutLayer (node -1, name "rest").
  LutLayer lut_rest() const { return LutLayer{-1, "rest", rest_raw_, rest_scale_}; }

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
  /// Finds the LUT cost's view of the EBOPs terms and its own terms (constructor's second half).
  void find_lut_terms(const Graph &g, const std::vector<HgqQuantizer> &quants);
  /// EBOPs of one term (not a pooling one) at the current widths; when `grad`, adds beta * d
  /// EBOPs / d width(e) * live(e) to egrad.
  static double term_ebops(const Graph &g, EbopsTerm &t, const std::vector<HgqQuantizer> &quants,
                           double beta, std::vector<std::vector<float>> &egrad, bool grad);
  /// Surrogate LUTs of an average pool of a graph input and the quantizer narrowing it (rom_q
  /// >= 0), each window as adders and rounding or as a ROM; when `grad`, adds rb * d LUTs /
  /// d width * live to egrad.
  static double pooled_rom_luts(const EbopsTerm &t, const std::vector<HgqQuantizer> &quants,
                                double rb, std::vector<std::vector<float>> &egrad, bool grad);
  /// Surrogate LUTs of a linear layer (weight digits from `wq` or the term's constant digits).
  double linear_luts(const Graph &g, EbopsTerm &t, const std::vector<HgqQuantizer> &quants,
                     const TrainTensor *wq, double beta, std::vector<std::vector<float>> &egrad);

  std::vector<EbopsTerm> terms_;
  std::vector<TableTerm> tables_;
  std::vector<LutLayer> layers_;
  double rest_raw_ = 0, rest_scale_ = 1; ///< the rest of the LUT cost (lut_rest())
  std::vector<int> requant_;             ///< activation quantizers that round (all but the input's)
  std::vector<int> relu_;                ///< activation quantizers whose values a ReLU gates
};

} // namespace hgqc
