// `hgqc train`: HGQ quantization-aware training of a float model into a Pareto front of
// quantized model files.
#include "cli_common.h"
#include "commands.h"
#include "qat/trainer.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <limits>
#include <unistd.h>

namespace hgqc::cli {

namespace {
struct TrainArgs {
  TrainOptions o;
  std::vector<std::string> data, val;
  std::string targets, val_targets, task = "auto", optimizer = "adam", beta = "const",
                                    normalize = "none", cost = "luts", init_f = "auto,8", share;
  bool no_calibrate = false;
  double target_luts = 0;
  CLI::Option *target_luts_opt = nullptr;
};

extern "C" void on_sigint(int) {
  g_train_stop.store(true);
  std::signal(SIGINT, SIG_DFL); // a second Ctrl-C ends the process at once
}

std::vector<int64_t> parse_axes(const std::string &s) {
  std::vector<int64_t> r;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find(',', pos);
    std::string part = s.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    try {
      size_t used = 0;
      r.push_back(std::stoll(part, &used));
      if (used != part.size())
        throw std::invalid_argument(part);
    } catch (const std::exception &) {
      throw UserError("--share-act-axes '" + s + "' is not a list of axes like 2,3");
    }
    if (end == std::string::npos)
      break;
    pos = end + 1;
  }
  return r;
}

void run_train(TrainArgs &a) {
  TrainOptions &o = a.o;
  o.data = {a.data, a.targets};
  if (!a.val.empty())
    o.val = {a.val, a.val_targets};
  else if (!a.val_targets.empty())
    throw UserError("--val-targets needs --val");
  if (a.task == "classify")
    o.task = TaskKind::Classify;
  else if (a.task == "regress")
    o.task = TaskKind::Regress;
  else if (a.task != "auto")
    throw UserError("--task '" + a.task + "' is not auto, classify or regress");
  if (a.optimizer == "adam")
    o.optimizer = OptimizerKind::Adam;
  else if (a.optimizer == "sgd")
    o.optimizer = OptimizerKind::Sgd;
  else
    throw UserError("--optimizer '" + a.optimizer + "' is not adam or sgd");
  if (a.beta == "const")
    o.beta_schedule = BetaSchedule::Const;
  else if (a.beta == "log")
    o.beta_schedule = BetaSchedule::Log;
  else if (a.beta == "pid")
    o.beta_schedule = BetaSchedule::Pid;
  else
    throw UserError("--beta-schedule '" + a.beta + "' is not const, log or pid");
  if (a.cost == "luts")
    o.cost = CostKind::Luts;
  else if (a.cost == "ebops")
    o.cost = CostKind::Ebops;
  else
    throw UserError("--cost '" + a.cost + "' is not luts or ebops");
  if (a.normalize == "none")
    o.normalize = Normalize::None;
  else if (a.normalize == "scale")
    o.normalize = Normalize::Scale;
  else if (a.normalize == "standard")
    o.normalize = Normalize::Standard;
  else
    throw UserError("--normalize '" + a.normalize + "' is not none, scale or standard");
  try {
    size_t c = a.init_f.find(','), used = 0;
    std::string w = a.init_f.substr(0, c);
    if (w == "auto") {
      o.init_f_weight = std::numeric_limits<float>::quiet_NaN();
      o.init_f_act = 8;
    } else {
      o.init_f_weight = std::stof(w, &used);
      if (used != w.size())
        throw std::invalid_argument(a.init_f);
      o.init_f_act = o.init_f_weight;
    }
    if (c != std::string::npos) {
      std::string rest = a.init_f.substr(c + 1);
      o.init_f_act = std::stof(rest, &used);
      if (used != rest.size())
        throw std::invalid_argument(a.init_f);
    }
  } catch (const std::exception &) {
    throw UserError("--init-f '" + a.init_f + "' is not F or W,A (fractional bits)");
  }
  if (!a.share.empty())
    o.act_share_axes = parse_axes(a.share);
  if (a.target_luts_opt->count() > 0)
    o.target_luts = a.target_luts;
  o.calibrate = !a.no_calibrate;
  o.progress_tty = isatty(STDERR_FILENO) != 0;

  // A run that fails removes the directory it created, or what it added to an existing one;
  // a run stopped by Ctrl-C keeps the front of its finished epochs.
  OutputGuard guard(o.out_dir);
  g_train_stop.store(false);
  auto old = std::signal(SIGINT, on_sigint);
  TrainResult r;
  try {
    r = train(o, [&](const std::string &line) {
      if (o.progress_tty && !line.empty() && line[0] == '\r') {
        std::cerr << line << std::flush;
      } else {
        spdlog::info("{}", line);
      }
    });
  } catch (...) {
    std::signal(SIGINT, old);
    throw;
  }
  std::signal(SIGINT, old);
  guard.keep();
  std::cout << r.summary << std::flush;
  if (r.interrupted)
    throw Interrupted("training interrupted; the front of the finished epochs is in " + o.out_dir);
}
} // namespace

void add_train(CLI::App &app, Action &action) {
  auto *cmd = app.add_subcommand(
      "train", "HGQ training: learn per-element bit-widths; writes a Pareto front of quantized "
               "models (accuracy against estimated LUTs)");
  auto a = std::make_shared<TrainArgs>();
  TrainOptions &o = a->o;
  cmd->add_option("model", o.model, "Float ONNX model (pretrained or freshly initialised)")
      ->required();
  cmd->add_option("--data", a->data,
                  "Training data: one .npz with arrays x and y, or a file of inputs (.npy, "
                  ".csv, IDX[.gz]) with --targets")
      ->required();
  cmd->add_option("--targets,--labels", a->targets,
                  "Targets of --data: integer labels (classification) or values shaped like "
                  "the output (regression)");
  cmd->add_option("--val", a->val, "Validation data, as --data (default: hold out --val-split)");
  cmd->add_option("--val-targets,--val-labels", a->val_targets, "Targets of --val");
  cmd->add_option("--val-split", o.val_split,
                  "Without --val: fraction of --data held out for validation")
      ->capture_default_str();
  cmd->add_option("-o,--output", o.out_dir, "Output directory (created)")->required();
  cmd->add_option("--task", a->task, "auto, classify (cross-entropy) or regress (MSE)")
      ->capture_default_str();
  cmd->add_option("--epochs", o.epochs, "Epochs")->capture_default_str();
  cmd->add_option("--batch", o.batch, "Batch size")->capture_default_str();
  cmd->add_option("--lr", o.lr, "Learning rate (cosine decay to 0 over the run)")
      ->capture_default_str();
  cmd->add_option("--lr-cycles", o.lr_cycles,
                  "Warm restarts: the cosine decay of the learning rate runs this many times, "
                  "each over an equal share of the epochs, and each cycle's last epoch is "
                  "evaluated")
      ->capture_default_str();
  cmd->add_option("--optimizer", a->optimizer, "adam or sgd (momentum 0.9)")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Seed of the shuffles and of --val-split")
      ->capture_default_str();
  cmd->add_option("--threads", o.threads,
                  "Threads over the batch (results depend on seed and thread count only)")
      ->capture_default_str();
  cmd->add_option("--beta-schedule", a->beta,
                  "const (beta0), log (beta0 to beta1, log-linear) or pid (to --target-ebops or "
                  "--target-luts)")
      ->capture_default_str();
  cmd->add_option("--cost", a->cost,
                  "Hardware cost in the loss: luts (the circuit's surrogate LUTs) or ebops "
                  "(EBOPs + tables); beta for luts is about 2x that for ebops")
      ->capture_default_str();
  cmd->add_option("--beta0", o.beta0, "Initial (or constant) beta, the weight of the cost")
      ->capture_default_str();
  cmd->add_option("--beta1", o.beta1, "Final beta of the log schedule")->capture_default_str();
  cmd->add_option("--target-ebops", o.target_ebops, "EBOPs the pid schedule steers to");
  a->target_luts_opt = cmd->add_option(
      "--target-luts", a->target_luts,
      "Estimated LUTs the pid schedule steers to instead (the latest evaluated checkpoint's)");
  cmd->add_option("--gamma", o.gamma, "Weight of the sum of all widths in the loss")
      ->capture_default_str();
  cmd->add_option("--cover-factor", o.cover,
                  "Calibration widens traced activation ranges by this factor (>= 1)")
      ->capture_default_str();
  cmd->add_option("--init-f", a->init_f,
                  "Initial fractional bits: F for all, or W,A for weights and activations; W = "
                  "auto: per tensor, those of an 8-bit format covering its largest weight")
      ->capture_default_str();
  cmd->add_option("--share-act-axes", a->share,
                  "Activation quantizers share f along these axes of a sample's dims with the "
                  "batch as axis 0 (e.g. 2,3: one f per channel of an [N,C,H,W] value)");
  cmd->add_option("--normalize", a->normalize,
                  "Input normalisation put into the model: none, scale (per feature, powers of "
                  "two) or standard (mean and power-of-two scale)")
      ->capture_default_str();
  cmd->add_option("--eval-every", o.eval_every,
                  "Evaluate and maybe keep a checkpoint every this many epochs")
      ->capture_default_str();
  cmd->add_flag("--no-calibrate", a->no_calibrate,
                "Skip the final calibration of the front on the training data");
  cmd->callback([&action, a] { action = [a] { run_train(*a); }; });
}

} // namespace hgqc::cli
