// A fixed pool of native worker threads with a blocking parallel-for. Batch tokenization, similarity
// and search spread their work over it; the caller (a libuv worker) waits for the pieces.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace embedrt {

// Runs fn(i) for every i in [0, n) and returns when all are done: ThreadPool::shared(), or (inside an
// ONNX Runtime kernel) ONNX Runtime's own intra-op threads.
using ParallelFor = std::function<void(size_t n, const std::function<void(size_t)>& fn)>;

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Runs fn(i) for every i in [0, n), spread over at most `max_threads` threads (0: all), the calling
  // thread included. Returns when all are done; the first exception thrown by fn is rethrown here.
  void parallel_for(size_t n, const std::function<void(size_t)>& fn, size_t max_threads = 0);

  size_t size() const { return workers_.size() + 1; }

  // The process-wide pool (hardware threads), created on first use.
  static ThreadPool& shared();
  // shared() as a ParallelFor.
  static const ParallelFor& shared_for();

 private:
  void worker_loop();

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::function<void()>> queue_;
  bool stop_ = false;
};

}  // namespace embedrt
