// Helpers shared by the LUT cost's tests (lut_helpers.h).
#include "lut_helpers.h"

#include "grad_check.h"

#include <cmath>

namespace hgqc::test {

std::vector<TrainTensor> quantized_weights(const Graph &g, const std::vector<HgqQuantizer> &qs) {
  std::vector<TrainTensor> r(qs.size());
  for (size_t q = 0; q < qs.size(); ++q) {
    if (!qs[q].weight)
      continue;
    const Tensor &w = *g.values[g.nodes[static_cast<size_t>(qs[q].node)].inputs[0]].constant;
    r[q].resize(qs[q].dims);
    for (int64_t e = 0; e < qs[q].n; ++e)
      r[q].v[static_cast<size_t>(e)] =
          std::nearbyint(static_cast<float>(w[e]) * qs[q].scale[e]) / qs[q].scale[e];
  }
  return r;
}

std::vector<const TrainTensor *> pointers(const std::vector<TrainTensor> &w) {
  std::vector<const TrainTensor *> p;
  for (const TrainTensor &t : w)
    p.push_back(t.v.empty() ? nullptr : &t);
  return p;
}

std::vector<std::vector<float>> zero_grads(const std::vector<HgqQuantizer> &qs) {
  std::vector<std::vector<float>> e;
  for (const HgqQuantizer &q : qs)
    e.emplace_back(static_cast<size_t>(q.n), 0.0f);
  return e;
}

Graph hgq_gated_mlp() {
  Graph g = gated_mlp(true);
  insert_hgq_quantizers(g);
  return g;
}

BatchData two_rows(std::vector<float> &x, std::vector<int32_t> &lab, int64_t d) {
  x.resize(static_cast<size_t>(2 * d));
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = 0.37f * static_cast<float>(i % 9) - 1.2f;
  lab = {0, 1};
  return BatchData{x.data(), lab.data(), nullptr, 2};
}

std::unique_ptr<TrainEngine> stepped_classify(const Graph &g, int64_t d) {
  EngineOptions eo;
  eo.init_f_act = 3;
  eo.range_decay = 0;
  auto eng = std::make_unique<TrainEngine>(g, eo);
  std::vector<float> x;
  std::vector<int32_t> lab;
  const BatchData b = two_rows(x, lab, d);
  eng->step(b, 0, 0);
  eng->step(b, 0, 0);
  return eng;
}

} // namespace hgqc::test
