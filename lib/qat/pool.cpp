// The worker pool of training and of the Pareto front's exact evaluation.
#include "qat/pool.h"

namespace hgqc {

Pool::Pool(int n) : n_(n) {
  for (int i = 1; i < n; ++i)
    th_.emplace_back([this, i] { loop(i); });
}

Pool::~Pool() {
  {
    std::lock_guard l(m_);
    stop_ = true;
    ++gen_;
  }
  cv_.notify_all();
  for (auto &t : th_)
    t.join();
}

void Pool::run(const std::function<void(int)> &f) {
  if (n_ == 1) {
    f(0);
    return;
  }
  {
    std::lock_guard l(m_);
    f_ = &f;
    pending_ = n_ - 1;
    err_ = nullptr;
    ++gen_;
  }
  cv_.notify_all();
  std::exception_ptr e0;
  try {
    f(0);
  } catch (...) {
    e0 = std::current_exception();
  }
  std::unique_lock l(m_);
  done_.wait(l, [&] { return pending_ == 0; });
  if (e0)
    std::rethrow_exception(e0);
  if (err_)
    std::rethrow_exception(err_);
}

void Pool::for_blocks(int64_t blocks, const std::function<void(int64_t)> &fn) {
  run([&](int t) {
    for (int64_t b = t; b < blocks; b += n_)
      fn(b);
  });
}

void Pool::loop(int i) {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(int)> *f;
    {
      std::unique_lock l(m_);
      cv_.wait(l, [&] { return gen_ != seen; });
      seen = gen_;
      if (stop_)
        return;
      f = f_;
    }
    std::exception_ptr e;
    try {
      (*f)(i);
    } catch (...) {
      e = std::current_exception();
    }
    std::lock_guard l(m_);
    if (e && !err_)
      err_ = e;
    if (--pending_ == 0)
      done_.notify_one();
  }
}

} // namespace hgqc
