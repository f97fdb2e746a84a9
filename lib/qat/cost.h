// The hardware cost surrogates of HGQ training (method.md §2): EBOPs of the linear and pooling
// nodes and the width term, with their gradients with respect to each element's width.
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

/// The cost terms of a training graph, found once; evaluated at each step's widths.
class CostModel {
public:
  /// Finds the EBOPs terms of `g`: nodes with an EBOPs hook reading an activation quantizer
  /// (quant_of: by node, the quantizer index or -1) and a weight quantizer, a second
  /// activation quantizer or an untrained constant (`is_const`), and pooling nodes with
  /// addend counts. Node `skip_node` (an output Softmax fused into the loss) is left out.
  CostModel(const Graph &g, const std::vector<HgqQuantizer> &quants,
            const std::vector<int> &quant_of, const std::function<bool(ValueId)> &is_const,
            int skip_node);

  /// EBOPs at the quantizers' current widths; adds beta * d EBOPs / d width(e) * live(e) to
  /// egrad[quantizer][e].
  double add_ebops(const Graph &g, const std::vector<HgqQuantizer> &quants, double beta,
                   std::vector<std::vector<float>> &egrad);

  /// The sum of all quantizers' widths; sets fgrad[quantizer] (by fractional-bit parameter)
  /// to the sum over the elements sharing it of egrad + gamma * live.
  static double fold_widths(const std::vector<HgqQuantizer> &quants, double gamma,
                            const std::vector<std::vector<float>> &egrad,
                            std::vector<std::vector<float>> &fgrad);

  /// The EBOPs terms (for tests).
  const std::vector<EbopsTerm> &terms() const { return terms_; }

private:
  std::vector<EbopsTerm> terms_;
};

} // namespace hgqc
