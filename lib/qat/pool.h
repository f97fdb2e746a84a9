// A fixed set of worker threads shared by the training engine and the Pareto front's exact
// evaluation: one task per worker, worker 0 being the calling thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hgqc {

/// `n` workers (n - 1 threads plus the caller) that run one function per worker and wait for
/// all of them. Which worker runs which part is fixed by the caller, so results that are
/// reduced in worker order do not depend on scheduling.
class Pool {
public:
  /// Starts n - 1 threads (none for n = 1).
  explicit Pool(int n);
  /// Stops and joins the threads.
  ~Pool();
  Pool(const Pool &) = delete;
  Pool &operator=(const Pool &) = delete;

  /// Number of workers.
  int size() const { return n_; }
  /// Runs f(0) .. f(n-1), one per worker (f(0) on the calling thread), waits for all, and
  /// rethrows the first exception (the caller's own first).
  void run(const std::function<void(int)> &f);
  /// Runs fn(b) for b in [0, blocks): worker t takes blocks t, t + n, t + 2n, ... in order.
  void for_blocks(int64_t blocks, const std::function<void(int64_t)> &fn);

private:
  /// A worker thread's loop: waits for a new generation, runs its part, reports.
  void loop(int i);

  int n_;
  std::vector<std::thread> th_;
  std::mutex m_;
  std::condition_variable cv_, done_;
  const std::function<void(int)> *f_ = nullptr;
  int pending_ = 0;
  uint64_t gen_ = 0;
  bool stop_ = false;
  std::exception_ptr err_;
};

} // namespace hgqc
