// `hgqc train`: the HGQ training loop from a float ONNX model and data to a Pareto front of
// quantized model files (method.md §2).
#include "qat/trainer.h"

#include "frontend/data_io.h"
#include "frontend/onnx_export.h"
#include "frontend/onnx_import.h"
#include "ir/op.h"
#include "ir/passes/passes.h"
#include "qat/calibrate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>

namespace hgqc {

std::atomic<bool> g_train_stop{false};

namespace {
namespace fs = std::filesystem;

std::string fmt(const char *f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string hms(double s) {
  auto t = static_cast<int64_t>(s + 0.5);
  char b[32];
  if (t >= 3600)
    std::snprintf(b, sizeof b, "%lld:%02lld:%02lld", static_cast<long long>(t / 3600),
                  static_cast<long long>(t / 60 % 60), static_cast<long long>(t % 60));
  else
    std::snprintf(b, sizeof b, "%lld:%02lld", static_cast<long long>(t / 60),
                  static_cast<long long>(t % 60));
  return b;
}

// Puts x -> Mul(x, S) [-> Add(., B)] in front of the network (per feature, S powers of two,
// B on a grid of 2^-8), computed from the training data.
void add_normalization(Graph &g, Normalize mode, const Dataset &d) {
  ValueId x = g.inputs[0];
  const Dims &xd = g.values[x].type.dims;
  Dims pd(xd.begin(), xd.end());
  pd[0] = 1;
  const int64_t per = dims_numel(pd);
  std::vector<double> mx(static_cast<size_t>(per), 0), mean(static_cast<size_t>(per), 0),
      var(static_cast<size_t>(per), 0);
  for (int64_t r = 0; r < d.n; ++r)
    for (int64_t j = 0; j < per; ++j) {
      double v = d.x[r * per + j];
      mx[j] = std::max(mx[j], std::fabs(v));
      mean[j] += v;
    }
  for (double &m : mean)
    m /= static_cast<double>(d.n);
  for (int64_t r = 0; r < d.n; ++r)
    for (int64_t j = 0; j < per; ++j) {
      double v = d.x[r * per + j] - mean[j];
      var[j] += v * v;
    }
  Tensor s(DType::Float32, pd), b(DType::Float32, pd);
  for (int64_t j = 0; j < per; ++j) {
    if (mode == Normalize::Scale) {
      s[j] = mx[j] > 0 ? std::ldexp(1.0, -static_cast<int>(std::ceil(std::log2(mx[j])))) : 1.0;
    } else {
      double sd = std::sqrt(var[j] / static_cast<double>(d.n));
      s[j] = sd > 0 ? std::ldexp(1.0, -static_cast<int>(std::lround(std::log2(sd)))) : 1.0;
      b[j] = std::ldexp(std::round(std::ldexp(-mean[j] * s[j], 8)), -8);
    }
  }
  auto add_node = [&](OpKind op, const char *name, ValueId a, ValueId c) {
    ValueId out = g.add_value(g.fresh_value_name(g.values[x].name + "_" + name), g.values[x].type);
    Node n;
    n.name = g.values[x].name + "_" + name;
    n.op = op;
    n.source_op = op == OpKind::Mul ? "Mul" : "Add";
    n.inputs = {a, c};
    n.outputs = {out};
    return std::pair{n, out};
  };
  auto [mul, y] = add_node(OpKind::Mul, "scale", x, g.add_constant(g.values[x].name + "_scale", s));
  std::vector<Node> front{mul};
  if (mode == Normalize::Standard) {
    auto [add, z] =
        add_node(OpKind::Add, "shift", y, g.add_constant(g.values[x].name + "_shift", b));
    front.push_back(add);
    y = z;
  }
  for (Node &n : g.nodes)
    std::replace(n.inputs.begin(), n.inputs.end(), x, y);
  for (ValueId &o : g.outputs)
    if (o == x)
      o = y;
  g.nodes.insert(g.nodes.begin(), front.begin(), front.end());
  verify(g);
}

// history.csv; `layers`: the LUT cost's linear layers, two columns each (calibrate_luts()).
std::string history_csv(const std::vector<std::vector<std::string>> &rows,
                        const std::vector<LutLayer> &layers) {
  std::string s = "epoch,train_loss,train_accuracy,val_score,ebops,surrogate_ebops,beta,lr,"
                  "train_seconds,samples_per_second,kept,surrogate_tables,luts_estimate,"
                  "surrogate_luts,surrogate_luts_at_eval,exact_luts:rest,surrogate_luts:rest";
  for (const LutLayer &l : layers) {
    std::string name = l.name;
    std::replace(name.begin(), name.end(), ',', '_');
    s += ",exact_luts:" + name + ",surrogate_luts:" + name;
  }
  // Epochs without an evaluation leave the columns after their own empty.
  const size_t cols = static_cast<size_t>(std::count(s.begin(), s.end(), ',')) + 1;
  s += "\n";
  for (const auto &r : rows) {
    for (size_t k = 0; k < std::max(cols, r.size()); ++k)
      s += (k ? "," : "") + (k < r.size() ? r[k] : std::string());
    s += "\n";
  }
  return s;
}

// Calibration of the LUT surrogate against the exact estimate of checkpoint `c` (the design
// emit-verilog builds, CMVM included): appends to `row` (when given) the surrogate total of
// that same model (`at_eval`, from TrainEngine::price_luts, with the scales in force), the
// exact and scaled surrogate LUTs of the rest of the circuit (all but the linear layers) and,
// per linear layer of the LUT cost, the exact LUTs of the IR node of the same name and the
// scaled surrogate; then moves each scale towards exact / raw surrogate, so that the sharing
// CSE finds is learned as a per-layer factor and what the rest's terms miss (e.g. saturation
// logic) as one more, averaged over the recent checkpoints (LutScaleAverage). A layer without
// a surrogate or an exact figure (pruned away, or not built) keeps its scale.
void calibrate_luts(TrainEngine &eng, LutScaleAverage &avg, const Checkpoint &c, double at_eval,
                    std::vector<std::string> *row) {
  auto factor = [](double exact, double raw) { return std::clamp(exact / raw, 0.05, 20.0); };
  std::vector<std::pair<std::string, double>> scales;
  std::vector<std::string> cols;
  double linear_exact = 0;
  for (const LutLayer &l : eng.lut_layers()) {
    auto it = std::find_if(c.layers.begin(), c.layers.end(),
                           [&](const LayerCost &x) { return x.node == l.name; });
    bool have = c.luts_estimate >= 0 && it != c.layers.end();
    cols.push_back(have ? std::to_string(it->luts) : "");
    cols.push_back(fmt("%.6g", l.scaled()));
    if (have)
      linear_exact += static_cast<double>(it->luts);
    if (have && it->luts > 0 && l.raw > 0)
      scales.emplace_back(
          l.name, avg.update(l.name, l.scale, factor(static_cast<double>(it->luts), l.raw), l.raw));
  }
  const LutLayer rest = eng.lut_rest();
  const double rest_exact = static_cast<double>(c.luts_estimate) - linear_exact;
  if (row) {
    row->push_back(fmt("%.6g", at_eval));
    row->push_back(c.luts_estimate >= 0 ? fmt("%.0f", rest_exact) : "");
    row->push_back(fmt("%.6g", rest.scaled()));
    row->insert(row->end(), cols.begin(), cols.end());
  }
  for (const auto &[name, f] : scales)
    eng.set_lut_scale(name, f);
  if (c.luts_estimate >= 0 && rest_exact > 0 && rest.raw > 0)
    eng.set_lut_rest_scale(
        avg.update(std::string(), rest.scale, factor(rest_exact, rest.raw), rest.raw));
}

// The first calibration of the LUT surrogate, at the end of the first epoch when that epoch
// is not evaluated: the model is lowered as a checkpoint is (a scratch file in `dir`, removed
// again) and every scale set as calibrate_luts() sets it. Without it the epochs up to the first
// evaluation train, and its checkpoint is priced, with every scale at 1, where the raw
// surrogate of the starting widths is some 1.4-1.6x the exact estimate (bench/qor). Not after
// the first step: the running activation ranges have not settled there.
void calibrate_luts_early(TrainEngine &eng, LutScaleAverage &avg, const fs::path &dir,
                          double surrogate, const std::function<void(const std::string &)> &log) {
  if (eng.lut_layers().empty())
    return;
  Checkpoint c;
  c.file = (dir / ".lut_calibration_epoch1.onnx").string();
  export_onnx(eng.export_graph(1.0), c.file);
  estimate_checkpoint_luts(c);
  std::error_code ec;
  fs::remove(c.file, ec);
  calibrate_luts(eng, avg, c, surrogate, nullptr);
  log(c.luts_estimate >= 0
          ? "LUT surrogate calibrated after epoch 1: " + fmt("%.0f", surrogate) +
                " surrogate against " + std::to_string(c.luts_estimate) + " estimated LUTs"
          : "LUT surrogate not calibrated after epoch 1: " + c.lut_error);
}

// A figure of the LUT estimate, or "" (in the table "-") when the design cannot be built.
std::string lut_field(int64_t v, const Checkpoint &c, const char *none = "-") {
  return c.luts_estimate >= 0 ? std::to_string(v) : none;
}

std::string summary_table(const std::vector<Checkpoint> &front, TaskKind task,
                          const std::string &dir, bool calibrated) {
  std::string s = "Pareto front: " + std::to_string(front.size()) + " model(s) in " + dir +
                  (calibrated ? " (calibrated on the training data)" : " (not calibrated)") +
                  "; validation " + (task == TaskKind::Classify ? "accuracy" : "MSE") +
                  " from the integer emulator, as `hgqc run --fixed` computes it\n";
  char b[512];
  std::snprintf(b, sizeof b, "  %-40s %6s  %-26s %14s %10s %8s\n", "model", "epoch",
                task == TaskKind::Classify ? "accuracy" : "mse", "EBOPs", "LUTs(est)", "adders");
  s += b;
  for (const Checkpoint &c : front) {
    std::string score = task == TaskKind::Classify
                            ? fmt("%.4f", c.accuracy) + " (" + std::to_string(c.correct) + " of " +
                                  std::to_string(c.total) + ")"
                            : fmt("%.6g", c.mse);
    std::snprintf(b, sizeof b, "  %-40s %6d  %-26s %14.0f %10s %8s\n", c.file.c_str(), c.epoch,
                  score.c_str(), c.ebops, lut_field(c.luts_estimate, c).c_str(),
                  lut_field(c.adders, c).c_str());
    s += b;
  }
  return s;
}

std::string front_csv(const std::vector<Checkpoint> &front) {
  std::string s =
      "file,epoch,correct,total,accuracy,mse,ebops,val_overflows,luts_estimate,adders\n";
  for (const Checkpoint &c : front)
    s += fs::path(c.file).filename().string() + "," + std::to_string(c.epoch) + "," +
         std::to_string(c.correct) + "," + std::to_string(c.total) + "," + fmt("%.6f", c.accuracy) +
         "," + fmt("%.9g", c.mse) + "," + fmt("%.0f", c.ebops) + "," + std::to_string(c.overflows) +
         "," + lut_field(c.luts_estimate, c, "") + "," + lut_field(c.adders, c, "") + "\n";
  return s;
}
} // namespace

TrainResult train(const TrainOptions &opt, const std::function<void(const std::string &)> &log) {
  // ---- Checks, before anything is trained or written.
  if (opt.epochs < 1)
    throw UserError("--epochs must be at least 1");
  if (opt.lr_cycles < 1 || opt.lr_cycles > opt.epochs)
    throw UserError("--lr-cycles must lie in [1, --epochs]: got " + std::to_string(opt.lr_cycles));
  if (opt.batch < 1)
    throw UserError("--batch must be at least 1");
  if (!(opt.lr > 0))
    throw UserError("--lr must be positive");
  if (opt.threads < 1 || opt.threads > 256)
    throw UserError("--threads must be between 1 and 256");
  if (!(opt.beta0 >= 0) || !(opt.beta1 >= 0) || !(opt.gamma >= 0))
    throw UserError("--beta0, --beta1 and --gamma must be >= 0");
  if (opt.beta_schedule == BetaSchedule::Log && !(opt.beta0 > 0 && opt.beta1 > 0))
    throw UserError("--beta-schedule log needs --beta0 and --beta1 > 0");
  if (opt.target_luts && opt.beta_schedule != BetaSchedule::Pid)
    throw UserError("--target-luts needs --beta-schedule pid");
  if (opt.target_luts && !(*opt.target_luts > 0))
    throw UserError("--target-luts must be positive");
  if (opt.beta_schedule == BetaSchedule::Pid && opt.target_luts && opt.target_ebops > 0)
    throw UserError("--beta-schedule pid takes one target: --target-ebops or --target-luts");
  if (opt.beta_schedule == BetaSchedule::Pid &&
      !((opt.target_ebops > 0 || opt.target_luts) && opt.beta0 > 0))
    throw UserError(
        "--beta-schedule pid needs --target-ebops or --target-luts > 0, and --beta0 > 0");
  if (!(opt.cover >= 1))
    throw UserError("--cover-factor must be >= 1");
  if (opt.val.files.empty() && !(opt.val_split > 0 && opt.val_split < 1))
    throw UserError("--val-split must lie strictly between 0 and 1");
  if (opt.eval_every < 1)
    throw UserError("--eval-every must be at least 1");
  if ((!std::isnan(opt.init_f_weight) &&
       (opt.init_f_weight < kMinFrac || opt.init_f_weight > kMaxFrac)) ||
      !(opt.init_f_act >= kMinFrac && opt.init_f_act <= kMaxFrac))
    throw UserError("--init-f must lie in [" + fmt("%g", kMinFrac) + ", " + fmt("%g", kMaxFrac) +
                    "]");

  Graph g = import_onnx(opt.model);
  normalize(g);
  if (g.inputs.size() != 1 || g.outputs.size() != 1)
    throw UserError("training supports models with one input and one output", {opt.model});
  const Value &in = g.values[g.inputs[0]];
  Dims sample(in.type.dims.begin() + (in.type.dims.empty() ? 0 : 1), in.type.dims.end());
  for (int64_t dd : sample)
    if (dd == kDynamic || in.type.dims[0] != kDynamic)
      throw UserError("input '" + in.name + "' has shape " + dims_str(in.type.dims) +
                          ": training needs a free batch dimension first and the rest known",
                      {opt.model});
  const Dims &od = g.values[g.outputs[0]].type.dims;
  if (od.size() < 2)
    throw UserError("output has shape " + dims_str(od) + "; training needs [N, ...]", {opt.model});
  const int64_t out_size = dims_numel(Dims(od.begin() + 1, od.end()));
  std::optional<TaskKind> task = opt.task;
  Dataset tr = load_dataset(opt.data, in.name, sample, out_size, task);
  Dataset val;
  bool split = opt.val.files.empty();
  if (split)
    split_dataset(tr, opt.val_split, opt.seed, val);
  else
    val = load_dataset(opt.val, in.name, sample, out_size, task);

  if (opt.normalize != Normalize::None)
    add_normalization(g, opt.normalize, tr);
  try {
    insert_hgq_quantizers(g);
  } catch (const UserError &e) {
    throw e.with_location(Location{opt.model});
  }
  EngineOptions eo;
  eo.threads = opt.threads;
  eo.task = *task;
  eo.init_f_weight = opt.init_f_weight;
  eo.init_f_act = opt.init_f_act;
  // The input quantizer starts on the data's grid when that is coarser: more fractional bits
  // than the data have would cost EBOPs and bus width for nothing.
  eo.init_f_input =
      static_cast<float>(data_frac_bits(tr, static_cast<int>(std::ceil(opt.init_f_act))));
  eo.act_share_axes = opt.act_share_axes;
  eo.cost = opt.cost;
  std::unique_ptr<TrainEngine> engp;
  try {
    engp = std::make_unique<TrainEngine>(g, eo);
  } catch (const UserError &e) {
    throw e.with_location(Location{opt.model});
  }
  TrainEngine &eng = *engp;

  // The output directory: created, but never mixed with an earlier run's front.
  fs::path dir(opt.out_dir);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw UserError("exists and is not a directory", {opt.out_dir});
  fs::create_directories(dir, ec);
  if (ec)
    throw UserError("cannot create the output directory: " + ec.message(), {opt.out_dir});
  for (const auto &e : fs::directory_iterator(dir)) {
    std::string nm = e.path().filename().string();
    if (nm.starts_with("epoch_") && nm.ends_with(".onnx"))
      throw UserError("already holds models of an earlier run (" + nm +
                          "): give another output directory or remove them",
                      {opt.out_dir});
  }
  if (split) {
    std::vector<double> yv;
    if (*task == TaskKind::Classify)
      yv.assign(val.labels.begin(), val.labels.end());
    else
      yv.assign(val.targets.begin(), val.targets.end());
    Dims yd{val.n};
    if (*task == TaskKind::Regress)
      yd.push_back(out_size);
    write_npy((dir / "val_x.npy").string(), val.x);
    write_npy((dir / "val_y.npy").string(),
              Tensor(*task == TaskKind::Classify ? DType::Int64 : DType::Float32, yd, yv));
  }
  log("training " + opt.model + ": " + std::to_string(eng.weight_count()) + " weights, " +
      std::to_string(eng.quantizers().size()) + " HGQ quantizers; " + std::to_string(tr.n) +
      " training and " + std::to_string(val.n) + " validation samples (" +
      (split ? "held out of --data, written to val_x.npy/val_y.npy" : "--val") + "), " +
      (*task == TaskKind::Classify ? std::to_string(out_size) + "-class classification"
                                   : "regression") +
      ", " + std::to_string(opt.threads) + " thread(s)");

  Optimizer optim(opt.optimizer, eng.params());
  const int64_t spe = (tr.n + opt.batch - 1) / opt.batch, total = spe * opt.epochs;
  const LrSchedule lr_at{opt.lr, spe, opt.epochs, opt.lr_cycles};
  std::mt19937_64 rng(opt.seed);
  std::vector<int64_t> idx(static_cast<size_t>(tr.n));
  std::iota(idx.begin(), idx.end(), 0);
  std::vector<float> bx, bt;
  std::vector<int32_t> bl;
  TrainResult res;
  res.task = *task;
  std::vector<Checkpoint> front;
  std::vector<std::vector<std::string>> hist;
  double log_beta = std::log(std::max(opt.beta0, 1e-300)), pid_prev = 0, train_seconds = 0;
  LutScaleAverage lut_cal;
  int64_t step = 0;
  using Clock = std::chrono::steady_clock;
  auto last_draw = Clock::now() - std::chrono::seconds(1);
  auto beta_at = [&](int64_t s) {
    switch (opt.beta_schedule) {
    case BetaSchedule::Const:
      return opt.beta0;
    case BetaSchedule::Log: {
      double t = total > 1 ? static_cast<double>(s) / static_cast<double>(total - 1) : 1.0;
      return std::exp(std::log(opt.beta0) + t * (std::log(opt.beta1) - std::log(opt.beta0)));
    }
    case BetaSchedule::Pid:
      return std::exp(log_beta);
    }
    return opt.beta0;
  };

  for (int epoch = 1; epoch <= opt.epochs && !res.interrupted; ++epoch) {
    std::shuffle(idx.begin(), idx.end(), rng);
    double loss_sum = 0, ebops_sum = 0, tables_sum = 0, luts_sum = 0, beta = 0, lr = 0;
    int64_t correct = 0, seen = 0, steps_done = 0;
    StepStats st;
    auto t0 = Clock::now();
    for (int64_t s = 0; s < spe; ++s) {
      int64_t b0 = s * opt.batch, b1 = std::min(tr.n, b0 + opt.batch);
      gather_rows(tr, idx, b0, b1, out_size, bx, bl, bt);
      beta = beta_at(step);
      st = eng.step(
          {bx.data(), bl.empty() ? nullptr : bl.data(), bt.empty() ? nullptr : bt.data(), b1 - b0},
          beta, opt.gamma);
      lr = lr_at.at(step);
      optim.step(lr);
      eng.clamp_frac_bits();
      ++step;
      ++steps_done;
      loss_sum += st.loss * static_cast<double>(b1 - b0);
      correct += st.correct;
      seen += b1 - b0;
      ebops_sum += st.ebops;
      tables_sum += st.tables;
      luts_sum += st.luts;
      if (opt.progress_tty && Clock::now() - last_draw > std::chrono::milliseconds(250)) {
        last_draw = Clock::now();
        double el = std::chrono::duration<double>(Clock::now() - t0).count();
        double rate = static_cast<double>(seen) / std::max(el, 1e-9);
        double eta = static_cast<double>(total - step) * static_cast<double>(opt.batch) / rate;
        std::string line = "\repoch " + std::to_string(epoch) + "/" + std::to_string(opt.epochs) +
                           " step " + std::to_string(s + 1) + "/" + std::to_string(spe) + " loss " +
                           fmt("%.4f", loss_sum / static_cast<double>(seen));
        if (*task == TaskKind::Classify)
          line += " acc " + fmt("%.4f", static_cast<double>(correct) / static_cast<double>(seen));
        line += " EBOPs " + fmt("%.4g", st.ebops) + " beta " + fmt("%.3g", beta) + " " +
                fmt("%.0f", rate) + " samples/s ETA " + hms(eta) + "   ";
        log(line);
      }
      if (g_train_stop.load()) {
        res.interrupted = true;
        break;
      }
    }
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    train_seconds += secs;
    if (opt.progress_tty)
      log("\r\x1b[K");
    if (res.interrupted && steps_done < spe) {
      log("interrupted in epoch " + std::to_string(epoch) + " after step " +
          std::to_string(steps_done) + " of " + std::to_string(spe) +
          "; the front of the finished epochs is kept");
      break;
    }
    double mean_ebops = ebops_sum / static_cast<double>(std::max<int64_t>(steps_done, 1));
    // Velocity-form PI on the log error: beta rises while the cost is above the target.
    auto pid_step = [&](double cost, double target) {
      double err = std::log(cost / target);
      log_beta += 0.5 * (err - pid_prev) + 0.3 * err;
      log_beta = std::clamp(log_beta, std::log(1e-12), std::log(1.0));
      pid_prev = err;
    };
    if (opt.beta_schedule == BetaSchedule::Pid && !opt.target_luts && mean_ebops > 0)
      pid_step(mean_ebops, opt.target_ebops);
    std::string line = "epoch " + std::to_string(epoch) + "/" + std::to_string(opt.epochs) +
                       ": loss " + fmt("%.4f", loss_sum / static_cast<double>(seen));
    if (*task == TaskKind::Classify)
      line +=
          ", train acc " + fmt("%.4f", static_cast<double>(correct) / static_cast<double>(seen));
    const double mean_luts = luts_sum / static_cast<double>(std::max<int64_t>(steps_done, 1));
    if (opt.cost == CostKind::Luts)
      line += ", LUTs~" + fmt("%.4g", mean_luts);
    line += ", EBOPs~" + fmt("%.4g", mean_ebops) + ", beta " + fmt("%.3g", beta) + ", " +
            fmt("%.0f", static_cast<double>(seen) / std::max(secs, 1e-9)) + " samples/s";
    std::vector<std::string> row{
        std::to_string(epoch),
        fmt("%.6g", loss_sum / static_cast<double>(seen)),
        fmt("%.6f", static_cast<double>(correct) / static_cast<double>(seen)),
        "",
        "",
        fmt("%.6g", mean_ebops),
        fmt("%.6g", beta),
        fmt("%.6g", lr),
        fmt("%.3f", secs),
        fmt("%.0f", static_cast<double>(seen) / std::max(secs, 1e-9)),
        "",
        fmt("%.6g", tables_sum / static_cast<double>(std::max<int64_t>(steps_done, 1))),
        "",
        fmt("%.6g", mean_luts)};
    const bool evaluate =
        epoch % opt.eval_every == 0 || lr_at.ends_cycle(epoch) || g_train_stop.load();
    if (evaluate) {
      char name[32];
      std::snprintf(name, sizeof name, "epoch_%04d.onnx", epoch);
      Checkpoint c;
      c.file = (dir / name).string();
      c.epoch = epoch;
      export_onnx(eng.export_graph(1.0), c.file);
      evaluate_checkpoint(c, val, *task, opt.threads);
      bool kept = update_front(front, c, *task);
      res.history.push_back(c);
      row[3] = *task == TaskKind::Classify ? fmt("%.6f", c.accuracy) : fmt("%.9g", c.mse);
      row[4] = fmt("%.0f", c.ebops);
      row[10] = kept ? "1" : "0";
      row[12] = lut_field(c.luts_estimate, c, "");
      calibrate_luts(eng, lut_cal, c, eng.price_luts(), &row);
      line += "; val " +
              (*task == TaskKind::Classify ? "acc " + fmt("%.4f", c.accuracy)
                                           : "mse " + fmt("%.6g", c.mse)) +
              ", EBOPs " + fmt("%.0f", c.ebops) + ", LUTs " + lut_field(c.luts_estimate, c) +
              (kept ? ", on the front (" : ", dominated (") + std::to_string(front.size()) +
              " model(s))";
      if (opt.beta_schedule == BetaSchedule::Pid && opt.target_luts) {
        // The LUT target is steered on the checkpoint just evaluated: beta changes once per
        // evaluation, for the epochs up to the next one.
        if (c.luts_estimate < 0)
          throw UserError("--target-luts needs the LUT estimate, but the design cannot be built (" +
                          c.lut_error + ")");
        pid_step(std::max<double>(static_cast<double>(c.luts_estimate), 1), *opt.target_luts);
      }
    }
    hist.push_back(row);
    write_file_atomic((dir / "history.csv").string(), history_csv(hist, eng.lut_layers()));
    log(line);
    if (epoch == 1 && !evaluate)
      calibrate_luts_early(eng, lut_cal, dir, eng.price_luts(), log);
    if (g_train_stop.load())
      res.interrupted = true;
  }

  bool calibrated = false;
  if (!res.interrupted && opt.calibrate && !front.empty()) {
    log("calibrating " + std::to_string(front.size()) +
        " model(s) on the training data (cover factor " + fmt("%g", opt.cover) + ")");
    std::vector<Checkpoint> old = front, fresh;
    for (Checkpoint c : old) {
      calibrate_in_passes(c.file, tr, opt.cover, opt.threads);
      evaluate_checkpoint(c, val, *task, opt.threads);
      update_front(fresh, c, *task);
    }
    front = fresh;
    calibrated = true;
  }
  res.front = front;
  write_file_atomic((dir / "front.csv").string(), front_csv(front));
  write_file_atomic((dir / "front.svg").string(), front_svg(front, res.history, *task));
  res.summary = summary_table(front, *task, opt.out_dir, calibrated);
  res.summary += "training: " + fmt("%.1f", train_seconds) + " s over " + std::to_string(step) +
                 " steps; history.csv, front.csv and front.svg in " + opt.out_dir + "\n";
  return res;
}

} // namespace hgqc
