// The Pareto front of `hgqc train`: exact evaluation of saved quantized models (the integer
// emulator, as `hgqc run --fixed` runs it; the LUT estimate of emit-verilog's design), the
// calibration pass, the front and its plot.
#include "qat/pareto.h"

#include "backend/emit.h"

#include "frontend/data_io.h"
#include "frontend/fixed_model.h"
#include "frontend/onnx_export.h"
#include "frontend/onnx_import.h"
#include "ir/fixed_eval.h"
#include "ir/op.h"
#include "ir/ops/table_common.h"
#include "ir/passes/passes.h"
#include "qat/hgq.h"
#include "qat/pool.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>

namespace hgqc {

namespace {
// Rows [r0, r1) of a batched tensor.
Tensor rows_of(const Tensor &x, int64_t r0, int64_t r1) {
  Dims d = x.shape();
  int64_t per = x.numel() / d[0];
  d[0] = r1 - r0;
  std::vector<double> v(x.data().begin() + r0 * per, x.data().begin() + r1 * per);
  return Tensor(x.dtype(), d, std::move(v));
}

bool act_quant(const Graph &g, const Node &n) {
  return n.op == OpKind::FixedQuant && !g.values[n.inputs[0]].constant;
}

// The LUT estimate of `c` from its fixed-point graph `g` (read_fixed_model of c.file).
void estimate_luts(Checkpoint &c, Graph g) {
  c.luts_estimate = -1;
  c.adders = 0;
  c.layers.clear();
  c.lut_error.clear();
  try {
    prepare_fixed_design(g, c.file);
    RangeAnalysis ra = analyze_ranges(g);
    backend::DesignFigures f = backend::estimate_design(g, ra);
    c.luts_estimate = f.total.luts;
    c.adders = f.total.adders;
    for (const backend::LayerFigures &l : f.layers)
      c.layers.push_back({l.name, l.luts, l.adders});
  } catch (const UserError &e) {
    c.lut_error = e.with_location(Location{c.file}).what();
  }
}

// Estimated LUTs when both have them, else EBOPs: the cost the front ranks on.
bool lut_ranked(const Checkpoint &a, const Checkpoint &b) {
  return a.luts_estimate >= 0 && b.luts_estimate >= 0;
}
} // namespace

void estimate_checkpoint_luts(Checkpoint &c) { estimate_luts(c, read_fixed_model(c.file)); }

void evaluate_checkpoint(Checkpoint &c, const Dataset &val, TaskKind task, int threads) {
  Graph g = read_fixed_model(c.file);
  RangeAnalysis ra;
  try {
    ra = analyze_ranges(g);
  } catch (const UserError &e) {
    throw e.with_location(Location{c.file});
  }
  c.ebops = 0;
  for (double e : node_ebops(g, ra))
    c.ebops += e;
  const int64_t block = 2048, nb = (val.n + block - 1) / block;
  std::vector<int64_t> hits(static_cast<size_t>(nb), 0), over(static_cast<size_t>(nb), 0);
  std::vector<double> sq(static_cast<size_t>(nb), 0);
  const ValueRange &ry = *ra.ranges[g.outputs[0]];
  Pool pool(threads);
  pool.for_blocks(nb, [&](int64_t b) {
    int64_t r0 = b * block, r1 = std::min(val.n, r0 + block);
    FixedRun r = evaluate_fixed(g, ra, {rows_of(val.x, r0, r1)});
    for (size_t ni = 0; ni < g.nodes.size(); ++ni)
      if (act_quant(g, g.nodes[ni]))
        over[static_cast<size_t>(b)] += r.overflows[ni];
    Tensor y = fixed_to_tensor(r.outputs[0], ry);
    int64_t rows = r1 - r0, cols = y.numel() / std::max<int64_t>(rows, 1);
    for (int64_t i = 0; i < rows; ++i) {
      if (task == TaskKind::Classify) {
        // The rule of `hgqc run --labels`: the first largest output wins.
        int64_t best = 0;
        for (int64_t k = 1; k < cols; ++k)
          if (y[i * cols + k] > y[i * cols + best])
            best = k;
        hits[static_cast<size_t>(b)] += best == val.labels[static_cast<size_t>(r0 + i)];
      } else {
        for (int64_t k = 0; k < cols; ++k) {
          double d = y[i * cols + k] - val.targets[static_cast<size_t>((r0 + i) * cols + k)];
          sq[static_cast<size_t>(b)] += d * d;
        }
      }
    }
  });
  c.correct = 0;
  c.overflows = 0;
  double s = 0;
  for (size_t b = 0; b < hits.size(); ++b) {
    c.correct += hits[b];
    c.overflows += over[b];
    s += sq[b];
  }
  c.total = val.n;
  c.accuracy = static_cast<double>(c.correct) / static_cast<double>(val.n);
  int64_t outs = val.targets.empty() ? 1 : static_cast<int64_t>(val.targets.size()) / val.n;
  c.mse = s / static_cast<double>(val.n * outs);
  estimate_luts(c, std::move(g));
}

bool covers(const Checkpoint &a, const Checkpoint &b, TaskKind task) {
  bool better = task == TaskKind::Classify ? a.correct >= b.correct : a.mse <= b.mse;
  bool cheaper = lut_ranked(a, b) ? a.luts_estimate <= b.luts_estimate : a.ebops <= b.ebops;
  return better && cheaper;
}

bool update_front(std::vector<Checkpoint> &front, const Checkpoint &c, TaskKind task) {
  for (const Checkpoint &m : front)
    if (covers(m, c, task)) {
      std::error_code ec;
      std::filesystem::remove(c.file, ec);
      return false;
    }
  std::vector<Checkpoint> keep;
  for (Checkpoint &m : front) {
    if (covers(c, m, task)) {
      std::error_code ec;
      std::filesystem::remove(m.file, ec);
    } else {
      keep.push_back(std::move(m));
    }
  }
  keep.push_back(c);
  bool luts = true;
  for (const Checkpoint &m : keep)
    luts &= m.luts_estimate >= 0;
  std::sort(keep.begin(), keep.end(), [luts](const Checkpoint &a, const Checkpoint &b) {
    if (luts && a.luts_estimate != b.luts_estimate)
      return a.luts_estimate < b.luts_estimate;
    if (a.ebops != b.ebops)
      return a.ebops < b.ebops;
    return a.epoch < b.epoch;
  });
  front = std::move(keep);
  return true;
}

void calibrate_checkpoint(const std::string &file, const Dataset &data, double cover, int threads) {
  if (!(cover >= 1))
    throw UserError("the cover factor must be >= 1");
  Graph g = import_onnx(file);
  normalize(g);
  // The activation quantizers and their per-element formats.
  struct Act {
    size_t node;
    std::vector<FixedFormat> fmt;
    Dims dims;
    bool feeds_table = false; ///< a table function reads the quantizer
  };
  std::vector<Act> acts;
  for (size_t ni = 0; ni < g.nodes.size(); ++ni) {
    const Node &n = g.nodes[ni];
    if (!act_quant(g, n))
      continue;
    Dims d = range_dims(g.values[n.inputs[0]].type.dims);
    bool table = false;
    for (const Node &u : g.nodes)
      table |= op_def(u.op).table && !u.inputs.empty() && u.inputs[0] == n.outputs[0];
    acts.push_back({ni,
                    broadcast_formats(*g.constant_of(n.inputs[1]), *g.constant_of(n.inputs[2]),
                                      *g.constant_of(n.inputs[3]), d),
                    d, table});
  }
  auto set_formats = [&](Graph &h, const Act &a, const std::vector<FixedFormat> &f) {
    Node &n = h.nodes[a.node];
    Tensor tk(DType::Int64, a.dims), ti(DType::Int64, a.dims), tf(DType::Int64, a.dims);
    for (size_t e = 0; e < f.size(); ++e) {
      tk[static_cast<int64_t>(e)] = f[e].k;
      ti[static_cast<int64_t>(e)] = f[e].i;
      tf[static_cast<int64_t>(e)] = f[e].f;
    }
    const std::string base = h.values[n.inputs[0]].name;
    n.inputs[1] = h.add_constant(base + "_k", std::move(tk));
    n.inputs[2] = h.add_constant(base + "_i", std::move(ti));
    n.inputs[3] = h.add_constant(base + "_f", std::move(tf));
  };
  std::vector<std::vector<int64_t>> lo(acts.size()), hi(acts.size());
  std::vector<std::vector<double>> xmax(acts.size());
  for (int headroom = 4;; headroom += 8) {
    if (headroom > 60)
      throw UserError("calibration could not find formats wide enough for the training data",
                      {file});
    // Widened copy: every kept element gets `headroom` more integer bits and a sign bit.
    // A table function's input keeps its width (at most ops::kMaxTableInputWidth bits): its
    // extra integer bits come from its fractional bits, a coarser grid for the probe.
    Graph w = g;
    for (const Act &a : acts) {
      std::vector<FixedFormat> f = a.fmt;
      for (FixedFormat &x : f) {
        if (x.pruned())
          continue;
        x = FixedFormat{1, std::min(x.i + headroom, kMaxFixedWidth - 1 - x.f), x.f};
        if (a.feeds_table && x.width() > ops::kMaxTableInputWidth)
          x.f -= x.width() - ops::kMaxTableInputWidth;
      }
      set_formats(w, a, f);
    }
    w.remove_dead();
    // A quantizer that alone reads a table function is folded into it by to_fixed
    // (fuse_table_quant): it is found under the table node's name, fused.
    std::vector<std::string> names, table_names;
    std::vector<int> prod = g.producers();
    for (const Act &a : acts) {
      names.push_back(g.nodes[a.node].name);
      int p = prod[g.nodes[a.node].inputs[0]];
      table_names.push_back(p >= 0 && op_def(g.nodes[static_cast<size_t>(p)].op).table
                                ? g.nodes[static_cast<size_t>(p)].name
                                : "");
    }
    to_fixed(w);
    // Probe the outputs of the activation quantizers (by node name), then their inputs.
    std::vector<size_t> probe_nodes;
    std::vector<char> fused;
    for (size_t k = 0; k < names.size(); ++k)
      for (size_t ni = 0; ni < w.nodes.size(); ++ni) {
        const Node &n = w.nodes[ni];
        bool in_table = !table_names[k].empty() && n.name == table_names[k] && op_def(n.op).table &&
                        n.inputs.size() == 4;
        if (n.name == names[k] || in_table) {
          probe_nodes.push_back(ni);
          fused.push_back(in_table);
          w.outputs.push_back(n.outputs[0]);
          break;
        }
      }
    HGQC_ASSERT(probe_nodes.size() == acts.size(), "activation quantizer lost in lowering");
    // A quantizer of the graph input reads floats: its maximum comes from the data itself. A
    // fused table has no value before its rounding: its maximum is its own output's (the
    // widened format does not saturate, so that is the value rounded).
    std::vector<char> on_input;
    for (size_t k = 0; k < probe_nodes.size(); ++k) {
      ValueId x = w.nodes[probe_nodes[k]].inputs[0];
      on_input.push_back(std::find(w.inputs.begin(), w.inputs.end(), x) != w.inputs.end());
      if (!on_input.back() && !fused[k])
        w.outputs.push_back(x);
    }
    RangeAnalysis ra;
    try {
      ra = analyze_ranges(w);
    } catch (const UserError &e) {
      throw UserError("calibration could not widen the activation formats within " +
                          std::to_string(kMaxFixedWidth) + " bits (" + e.what() + ")",
                      {file});
    }
    const int64_t block = 4096, nb = (data.n + block - 1) / block;
    std::vector<std::vector<std::vector<int64_t>>> blo(static_cast<size_t>(nb)),
        bhi(static_cast<size_t>(nb));
    std::vector<std::vector<std::vector<double>>> bxmax(static_cast<size_t>(nb));
    std::vector<int64_t> over(static_cast<size_t>(nb), 0);
    Pool pool(threads);
    pool.for_blocks(nb, [&](int64_t b) {
      int64_t r0 = b * block, r1 = std::min(data.n, r0 + block);
      std::vector<Tensor> in{rows_of(data.x, r0, r1)};
      FixedRun r = evaluate_fixed(w, ra, in);
      const Tensor &xs = in[0];
      for (size_t ni : probe_nodes)
        over[static_cast<size_t>(b)] += r.overflows[ni];
      auto &L = blo[static_cast<size_t>(b)], &H = bhi[static_cast<size_t>(b)];
      auto &X = bxmax[static_cast<size_t>(b)];
      for (size_t k = 0, o = 1 + acts.size(); k < acts.size(); ++k) {
        // The largest value before rounding, on the format's grid.
        size_t per = acts[k].fmt.size();
        X.emplace_back(per, -std::numeric_limits<double>::infinity());
        if (on_input[k]) {
          for (int64_t j = 0; j < xs.numel(); ++j) {
            size_t e = static_cast<size_t>(j) % per;
            X.back()[e] = std::max(X.back()[e], std::ldexp(xs[j], acts[k].fmt[e].f));
          }
          continue;
        }
        size_t at = fused[k] ? 1 + k : o++;
        const FixedTensor &t = r.outputs[at];
        const ValueRange &rr = *ra.ranges[w.outputs[at]];
        for (size_t j = 0; j < t.q.size(); ++j) {
          size_t e = j % per;
          X.back()[e] = std::max(X.back()[e],
                                 std::ldexp(fixed_to_double(t.q[j], rr.el[e].f), acts[k].fmt[e].f));
        }
      }
      for (size_t k = 0; k < acts.size(); ++k) {
        const FixedTensor &t = r.outputs[1 + k];
        const ValueRange &rr = *ra.ranges[w.outputs[1 + k]];
        size_t per = acts[k].fmt.size();
        L.emplace_back(per, std::numeric_limits<int64_t>::max());
        H.emplace_back(per, std::numeric_limits<int64_t>::min());
        for (size_t j = 0; j < t.q.size(); ++j) {
          size_t e = j % per;
          // On the format's grid (the range may sit on a coarser one).
          int shift = acts[k].fmt[e].f - rr.el[e].f;
          int64_t q = shift >= 0 ? t.q[j] * (int64_t{1} << shift) : t.q[j];
          L.back()[e] = std::min(L.back()[e], q);
          H.back()[e] = std::max(H.back()[e], q);
        }
      }
    });
    int64_t total = 0;
    for (int64_t o : over)
      total += o;
    if (total > 0)
      continue;
    for (size_t k = 0; k < acts.size(); ++k) {
      size_t per = acts[k].fmt.size();
      lo[k].assign(per, std::numeric_limits<int64_t>::max());
      hi[k].assign(per, std::numeric_limits<int64_t>::min());
      xmax[k].assign(per, -std::numeric_limits<double>::infinity());
      for (int64_t b = 0; b < nb; ++b)
        for (size_t e = 0; e < per; ++e) {
          lo[k][e] = std::min(lo[k][e], blo[static_cast<size_t>(b)][k][e]);
          hi[k][e] = std::max(hi[k][e], bhi[static_cast<size_t>(b)][k][e]);
          xmax[k][e] = std::max(xmax[k][e], bxmax[static_cast<size_t>(b)][k][e]);
        }
    }
    break;
  }
  for (size_t k = 0; k < acts.size(); ++k) {
    std::vector<FixedFormat> f = acts[k].fmt;
    for (size_t e = 0; e < f.size(); ++e) {
      if (f[e].pruned())
        continue;
      auto l = static_cast<int64_t>(
          std::floor(static_cast<double>(std::min<int64_t>(lo[k][e], 0)) * cover));
      auto h = static_cast<int64_t>(
          std::ceil(static_cast<double>(std::max<int64_t>(hi[k][e], 0)) * cover));
      // As in training (hgq_act_interval): a maximum that only rounds up to 2^k saturates.
      h = saturate_round_up(h, xmax[k][e] * cover);
      f[e] = (l == 0 && h == 0) ? FixedFormat{0, 0, 0} : Interval{l, h, f[e].f}.min_format();
    }
    set_formats(g, acts[k], f);
  }
  g.remove_dead();
  export_onnx(g, file);
}

std::string front_svg(const std::vector<Checkpoint> &front, const std::vector<Checkpoint> &all,
                      TaskKind task) {
  const double W = 640, H = 420, L = 70, R = 20, T = 30, B = 50;
  auto score = [&](const Checkpoint &c) { return task == TaskKind::Classify ? c.accuracy : c.mse; };
  // The x axis: estimated LUTs, or EBOPs when a checkpoint has no LUT estimate.
  bool luts = true;
  for (const auto *v : {&front, &all})
    for (const Checkpoint &c : *v)
      luts &= c.luts_estimate >= 0;
  auto cost = [&](const Checkpoint &c) {
    return luts ? static_cast<double>(c.luts_estimate) : c.ebops;
  };
  const char *what = luts ? "estimated LUTs" : "EBOPs";
  double xmin = std::numeric_limits<double>::infinity(), xmax = 0, ymin = xmin, ymax = -xmin;
  for (const auto *v : {&front, &all})
    for (const Checkpoint &c : *v) {
      double e = std::max(cost(c), 1.0);
      xmin = std::min(xmin, e);
      xmax = std::max(xmax, e);
      ymin = std::min(ymin, score(c));
      ymax = std::max(ymax, score(c));
    }
  if (!(xmax > 0)) {
    xmin = 1;
    xmax = 10;
    ymin = 0;
    ymax = 1;
  }
  double lx0 = std::floor(std::log10(xmin)), lx1 = std::max(std::ceil(std::log10(xmax)), lx0 + 1);
  if (ymax - ymin < 1e-9) {
    ymin -= 0.01;
    ymax += 0.01;
  }
  double pad = (ymax - ymin) * 0.05;
  ymin -= pad;
  ymax += pad;
  auto px = [&](double e) {
    return L + (std::log10(std::max(e, 1.0)) - lx0) / (lx1 - lx0) * (W - L - R);
  };
  auto py = [&](double s) { return T + (ymax - s) / (ymax - ymin) * (H - T - B); };
  std::string s;
  char buf[256];
  auto add = [&](const char *fmt, auto... a) {
    std::snprintf(buf, sizeof buf, fmt, a...);
    s += buf;
  };
  add("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n",
      W, H);
  add("<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
  add("<text x=\"%g\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">hgqc train: %s vs "
      "%s (Pareto front in blue)</text>\n",
      W / 2, task == TaskKind::Classify ? "validation accuracy" : "validation MSE", what);
  add("<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"black\"/>\n", L, H - B, W - R, H - B);
  add("<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"black\"/>\n", L, T, L, H - B);
  for (double d = lx0; d <= lx1; d += 1) {
    add("<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>\n", px(std::pow(10, d)), T,
        px(std::pow(10, d)), H - B);
    add("<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">1e%g</text>\n", px(std::pow(10, d)),
        H - B + 16, d);
  }
  for (int k = 0; k <= 4; ++k) {
    double v = ymin + (ymax - ymin) * k / 4;
    add("<text x=\"%g\" y=\"%g\" text-anchor=\"end\">%.4g</text>\n", L - 6, py(v) + 4, v);
  }
  add("<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%s</text>\n", (L + W - R) / 2, H - 12,
      luts ? "estimated LUTs (emit-verilog's LUT model, log scale)" : "EBOPs (exact, log scale)");
  for (const Checkpoint &c : all)
    add("<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" fill=\"#aaa\"/>\n", px(cost(c)), py(score(c)));
  std::string path;
  for (const Checkpoint &c : front) {
    std::snprintf(buf, sizeof buf, "%s%.2f,%.2f", path.empty() ? "" : " ", px(cost(c)),
                  py(score(c)));
    path += buf;
  }
  if (!path.empty())
    s += "<polyline fill=\"none\" stroke=\"#36c\" points=\"" + path + "\"/>\n";
  for (const Checkpoint &c : front) {
    add("<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\" fill=\"#36c\"><title>", px(cost(c)), py(score(c)));
    s += std::filesystem::path(c.file).filename().string();
    add(": %.4f, %lld LUTs (est.), %.0f EBOPs</title></circle>\n", score(c),
        static_cast<long long>(c.luts_estimate), c.ebops);
  }
  s += "</svg>\n";
  return s;
}

} // namespace hgqc
