// SPDX-License-Identifier: Apache-2.0
// The threading of the kernels: run f(0) ... f(count - 1) and return when all
// have finished, on an executor. Kernels give each index a disjoint part of
// the output, decided from the sizes alone, so results never depend on which
// thread runs a part or in what order.
//
// fp8::executor is the interface an engine implements to lend its own
// threads (gemm_options::executor, conv2d_options::executor). Without one the
// library uses fp8::default_executor(): a process-wide pool whose threads are
// started on first use, grown when a call asks for more, and kept for later
// calls, so a call costs a wake-up, not a thread start. A pool thread that
// runs out of work, and a caller waiting for its helpers, poll for up to
// thread_pool::spin before they sleep on a condition variable: waking a
// sleeping thread took tens of microseconds on the development VM, a large
// share of a layer that runs in a few hundred (README, Threads).
//
// Every call is reentrant: the caller's thread always works on its own call's
// parts, so concurrent calls from several threads, and calls made from inside
// a task, finish even when every pool thread is busy (the caller then runs
// the remaining parts itself). An exception thrown by a part (std::bad_alloc
// from a packing buffer) is rethrown in the caller after every part has
// finished.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "../config.hpp"

FP8_BEGIN_NAMESPACE

// A non-owning reference to a callable void(std::size_t): what an executor
// is handed. Calling it never throws (the library catches inside).
class task_ref {
 public:
  template <class Fn, class = std::enable_if_t<!std::is_same<std::decay_t<Fn>, task_ref>::value>>
  task_ref(Fn& f) noexcept  // NOLINT(google-explicit-constructor): a reference, like std::function_ref
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, std::size_t i) { (*static_cast<Fn*>(o))(i); }) {}
  void operator()(std::size_t i) const { call_(object_, i); }

 private:
  void* object_;
  void (*call_)(void*, std::size_t);
};

// Runs task(0) ... task(count - 1), each exactly once, possibly
// concurrently and in any order, and returns when all have returned. The
// calling thread may run any of them. count >= 2 when the library calls,
// and the library's tasks never throw (parallel_run catches inside them).
class executor {
 public:
  virtual ~executor() = default;
  virtual void run(std::size_t count, task_ref task) = 0;

 protected:
  executor() = default;
  executor(const executor&) = default;
  executor& operator=(const executor&) = default;
};

// A pool of persistent threads. Threads are started on demand (a call for
// count parts wants count - 1 helpers, up to max_threads) and joined by the
// destructor, which must not run while a call is in progress.
class thread_pool final : public executor {
 public:
  // How long an idle pool thread, or a caller whose parts are all handed
  // out, polls before it sleeps.
  static constexpr std::chrono::microseconds spin{50};

  explicit thread_pool(std::size_t max_threads = 256) : max_threads_(max_threads) {}
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() override {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    work_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // Threads started so far.
  std::size_t size() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return threads_.size();
  }

  void run(std::size_t count, task_ref task) override {
    if (count == 0) return;
    if (count == 1) {
      task(0);
      return;
    }
    job j{task, count};
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      grow(count - 1);
      queue_.push_back(&j);
      queued_.store(queue_.size(), std::memory_order_release);
    }
    work_.notify_all();
    // The caller takes parts of its own job until none is left ...
    for (;;) {
      std::size_t i = 0;
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (!take(j, i)) break;
      }
      run_part(j, i);
    }
    // ... then waits for the parts that pool threads took.
    poll([&] { return j.finished.load(std::memory_order_acquire) == j.count; });
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return j.finished == j.count; });
    if (j.error) std::rethrow_exception(j.error);
  }

 private:
  struct job {
    task_ref task;
    std::size_t count;
    std::size_t next = 0;                    // the next part to hand out
    std::atomic<std::size_t> finished{0};    // parts that have returned (written under mutex_)
    std::exception_ptr error = nullptr;  // the first exception a part threw
  };

  // Runs part i; an exception is kept for the caller, never left to escape
  // a pool thread or to cut the caller's wait short.
  void run_part(job& j, std::size_t i) {
    std::exception_ptr e;
    try {
      j.task(i);
    } catch (...) {
      e = std::current_exception();
    }
    finish(j, e);
  }

  // Hands out the next part of j (mutex_ held); the job leaves the queue
  // with its last part, so no thread sees it once its caller may return.
  bool take(job& j, std::size_t& i) {
    if (j.next == j.count) return false;
    i = j.next++;
    if (j.next == j.count)
      for (auto it = queue_.begin(); it != queue_.end(); ++it)
        if (*it == &j) {
          queue_.erase(it);
          queued_.store(queue_.size(), std::memory_order_release);
          break;
        }
    return true;
  }

  void finish(job& j, const std::exception_ptr& e) {
    bool last;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (e && !j.error) j.error = e;
      last = j.finished.fetch_add(1, std::memory_order_release) + 1 == j.count;
    }
    if (last) done_.notify_all();
  }

  // Starts threads until `wanted` exist (mutex_ held). A thread that cannot
  // be started leaves its parts to the others and the caller.
  void grow(std::size_t wanted) {
    wanted = wanted < max_threads_ ? wanted : max_threads_;
    try {
      while (threads_.size() < wanted) threads_.emplace_back([this] { work(); });
    } catch (...) {  // std::system_error or std::bad_alloc
    }
  }

  // Polls ready() until it holds or spin has passed; whichever, the caller
  // then checks again under the mutex, so polling only saves a sleep.
  template <class Ready>
  static void poll(Ready&& ready) {
    const auto until = std::chrono::steady_clock::now() + spin;
    for (unsigned n = 1; !ready(); ++n) {
      if (n % 64 == 0 && std::chrono::steady_clock::now() >= until) return;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
      __builtin_ia32_pause();
#else
      std::this_thread::yield();
#endif
    }
  }

  void work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (queue_.empty() && !stop_) {
        lock.unlock();
        poll([&] { return queued_.load(std::memory_order_acquire) != 0; });
        lock.lock();
      }
      work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job& j = *queue_.front();
      std::size_t i = 0;
      take(j, i);  // a queued job always has a part left
      lock.unlock();
      run_part(j, i);
      lock.lock();
    }
  }

  const std::size_t max_threads_;
  mutable std::mutex mutex_;
  std::condition_variable work_, done_;
  std::deque<job*> queue_;
  std::atomic<std::size_t> queued_{0};  // queue_.size(), for polling without the mutex
  std::vector<std::thread> threads_;
  bool stop_ = false;
};

// The pool every call without an executor of its own runs on. It lives for
// the whole program (never destroyed, so no thread is joined at exit).
inline executor& default_executor() {
  static thread_pool* pool = new thread_pool();
  return *pool;
}

namespace kernel {

// Runs f(0) ... f(count - 1) on ex (null: the default executor); count <= 1
// runs inline. Exceptions from f are caught and the first rethrown here
// after every part has finished.
template <class Fn>
void parallel_run(executor* ex, std::size_t count, Fn&& f) {
  if (count <= 1) {
    if (count == 1) f(std::size_t{0});
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
  auto guarded = [&](std::size_t t) {
    try {
      f(t);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  };
  (ex != nullptr ? *ex : default_executor()).run(count, task_ref(guarded));
  if (error) std::rethrow_exception(error);
}

}  // namespace kernel
FP8_END_NAMESPACE
