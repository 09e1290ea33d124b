// SPDX-License-Identifier: Apache-2.0
// Where a GEMM or convolution call spends its time, for the benchmarks'
// profile binaries (bench/*_profile): compiled in only when FP8_PROFILE is 1
// (0 by default, when FP8_PROFILE_SCOPE expands to nothing and a call does
// no timing at all).
//
// With FP8_PROFILE=1 every thread that works on a call adds the nanoseconds
// it spends in each phase to process-wide counters (profile_totals):
//   decode   the input converted once per call (the convolution's input to
//            bfloat16 or float, the small-m paths' A rows)
//   pack_a   A blocks packed into micro-panels, per (k block, m block)
//   pack_b   B blocks packed, per (n block, k block), when B is not prepacked
//   kernel   the micro-kernel calls of a block (with their epilogue, which
//            the micro-kernel applies on the last block of k), the small-m
//            row kernels, the depthwise loops
//   output   the float result converted to the caller's type or layout
// The rest of a call's thread time (waking and joining threads, a thread
// idle while another finishes, allocation, argument checks) is what these
// leave of wall time x threads. A scope costs two clock reads: the phases
// are timed per block, never per tile.
//
// The counters are one program-wide set; the code that fills them lives in
// the flags-named namespace (detail/dispatch.hpp) like every kernel, and
// FP8_PROFILE changes that namespace's name too, so a unit built with it
// links beside units built without it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "../config.hpp"
#include "../detail/dispatch.hpp"

#ifndef FP8_PROFILE
#define FP8_PROFILE 0
#endif

FP8_BEGIN_NAMESPACE

enum class profile_phase : unsigned { decode, pack_a, pack_b, kernel, output };
inline constexpr unsigned profile_phases = 5;

// Nanoseconds summed over threads, per phase, since the last reset.
struct profile_counters {
  std::uint64_t ns[profile_phases] = {};
  std::uint64_t operator[](profile_phase p) const noexcept { return ns[static_cast<unsigned>(p)]; }
};

namespace detail {
inline std::atomic<std::uint64_t> profile_ns[profile_phases] = {};
}  // namespace detail

inline profile_counters profile_totals() noexcept {
  profile_counters c;
  for (unsigned i = 0; i < profile_phases; ++i) c.ns[i] = detail::profile_ns[i].load(std::memory_order_relaxed);
  return c;
}
inline void profile_reset() noexcept {
  for (auto& n : detail::profile_ns) n.store(0, std::memory_order_relaxed);
}

namespace kernel {
FP8_BEGIN_TU_NAMESPACE
// Adds the time from its construction to its destruction to one phase.
class profile_scope {
 public:
  explicit profile_scope(profile_phase p) noexcept : phase_(p), start_(std::chrono::steady_clock::now()) {}
  profile_scope(const profile_scope&) = delete;
  profile_scope& operator=(const profile_scope&) = delete;
  ~profile_scope() {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_);
    ::fp8::detail::profile_ns[static_cast<unsigned>(phase_)].fetch_add(static_cast<std::uint64_t>(ns.count()),
                                                                        std::memory_order_relaxed);
  }

 private:
  profile_phase phase_;
  std::chrono::steady_clock::time_point start_;
};
FP8_END_TU_NAMESPACE
}  // namespace kernel

FP8_END_NAMESPACE

#define FP8_DETAIL_PROFILE_CAT(a, b) a##b
#define FP8_DETAIL_PROFILE_NAME(line) FP8_DETAIL_PROFILE_CAT(fp8_profile_scope_, line)
#if FP8_PROFILE
// Times the rest of the enclosing block as phase `phase` (a profile_phase
// enumerator's name).
#define FP8_PROFILE_SCOPE(phase) \
  const ::fp8::kernel::profile_scope FP8_DETAIL_PROFILE_NAME(__LINE__) { ::fp8::profile_phase::phase }
#else
#define FP8_PROFILE_SCOPE(phase) static_assert(true, "")
#endif
