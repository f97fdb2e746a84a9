// hgqc's CMVM optimiser beside da4ml's figures on the same matrices (../shared/bench/da4ml-cmvm).
#include "backend/cmvm.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace hgqc::backend;

namespace {

/// One matrix of a rand_N*.txt file.
struct NamedMatrix {
  std::string name;
  IntMatrix m;
  std::vector<InputFormat> inputs;
};

/// da4ml's figures for one matrix in one mode.
struct Da4mlRow {
  double adders = 0;
  double depth = 0;
  double cpu_ms = 0;
  double negated = 0;
};

/// Sums over the matrices of one N and mode.
struct Totals {
  double adders = 0;
  double negated = 0;
  double depth = 0;
  double cpu_ms = 0;
  int count = 0;
};

[[noreturn]] void fail(const std::string &msg) {
  std::fprintf(stderr, "hgqc_cmvm_da4ml: %s\n", msg.c_str());
  std::exit(2);
}

/// CPU time of the calling thread, in milliseconds.
double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

/// An input format word: u<bits> or s<bits>.
InputFormat parse_format(const std::string &w, const std::string &where) {
  if (w.size() < 2 || (w[0] != 'u' && w[0] != 's') ||
      w.find_first_not_of("0123456789", 1) != std::string::npos)
    fail(where + ": input format '" + w + "' is not u<bits> or s<bits>");
  const int width = std::stoi(w.substr(1));
  if (width < 1 || width > 32)
    fail(where + ": input width " + w.substr(1) + " outside 1..32");
  return InputFormat{width, w[0] == 's'};
}

/// Reads the matrices of a rand_N*.txt file (format: the folder's README.md).
std::vector<NamedMatrix> read_matrices(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    fail("cannot open " + path);
  std::vector<NamedMatrix> out;
  std::string word;
  while (in >> word) {
    const std::string where = path + " (matrix " + std::to_string(out.size()) + ")";
    NamedMatrix nm;
    if (word != "name" || !(in >> nm.name >> nm.m.rows >> nm.m.cols) || nm.m.rows < 0 ||
        nm.m.cols < 0)
      fail(where + ": expected 'name NAME' and 'rows cols'");
    nm.m.data.resize(static_cast<size_t>(nm.m.rows) * nm.m.cols);
    for (int64_t &e : nm.m.data)
      if (!(in >> e))
        fail(where + ": expected " + std::to_string(nm.m.data.size()) + " integers");
    if (!(in >> word) || word != "inputs")
      fail(where + ": expected 'inputs'");
    for (int j = 0; j < nm.m.cols; ++j) {
      if (!(in >> word))
        fail(where + ": expected " + std::to_string(nm.m.cols) + " input formats");
      nm.inputs.push_back(parse_format(word, where));
    }
    out.push_back(std::move(nm));
  }
  return out;
}

/// Reads a da4ml_N*_*.txt results file: per matrix name, its figures.
std::map<std::string, Da4mlRow> read_da4ml(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    fail("cannot open " + path);
  std::map<std::string, Da4mlRow> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#' || line.rfind("SUMMARY", 0) == 0)
      continue;
    std::istringstream s(line);
    int idx = 0, rows = 0, cols = 0;
    std::string name;
    Da4mlRow r;
    double wall = 0, neg0 = 0;
    if (!(s >> idx >> name >> rows >> cols >> r.adders >> r.depth >> wall >> r.cpu_ms >>
          r.negated >> neg0))
      fail(path + ":" + std::to_string(n) + ": expected 10 columns");
    out[name] = r;
  }
  return out;
}

/// Checks `g` against the direct product on extreme and random inputs; exits on a mismatch.
void check(const AdderGraph &g, const NamedMatrix &nm) {
  std::mt19937_64 rng(7);
  const int n = nm.m.cols;
  std::vector<int64_t> x(n);
  for (int t = 0; t < 8; ++t) {
    for (int j = 0; j < n; ++j) {
      const InputFormat &f = nm.inputs[j];
      const int64_t lo = f.is_signed ? -(int64_t{1} << (f.width - 1)) : 0;
      const int64_t hi =
          f.is_signed ? (int64_t{1} << (f.width - 1)) - 1 : (int64_t{1} << f.width) - 1;
      x[j] = t == 0 ? lo : t == 1 ? hi : lo + static_cast<int64_t>(rng() % (hi - lo + 1));
    }
    const std::string err = check_adder_graph(g, nm.m, x);
    if (!err.empty())
      fail(nm.name + ": graph check failed: " + err);
  }
}

} // namespace

int main(int argc, char **argv) {
  // Usage: hgqc_cmvm_da4ml DIR [N...]   (DIR: ../shared/bench/da4ml-cmvm; N default 8 16 32)
  if (argc < 2)
    fail("usage: hgqc_cmvm_da4ml DIR [N...]");
  const std::string dir = argv[1];
  std::vector<int> sizes;
  for (int k = 2; k < argc; ++k)
    sizes.push_back(std::atoi(argv[k]));
  if (sizes.empty())
    sizes = {8, 16, 32};
  struct Mode {
    const char *name;
    const char *da4ml;
    const char *file;
  };
  const Mode modes[] = {
      {"free", "default", "default"}, {"min+2", "hard_dc=2", "dc2"}, {"min", "hard_dc=0", "dc0"}};
  std::printf("CMVM on da4ml's matrices (%s), one thread; means per matrix; every hgqc graph "
              "checked exactly; A+N = adders + negated outputs; ratio = hgqc A+N / da4ml A+N\n\n",
              dir.c_str());
  std::printf("| N | matrices | mode | hgqc adders | hgqc neg | hgqc A+N | hgqc depth | hgqc CPU "
              "ms | da4ml mode | da4ml adders | da4ml neg | da4ml A+N | da4ml depth | da4ml CPU "
              "ms | ratio A+N |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (int n : sizes) {
    const std::string ns = std::to_string(n);
    const std::vector<NamedMatrix> mats = read_matrices(dir + "/rand_N" + ns + "_u8.txt");
    for (const Mode &mode : modes) {
      const auto ref = read_da4ml(dir + "/da4ml_N" + ns + "_" + mode.file + ".txt");
      Totals h, d;
      for (const NamedMatrix &nm : mats) {
        auto it = ref.find(nm.name);
        if (it == ref.end())
          fail("no da4ml figures for " + nm.name + " (" + mode.file + ")");
        CmvmOptions opt;
        opt.inputs = nm.inputs;
        if (std::string(mode.name) == "min")
          opt.min_depth = true;
        else if (std::string(mode.name) == "min+2")
          opt.max_depth = cmvm_min_depth(nm.m) + 2;
        const double c0 = thread_cpu_ms();
        const AdderGraph g = optimise_cmvm(nm.m, opt);
        h.cpu_ms += thread_cpu_ms() - c0;
        check(g, nm);
        if (opt.max_depth && g.depth() > *opt.max_depth)
          fail(nm.name + ": depth " + std::to_string(g.depth()) + " above the limit");
        if (opt.min_depth && g.depth() > cmvm_min_depth(nm.m))
          fail(nm.name + ": depth " + std::to_string(g.depth()) + " above the minimum");
        h.adders += static_cast<double>(g.adders.size());
        h.negated += static_cast<double>(
            std::count_if(g.outputs.begin(), g.outputs.end(),
                          [](const OutputRef &o) { return o.value >= 0 && o.negate; }));
        h.depth += g.depth();
        ++h.count;
        d.adders += it->second.adders;
        d.negated += it->second.negated;
        d.depth += it->second.depth;
        d.cpu_ms += it->second.cpu_ms;
        ++d.count;
      }
      const double c = h.count;
      std::printf("| %d | %d | %s | %.1f | %.2f | %.1f | %.2f | %.1f | %s | %.1f | %.2f | %.1f | "
                  "%.2f | %.1f | %.3f |\n",
                  n, h.count, mode.name, h.adders / c, h.negated / c, (h.adders + h.negated) / c,
                  h.depth / c, h.cpu_ms / c, mode.da4ml, d.adders / c, d.negated / c,
                  (d.adders + d.negated) / c, d.depth / c, d.cpu_ms / c,
                  (h.adders + h.negated) / (d.adders + d.negated));
      std::fflush(stdout);
    }
  }
  return 0;
}
