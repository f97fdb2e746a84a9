// `hgqc train`: the HGQ training loop from a float ONNX model and data to a Pareto front of
// quantized model files (method.md §2).
#pragma once

#include "qat/cost.h"
#include "qat/dataset.h"
#include "qat/optim.h"
#include "qat/pareto.h"

#include <atomic>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace hgqc {

/// How beta (the weight of EBOPs in the loss) moves during the run.
enum class BetaSchedule {
  Const, ///< beta0 throughout
  Log,   ///< log-linear from beta0 at the first step to beta1 at the last
  Pid    ///< a PI controller on log(cost / target) starting from beta0: per epoch on the mean
         ///< surrogate EBOPs (target_ebops), or per evaluation on the latest checkpoint's
         ///< estimated LUTs (target_luts)
};

/// Input normalisation put into the model in front of the network (after the input
/// quantizer), so saved models read the data as given.
enum class Normalize {
  None,
  Scale,   ///< per feature: multiply by the power of two that brings max|x| into (0.5, 1]
  Standard ///< per feature: subtract the mean, multiply by the power of two nearest 1/std
};

/// Options of train().
struct TrainOptions {
  std::string model, out_dir;
  DataSource data, val;
  double val_split = 0.1; ///< used when `val` is empty
  std::optional<TaskKind> task;
  int epochs = 10;
  int64_t batch = 256;
  double lr = 5e-3;
  int lr_cycles = 1; ///< the cosine decay of lr restarts this many times over the run (LrSchedule)
  OptimizerKind optimizer = OptimizerKind::Adam;
  uint64_t seed = 0;
  int threads = 1;
  BetaSchedule beta_schedule = BetaSchedule::Const;
  double beta0 = 1e-6, beta1 = 1e-3, target_ebops = 0;
  /// The pid schedule's target in estimated LUTs instead of target_ebops (unset: not used).
  std::optional<double> target_luts;
  double gamma = 0;
  CostKind cost = CostKind::Luts; ///< the hardware cost beta weighs (see EngineOptions)
  double cover = 1.0;
  float init_f_weight = std::numeric_limits<float>::quiet_NaN(); ///< NaN: see EngineOptions
  float init_f_act = 8;
  std::vector<int64_t> act_share_axes; ///< see EngineOptions
  Normalize normalize = Normalize::None;
  int eval_every = 1; ///< evaluate (and maybe save) a checkpoint every this many epochs
  bool calibrate = true;
  bool progress_tty = false; ///< redraw one progress line (a terminal) instead of log lines
};

/// What train() did.
struct TrainResult {
  std::vector<Checkpoint> front; ///< final front, by estimated LUTs
  std::vector<Checkpoint> history;
  TaskKind task = TaskKind::Classify;
  bool interrupted = false;
  std::string summary; ///< the table printed at the end
};

/// Set (e.g. by a SIGINT handler) to stop after the current step.
extern std::atomic<bool> g_train_stop;

/// Runs the training: checks model and data first (UserError before any training), trains,
/// keeps the Pareto front in out_dir (files written atomically; dominated ones deleted), then
/// calibrates and re-scores the front. `log` receives progress and log lines (`\r`-prefixed
/// progress redraws when progress_tty).
TrainResult train(const TrainOptions &opt, const std::function<void(const std::string &)> &log);

} // namespace hgqc
