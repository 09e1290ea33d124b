// SPDX-License-Identifier: Apache-2.0
// How an entry point chooses its kernel tier, and the namespace that keeps
// translation units built with different flags apart (docs/dispatch.md).
//
// FP8_DISPATCH selects the rule, fixed per program:
//   FP8_DISPATCH_RUNTIME (the default): the entry runs the best tier the CPU
//     supports (detail/cpu.hpp, detected once), whatever the build's flags;
//     tiers above the flags are compiled inside the headers with function
//     target attributes (GCC and clang on x86-64).
//   FP8_DISPATCH_STATIC: the tier the build's flags enable, no CPU check
//     (the behaviour before run-time dispatch).
//
// Every function whose code depends on the build's flags lives in the
// inline namespace FP8_TU_NAMESPACE, named after the flags (isa_<7 bits>:
// SSE2, SSE4.1, AVX2+FMA, AVX-512 F/BW/VL/DQ, VBMI, BF16, VNNI), so two
// translation units built with different flags never share a mangled name:
// each runs the code it was compiled for. (A function with
// __attribute__((target("avx2"))) in a unit built with -march for an
// AVX-512 CPU may use AVX-512 instructions: GCC adds the attribute's
// features to the unit's; so even the tier functions must be kept apart.)
#pragma once

#include "cpu.hpp"
#include "isa.hpp"

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>  // every intrinsic is declared; target attributes enable them per function
#endif

#define FP8_DISPATCH_RUNTIME 1
#define FP8_DISPATCH_STATIC 2
#ifndef FP8_DISPATCH
#define FP8_DISPATCH FP8_DISPATCH_RUNTIME
#endif
#if FP8_DISPATCH != FP8_DISPATCH_RUNTIME && FP8_DISPATCH != FP8_DISPATCH_STATIC
#error "FP8_DISPATCH must be FP8_DISPATCH_RUNTIME or FP8_DISPATCH_STATIC"
#endif

#define FP8_DETAIL_CAT8(a, b, c, d, e, f, g, h) a##b##c##d##e##f##g##h
#define FP8_DETAIL_TU_NAME(a, b, c, d, e, f, g, h) FP8_DETAIL_CAT8(a, b, c, d, e, f, g, h)
// A unit built with FP8_PROFILE=1 (kernels/profile.hpp: the kernels time
// their phases) gets a namespace of its own too.
#if defined(FP8_PROFILE) && FP8_PROFILE
#define FP8_DETAIL_TU_PREFIX isa_profiled_
#else
#define FP8_DETAIL_TU_PREFIX isa_
#endif
#define FP8_TU_NAMESPACE                                                                                     \
  FP8_DETAIL_TU_NAME(FP8_DETAIL_TU_PREFIX, FP8_ISA_SSE2, FP8_ISA_SSE41, FP8_ISA_AVX2, FP8_ISA_AVX512, FP8_ISA_AVX512VBMI, \
                     FP8_ISA_AVX512BF16, FP8_ISA_AVX512VNNI)
#define FP8_BEGIN_TU_NAMESPACE inline namespace FP8_TU_NAMESPACE {
#define FP8_END_TU_NAMESPACE }

// Function target attributes for the tiers above the build's flags.
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define FP8_HAVE_TARGET_ATTRIBUTES 1
#define FP8_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define FP8_TARGET_AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))
#else
#define FP8_HAVE_TARGET_ATTRIBUTES 0
#endif

// A region of code for a tier: every function defined between
// FP8_BEGIN_TARGET_<TIER> and FP8_END_TARGET_<TIER> (templates and their
// later instantiations included) is compiled for the tier's features,
// whatever the unit's flags (GCC: a target pragma; clang: an attribute
// pushed onto every function, as Highway does). Both are empty when the
// flags already enable the tier. Open and close a region at file scope,
// outside any namespace, and include nothing inside it.
#define FP8_DETAIL_PRAGMA(x) _Pragma(#x)
#if FP8_HAVE_TARGET_ATTRIBUTES && defined(__clang__)
#define FP8_DETAIL_BEGIN_TARGET(features) \
  FP8_DETAIL_PRAGMA(clang attribute push(__attribute__((target(features))), apply_to = function))
#define FP8_DETAIL_END_TARGET FP8_DETAIL_PRAGMA(clang attribute pop)
#elif FP8_HAVE_TARGET_ATTRIBUTES
#define FP8_DETAIL_BEGIN_TARGET(features) FP8_DETAIL_PRAGMA(GCC push_options) FP8_DETAIL_PRAGMA(GCC target(features))
#define FP8_DETAIL_END_TARGET FP8_DETAIL_PRAGMA(GCC pop_options)
#else
#define FP8_DETAIL_BEGIN_TARGET(features)
#define FP8_DETAIL_END_TARGET
#endif

#if FP8_ISA_AVX2
#define FP8_BEGIN_TARGET_AVX2
#define FP8_END_TARGET_AVX2
#else
#define FP8_BEGIN_TARGET_AVX2 FP8_DETAIL_BEGIN_TARGET("avx2,fma,f16c")
#define FP8_END_TARGET_AVX2 FP8_DETAIL_END_TARGET
#endif
#if FP8_ISA_AVX512
#define FP8_BEGIN_TARGET_AVX512
#define FP8_END_TARGET_AVX512
#else
#define FP8_BEGIN_TARGET_AVX512 FP8_DETAIL_BEGIN_TARGET("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")
#define FP8_END_TARGET_AVX512 FP8_DETAIL_END_TARGET
#endif
#if FP8_ISA_AVX512BF16 && FP8_ISA_AVX512VBMI
#define FP8_BEGIN_TARGET_AVX512BF16
#define FP8_END_TARGET_AVX512BF16
#else
#define FP8_BEGIN_TARGET_AVX512BF16 \
  FP8_DETAIL_BEGIN_TARGET("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,avx512bf16")
#define FP8_END_TARGET_AVX512BF16 FP8_DETAIL_END_TARGET
#endif

// The tiers an entry can run: compiled for by the flags, or (run-time
// dispatch) by target attributes.
#define FP8_TIER_AVX2 (FP8_ISA_AVX2 || (FP8_DISPATCH == FP8_DISPATCH_RUNTIME && FP8_HAVE_TARGET_ATTRIBUTES))
#define FP8_TIER_AVX512 (FP8_ISA_AVX512 || (FP8_DISPATCH == FP8_DISPATCH_RUNTIME && FP8_HAVE_TARGET_ATTRIBUTES))
#define FP8_TIER_AVX512BF16                     \
  ((FP8_ISA_AVX512BF16 && FP8_ISA_AVX512VBMI) || \
   (FP8_DISPATCH == FP8_DISPATCH_RUNTIME && FP8_HAVE_TARGET_ATTRIBUTES))

FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE

// A type named after the unit's flags: a default template argument of this
// type keeps a member function of a class shared by every unit (packed_b's
// constructor) apart between units built with different flags.
struct tu_key {};

// The tier the build's flags enable.
constexpr cpu_tier static_tier() noexcept {
#if FP8_ISA_AVX512 && FP8_ISA_AVX512BF16 && FP8_ISA_AVX512VBMI
  return cpu_tier::avx512bf16;
#elif FP8_ISA_AVX512
  return cpu_tier::avx512;
#elif FP8_ISA_AVX2
  return cpu_tier::avx2;
#elif FP8_ISA_SSE2
  return cpu_tier::sse2;
#else
  return cpu_tier::portable;
#endif
}

// The tier an entry runs: chosen once per call, here and nowhere below.
// Under static dispatch the flags' tier, lowered by a tier_scope only.
inline cpu_tier entry_tier() noexcept {
#if FP8_DISPATCH == FP8_DISPATCH_RUNTIME
  const cpu_tier t = cpu_best_tier();
#else
  const cpu_tier t = static_tier();
#endif
  const cpu_tier cap = thread_tier_cap();
  return cap < t ? cap : t;
}

// Calls f with the isa tag of the best tier that is both compiled (flags or
// target attributes) and chosen by entry_tier(): f(isa::avx512bf16{}),
// f(isa::avx512{}),
// f(isa::avx2{}), f(isa::sse2{}) or f(isa::portable{}). A kernel family
// provides one overload per tier it has (the tags inherit, so an older
// tier's overload serves a newer tag).
template <class Fn>
decltype(auto) dispatch(Fn&& f) {
  const cpu_tier t = entry_tier();
#if FP8_TIER_AVX512BF16
  if (t >= cpu_tier::avx512bf16) return f(isa::avx512bf16{});
#endif
#if FP8_TIER_AVX512
  if (t >= cpu_tier::avx512) return f(isa::avx512{});
#endif
#if FP8_TIER_AVX2
  if (t >= cpu_tier::avx2) return f(isa::avx2{});
#endif
#if FP8_ISA_SSE2
  if (t >= cpu_tier::sse2) return f(isa::sse2{});
#endif
  (void)t;
  return f(isa::portable{});
}

FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
