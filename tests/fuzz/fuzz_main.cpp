// hgqc_fuzz: a seeded, structure-aware mutation fuzzer of hgqc's inputs, run in process, with a
// per-case time bound and allocation cap; replays saved cases with --replay.
#include "fuzz.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>
#include <thread>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define HGQC_FUZZ_ASAN 1
#endif

namespace {
namespace fs = std::filesystem;

// ---- The allocation cap: a counting global operator new (works under ASan too, which
// still sees the malloc/free underneath). A case whose live bytes would pass the cap gets
// std::bad_alloc and is a blow-up failure, whoever catches the exception.
std::atomic<int64_t> g_live{0}, g_base{0};
std::atomic<int64_t> g_cap{0}; // 0: no cap (outside a case)
std::atomic<bool> g_blown{false};
constexpr size_t kHeader = 16; // keeps malloc's 16-byte alignment

void *counted_alloc(size_t n, bool nothrow) {
  int64_t cap = g_cap.load(std::memory_order_relaxed);
  if (cap > 0 &&
      (n > static_cast<size_t>(cap) ||
       g_live.load(std::memory_order_relaxed) - g_base.load() + static_cast<int64_t>(n) > cap)) {
    g_blown = true;
    if (nothrow)
      return nullptr;
    throw std::bad_alloc();
  }
  void *p = n > SIZE_MAX / 2 ? nullptr : std::malloc(n + kHeader);
  if (!p) {
    if (nothrow)
      return nullptr;
    throw std::bad_alloc();
  }
  *static_cast<size_t *>(p) = n;
  g_live.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
  return static_cast<char *>(p) + kHeader;
}
void counted_free(void *q) {
  if (!q)
    return;
  void *p = static_cast<char *>(q) - kHeader;
  g_live.fetch_sub(static_cast<int64_t>(*static_cast<size_t *>(p)), std::memory_order_relaxed);
  std::free(p);
}
// Over-aligned blocks: the size sits just below the returned pointer, `al` bytes in.
void *counted_alloc_aligned(size_t n, std::align_val_t al, bool nothrow) {
  size_t a = std::max(static_cast<size_t>(al), kHeader);
  void *p = counted_alloc(n > SIZE_MAX / 2 ? SIZE_MAX : n + a,
                          nothrow); // counted; the header keeps the total
  if (!p)
    return nullptr;
  uintptr_t base = reinterpret_cast<uintptr_t>(p);
  uintptr_t r = (base + a) & ~(static_cast<uintptr_t>(a) - 1);
  reinterpret_cast<void **>(r)[-1] = p;
  return reinterpret_cast<void *>(r);
}
void counted_free_aligned(void *q) {
  if (q)
    counted_free(reinterpret_cast<void **>(q)[-1]);
}
} // namespace

void *operator new(size_t n) { return counted_alloc(n, false); }
void *operator new[](size_t n) { return counted_alloc(n, false); }
void *operator new(size_t n, const std::nothrow_t &) noexcept { return counted_alloc(n, true); }
void *operator new[](size_t n, const std::nothrow_t &) noexcept { return counted_alloc(n, true); }
void operator delete(void *p) noexcept { counted_free(p); }
void operator delete[](void *p) noexcept { counted_free(p); }
void operator delete(void *p, size_t) noexcept { counted_free(p); }
void operator delete[](void *p, size_t) noexcept { counted_free(p); }
void *operator new(size_t n, std::align_val_t a) { return counted_alloc_aligned(n, a, false); }
void *operator new[](size_t n, std::align_val_t a) { return counted_alloc_aligned(n, a, false); }
void operator delete(void *p, std::align_val_t) noexcept { counted_free_aligned(p); }
void operator delete[](void *p, std::align_val_t) noexcept { counted_free_aligned(p); }
void operator delete(void *p, size_t, std::align_val_t) noexcept { counted_free_aligned(p); }
void operator delete[](void *p, size_t, std::align_val_t) noexcept { counted_free_aligned(p); }

namespace {
using hgqc::fuzz::Case;
using hgqc::fuzz::Outcome;

// ---- Crash reporting: the case's input is on disk before it runs; a fatal signal or a
// sanitizer report moves it to the failure file and says so.
char g_case_path[4096], g_fail_path[4096], g_case_label[256];

void report_fatal(const char *why) {
  auto say = [](const char *s) { (void)!write(2, s, std::strlen(s)); };
  say("\nfuzz: FAILURE ");
  say(g_case_label);
  say(": ");
  say(why);
  if (g_fail_path[0] && std::rename(g_case_path, g_fail_path) == 0) {
    say("; input written to ");
    say(g_fail_path);
    say(" (replay with hgqc_fuzz --replay FILE)");
  }
  say("\n");
}
void on_signal(int sig) {
  report_fatal(strsignal(sig));
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}
#ifdef HGQC_FUZZ_ASAN
void on_sanitizer_death() { report_fatal("sanitizer report (above)"); }
#endif
} // namespace

// UBSan reports end in abort() (caught by on_signal) rather than in its own exit, which
// skips the ASan death callback; UBSAN_OPTIONS from the environment still apply on top.
extern "C" const char *__ubsan_default_options() { return "abort_on_error=1:print_stacktrace=1"; }

namespace {

// ---- The hang bound: a case over `limit` CPU seconds is a failure when it ends; one that
// does not end within 5 * limit + 30 s of wall-clock time is reported by the watchdog, which
// exits.
std::atomic<int64_t> g_case_start_ns{0};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
// CPU seconds of the process: the bound is on CPU time, so that a loaded machine (CI) does not
// turn slow wall-clock into hangs; the watchdog uses wall-clock time.
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

void watchdog(double hard_limit) {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    int64_t s = g_case_start_ns.load();
    if (s != 0 && static_cast<double>(now_ns() - s) * 1e-9 > hard_limit) {
      report_fatal("hang: the case did not end within the watchdog's bound");
      std::_Exit(1);
    }
  }
}

struct Options {
  int64_t cases = 2000, first = 0;
  uint64_t seed = 1;
  std::string source_dir = HGQC_SOURCE_DIR;
  std::string fail_dir = ".";
  double time_limit =
#ifdef HGQC_FUZZ_ASAN
      10.0;
#else
      2.0;
#endif
  double mem_cap_mb = 1024;
  bool verbose = false;
  std::vector<std::string> replay;
};

struct Tally {
  int64_t cases = 0, user_errors = 0, ran = 0, failures = 0;
  double slowest = 0;
};

std::string file_bytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs one case under the bounds and classifies it; on failure writes `c` to `fail_path`.
void run_one(const Case &c, const std::string &label, const std::string &work_path,
             const std::string &fail_path, const Options &o, Tally &t) {
  std::snprintf(g_case_path, sizeof g_case_path, "%s", work_path.c_str());
  std::snprintf(g_fail_path, sizeof g_fail_path, "%s", fail_path.c_str());
  std::snprintf(g_case_label, sizeof g_case_label, "%s", label.c_str());
  std::string detail;
  g_blown = false;
  g_base = g_live.load();
  g_cap = static_cast<int64_t>(o.mem_cap_mb * 1048576.0);
  double c0 = cpu_seconds();
  g_case_start_ns = now_ns();
  Outcome r = hgqc::fuzz::run_case(c, work_path, o.source_dir, detail);
  double secs = cpu_seconds() - c0;
  g_case_start_ns = 0;
  g_cap = 0;
  ++t.cases;
  t.slowest = std::max(t.slowest, secs);
  if (g_blown) {
    r = Outcome::Failure;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4g MB", o.mem_cap_mb);
    detail = "blow-up: allocation past the cap of " + std::string(buf) + " (" + detail + ")";
  } else if (secs > o.time_limit) {
    r = Outcome::Failure;
    char buf[96];
    std::snprintf(buf, sizeof buf, "hang: %.2f CPU s, over the bound of %.3g s", secs,
                  o.time_limit);
    detail = buf + std::string(" (") + (detail.empty() ? "ran" : detail) + ")";
  }
  if (o.verbose)
    std::printf("fuzz: %s: %s%s%s\n", label.c_str(),
                r == Outcome::Ran         ? "ran"
                : r == Outcome::UserError ? "user error"
                                          : "FAILURE",
                detail.empty() ? "" : ": ", detail.c_str());
  if (r == Outcome::Ran)
    ++t.ran;
  else if (r == Outcome::UserError)
    ++t.user_errors;
  if (r != Outcome::Failure)
    return;
  ++t.failures;
  std::string where;
  if (!fail_path.empty()) {
    std::ofstream f(fail_path, std::ios::binary | std::ios::trunc);
    f.write(c.bytes.data(), static_cast<std::streamsize>(c.bytes.size()));
    where =
        "; input written to " + fail_path + " (replay with hgqc_fuzz --replay " + fail_path + ")";
  }
  if (!o.verbose)
    std::printf("fuzz: FAILURE %s: %s%s\n", label.c_str(), detail.c_str(), where.c_str());
  std::fflush(stdout);
}

int usage() {
  std::fprintf(
      stderr,
      "usage: hgqc_fuzz [--cases N] [--first I] [--seed S] [--source-dir DIR] [--fail-dir DIR]\n"
      "                 [--time-limit SECONDS] [--mem-cap-mb MB] [--verbose]\n"
      "       hgqc_fuzz --replay FILE|DIR...   (files: .onnx .npy .npz .csv .idx .opts)\n");
  return 2;
}
} // namespace

int main(int argc, char **argv) {
  Options o;
  for (int j = 1; j < argc; ++j) {
    std::string a = argv[j];
    bool more = j + 1 < argc;
    if (a == "--cases" && more)
      o.cases = std::atoll(argv[++j]);
    else if (a == "--first" && more)
      o.first = std::atoll(argv[++j]);
    else if (a == "--seed" && more)
      o.seed = std::strtoull(argv[++j], nullptr, 10);
    else if (a == "--source-dir" && more)
      o.source_dir = argv[++j];
    else if (a == "--fail-dir" && more)
      o.fail_dir = argv[++j];
    else if (a == "--time-limit" && more)
      o.time_limit = std::atof(argv[++j]);
    else if (a == "--mem-cap-mb" && more)
      o.mem_cap_mb = std::atof(argv[++j]);
    else if (a == "--verbose")
      o.verbose = true;
    else if (a == "--replay") {
      while (j + 1 < argc && argv[j + 1][0] != '-')
        o.replay.push_back(argv[++j]);
    } else
      return usage();
  }
  if (o.cases < 0 || o.first < 0 || o.time_limit <= 0 || !(o.mem_cap_mb >= 0.001))
    return usage();
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
    std::signal(sig, on_signal);
#ifdef HGQC_FUZZ_ASAN
  __sanitizer_set_death_callback(on_sanitizer_death);
#endif
  std::thread(watchdog, 5 * o.time_limit + 30).detach();
  fs::path work = fs::temp_directory_path() / ("hgqc-fuzz-" + std::to_string(getpid()));
  fs::create_directories(work);
  if (o.replay.empty())
    fs::create_directories(o.fail_dir);
  Tally t;
  auto t0 = std::chrono::steady_clock::now();

  if (!o.replay.empty()) {
    std::vector<fs::path> files;
    for (const std::string &r : o.replay) {
      if (fs::is_directory(r)) {
        for (const auto &e : fs::directory_iterator(r))
          if (e.is_regular_file() && e.path().extension() != ".md")
            files.push_back(e.path());
      } else {
        files.push_back(r);
      }
    }
    std::sort(files.begin(), files.end());
    for (const fs::path &f : files) {
      Case c{f.extension().string(), file_bytes(f.string())};
      o.verbose = true;
      run_one(c, "replay " + f.string(), (work / ("case" + c.ext)).string(), "", o, t);
    }
  } else {
    hgqc::fuzz::Seeds seeds = hgqc::fuzz::load_seeds(o.source_dir);
    if (seeds.models.empty() || seeds.data.empty()) {
      std::fprintf(stderr, "fuzz: no seeds under %s/testdata\n", o.source_dir.c_str());
      return 2;
    }
    for (int64_t i = o.first; i < o.first + o.cases; ++i) {
      std::seed_seq ss{static_cast<uint32_t>(o.seed), static_cast<uint32_t>(o.seed >> 32),
                       static_cast<uint32_t>(i), static_cast<uint32_t>(i >> 32)};
      hgqc::fuzz::Rng rng(ss);
      std::snprintf(g_case_label, sizeof g_case_label, "case %lld (seed %llu), while mutating",
                    static_cast<long long>(i), static_cast<unsigned long long>(o.seed));
      g_fail_path[0] = '\0';
      Case c;
      size_t kind = rng() % 10;
      if (kind < 6) {
        c = seeds.models[rng() % seeds.models.size()];
        hgqc::fuzz::mutate_model(c.bytes, rng);
      } else if (kind < 9) {
        c = seeds.data[rng() % seeds.data.size()];
        hgqc::fuzz::mutate_data(c, rng);
      } else {
        c = hgqc::fuzz::make_options_case(rng);
      }
      std::string label =
          "case " + std::to_string(i) + " (seed " + std::to_string(o.seed) + ", " + c.ext + ")";
      std::string fail = (fs::path(o.fail_dir) / ("fuzz-failure-s" + std::to_string(o.seed) + "-c" +
                                                  std::to_string(i) + c.ext))
                             .string();
      run_one(c, label, (work / ("case" + c.ext)).string(), fail, o, t);
    }
  }
  fs::remove_all(work);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("fuzz%s: %lld cases: %lld user errors, %lld ran, %lld failures (%.1f s, slowest "
              "case %.2f CPU s)\n",
              o.replay.empty() ? "" : " replay", static_cast<long long>(t.cases),
              static_cast<long long>(t.user_errors), static_cast<long long>(t.ran),
              static_cast<long long>(t.failures), secs, t.slowest);
  return t.failures == 0 ? 0 : 1;
}
