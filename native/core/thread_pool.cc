#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>

namespace embedrt {

ThreadPool::ThreadPool(size_t threads) {
  const size_t extra = threads > 1 ? threads - 1 : 0;
  workers_.reserve(extra);
  for (size_t i = 0; i < extra; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::worker_loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_ && queue_.empty()) return;
      task = std::move(queue_.back());
      queue_.pop_back();
    }
    task();
  }
}

namespace {

// Shared state of one parallel_for: an index counter the threads pull from.
struct ForJob {
  explicit ForJob(size_t n_, const std::function<void(size_t)>& fn_) : n(n_), fn(fn_) {}
  const size_t n;
  const std::function<void(size_t)>& fn;
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable done_cv;
  size_t running = 0;
  std::exception_ptr error;

  void run() {
    for (;;) {
      const size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) return;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
        next.store(n, std::memory_order_relaxed);
      }
    }
  }
};

}  // namespace

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t)>& fn, size_t max_threads) {
  if (n == 0) return;
  size_t helpers = std::min(workers_.size(), n - 1);
  if (max_threads > 0) helpers = std::min(helpers, max_threads - 1);
  if (helpers == 0) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  auto job = std::make_shared<ForJob>(n, fn);
  job->running = helpers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t h = 0; h < helpers; ++h) {
      queue_.emplace_back([job] {
        job->run();
        std::lock_guard<std::mutex> l(job->mu);
        if (--job->running == 0) job->done_cv.notify_all();
      });
    }
  }
  cv_.notify_all();
  job->run();
  std::unique_lock<std::mutex> lock(job->mu);
  job->done_cv.wait(lock, [&] { return job->running == 0; });
  if (job->error) std::rethrow_exception(job->error);
}

ThreadPool& ThreadPool::shared() {
  // Never destroyed: worker threads must not be joined during static destruction at exit.
  static ThreadPool* pool = new ThreadPool(std::max(1u, std::thread::hardware_concurrency()));
  return *pool;
}

const ParallelFor& ThreadPool::shared_for() {
  static const ParallelFor* run = new ParallelFor([](size_t n, const std::function<void(size_t)>& fn) { shared().parallel_for(n, fn); });
  return *run;
}

}  // namespace embedrt
