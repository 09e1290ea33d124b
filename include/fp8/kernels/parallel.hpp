// SPDX-License-Identifier: Apache-2.0
// The one threading primitive of the kernels: run f(0) ... f(count - 1), each
// on its own std::thread (the caller's thread runs f(0)), and return when all
// have finished. Header-only and dependency-free; kernels give each index a
// disjoint part of the output, decided from the sizes alone, so results never
// depend on scheduling. An exception thrown by any part (std::bad_alloc from
// a packing buffer) is rethrown in the caller after every thread has joined;
// a thread that cannot be started runs its part in the caller instead.
#pragma once

#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "../config.hpp"

FP8_BEGIN_NAMESPACE
namespace kernel {

template <class Fn>
void parallel_run(std::size_t count, Fn&& f) {
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
  std::vector<std::thread> pool;
  std::size_t started = 1;
  try {
    pool.reserve(count - 1);
    for (; started < count; ++started) pool.emplace_back(guarded, started);
  } catch (...) {  // std::system_error or std::bad_alloc: the rest runs here
  }
  guarded(0);
  for (std::size_t t = started; t < count; ++t) guarded(t);
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace kernel
FP8_END_NAMESPACE
