// SPDX-License-Identifier: Apache-2.0
// What the CPU this program runs on supports, read once with cpuid and
// cached: the features the kernels use, whether the operating system saves
// the vector registers they need (xgetbv), and the best kernel tier the CPU
// runs. The environment variable FP8_MAX_TIER (portable, sse2, avx2, avx512,
// avx512bf16) caps the tier, as oneDNN's ONEDNN_MAX_CPU_ISA does, to test or
// time a lower tier on a newer machine; it is read once, with the cpuid.
//
// Intel SDM vol. 2A, CPUID: leaf 1 ECX bit 12 FMA, 19 SSE4.1, 27 OSXSAVE,
// 28 AVX, 29 F16C; EDX bit 26 SSE2. Leaf 7 sub-leaf 0 EBX bit 5 AVX2,
// 16 AVX512F, 17 AVX512DQ, 30 AVX512BW, 31 AVX512VL; ECX bit 1 AVX512_VBMI,
// 11 AVX512_VNNI. Leaf 7 sub-leaf 1 EAX bit 5 AVX512_BF16. XCR0 (xgetbv 0):
// bits 1-2 XMM and YMM state, bits 5-7 opmask and ZMM state.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "../config.hpp"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define FP8_CPUID_X86 1
#else
#define FP8_CPUID_X86 0
#endif

FP8_BEGIN_NAMESPACE

// The kernel tiers, oldest first; each needs every feature of the ones
// before it.
//   portable    plain C++
//   sse2        SSE2 (every x86-64)
//   avx2        AVX2 + FMA + F16C, with the OS saving YMM
//   avx512      AVX-512 F, BW, VL, DQ, with the OS saving ZMM and opmasks
//   avx512bf16  avx512 + BF16 (vdpbf16ps) + VBMI (vpermi2b)
enum class cpu_tier { portable, sse2, avx2, avx512, avx512bf16 };

struct cpu_features {
  bool sse2 = false, sse41 = false, avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vbmi = false, avx512vnni = false, avx512bf16 = false;
  bool os_ymm = false, os_zmm = false;  // XCR0 says the OS saves YMM / ZMM and opmask state
};

inline const char* tier_name(cpu_tier t) noexcept {
  switch (t) {
    case cpu_tier::portable: return "portable";
    case cpu_tier::sse2: return "sse2";
    case cpu_tier::avx2: return "avx2";
    case cpu_tier::avx512: return "avx512";
    case cpu_tier::avx512bf16: return "avx512bf16";
  }
  return "unknown";
}

// The best tier a CPU with these features runs.
inline cpu_tier best_tier(const cpu_features& f) noexcept {
  const bool avx2 = f.sse2 && f.avx2 && f.fma && f.f16c && f.os_ymm;
  const bool avx512 = avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.os_zmm;
  if (avx512 && f.avx512bf16 && f.avx512vbmi) return cpu_tier::avx512bf16;
  if (avx512) return cpu_tier::avx512;
  if (avx2) return cpu_tier::avx2;
  if (f.sse2) return cpu_tier::sse2;
  return cpu_tier::portable;
}

namespace detail {

inline cpu_features read_cpu_features() noexcept {
  cpu_features f;
#if FP8_CPUID_X86
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return f;
  const unsigned max_leaf = a;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  f.sse2 = (d >> 26) & 1;
  f.sse41 = (c >> 19) & 1;
  f.fma = (c >> 12) & 1;
  f.f16c = (c >> 29) & 1;
  const bool osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  if (osxsave && avx) {
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    f.os_ymm = (lo & 0x6u) == 0x6u;
    f.os_zmm = (lo & 0xE6u) == 0xE6u;
  }
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = (b >> 5) & 1;
    f.avx512f = (b >> 16) & 1;
    f.avx512dq = (b >> 17) & 1;
    f.avx512bw = (b >> 30) & 1;
    f.avx512vl = (b >> 31) & 1;
    f.avx512vbmi = (c >> 1) & 1;
    f.avx512vnni = (c >> 11) & 1;
    const unsigned subleaves = a;
    if (subleaves >= 1) {
      __cpuid_count(7, 1, a, b, c, d);
      f.avx512bf16 = (a >> 5) & 1;
    }
  }
#endif
  return f;
}

// FP8_MAX_TIER, or the best tier when unset or not a tier's name.
inline cpu_tier tier_cap_from_environment(cpu_tier best) noexcept {
  const char* v = std::getenv("FP8_MAX_TIER");
  if (v == nullptr) return best;
  const cpu_tier tiers[] = {cpu_tier::portable, cpu_tier::sse2, cpu_tier::avx2, cpu_tier::avx512, cpu_tier::avx512bf16};
  for (cpu_tier t : tiers)
    if (std::strcmp(v, tier_name(t)) == 0) return t < best ? t : best;
  return best;
}

}  // namespace detail

// The features of this CPU (read once; thread-safe).
inline const cpu_features& cpu() noexcept {
  static const cpu_features f = detail::read_cpu_features();
  return f;
}

// The best tier this CPU runs, capped by FP8_MAX_TIER (read once).
inline cpu_tier cpu_best_tier() noexcept {
  static const cpu_tier t = detail::tier_cap_from_environment(best_tier(cpu()));
  return t;
}

namespace detail {
// The calling thread's cap on the tier of the calls it makes (tier_scope).
inline cpu_tier& thread_tier_cap() noexcept {
  static thread_local cpu_tier cap = cpu_tier::avx512bf16;
  return cap;
}
}  // namespace detail

// While it lives, the calls this thread makes run no tier above t (nor above
// what they would run anyway): to test or time a lower tier in the same
// process, as FP8_MAX_TIER does for a whole process. Scopes nest; a call
// chooses its tier once, at its entry, so the pool threads it uses follow.
class tier_scope {
 public:
  explicit tier_scope(cpu_tier t) noexcept : saved_(detail::thread_tier_cap()) {
    detail::thread_tier_cap() = t < saved_ ? t : saved_;
  }
  ~tier_scope() { detail::thread_tier_cap() = saved_; }
  tier_scope(const tier_scope&) = delete;
  tier_scope& operator=(const tier_scope&) = delete;

 private:
  cpu_tier saved_;
};

FP8_END_NAMESPACE
