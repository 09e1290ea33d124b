// SPDX-License-Identifier: Apache-2.0
// The instruction sets this translation unit is compiled for, decided once at
// compile time from the compiler's target macros (-march=native, -mavx2, ...).
// Bulk entry points pick their kernel from these tags: one choice per call,
// never per vector (the Highway rule). The tags inherit, as xsimd's do, so an
// overload for an older ISA serves every newer one.
#pragma once

#include "../config.hpp"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__)
#define FP8_ISA_AVX512 1  // the Skylake-X subset: F, BW, VL, DQ
#else
#define FP8_ISA_AVX512 0
#endif
#if FP8_ISA_AVX512 && defined(__AVX512VBMI__)
#define FP8_ISA_AVX512VBMI 1  // vpermi2b / vpermb byte tables
#else
#define FP8_ISA_AVX512VBMI 0
#endif
#if FP8_ISA_AVX512 && defined(__AVX512BF16__)
#define FP8_ISA_AVX512BF16 1  // vcvtne2ps2bf16, vdpbf16ps
#else
#define FP8_ISA_AVX512BF16 0
#endif
#if FP8_ISA_AVX512 && defined(__AVX512VNNI__)
#define FP8_ISA_AVX512VNNI 1  // vpdpbusd
#else
#define FP8_ISA_AVX512VNNI 0
#endif
#if defined(__AVX2__) && defined(__FMA__)
#define FP8_ISA_AVX2 1  // AVX2 with FMA (Haswell and later)
#else
#define FP8_ISA_AVX2 0
#endif
#if defined(__SSE4_1__)
#define FP8_ISA_SSE41 1
#else
#define FP8_ISA_SSE41 0
#endif
#if defined(__SSE2__) || defined(_M_X64)
#define FP8_ISA_SSE2 1
#else
#define FP8_ISA_SSE2 0
#endif

FP8_BEGIN_NAMESPACE
namespace isa {

struct portable {  // plain C++ (and xsimd's default batch where useful)
  static constexpr const char* name = "portable";
};
struct sse2 : portable {
  static constexpr const char* name = "sse2";
};
struct avx2 : sse2 {
  static constexpr const char* name = "avx2";
};
struct avx512 : avx2 {
  static constexpr const char* name = "avx512";
};
// AVX-512 with BF16 (vdpbf16ps) and VBMI (vpermi2b): the GEMM and conv
// kernels' top tier (cpu_tier::avx512bf16). Not `best` of any build: its
// code is written in intrinsics under FP8_BEGIN_TARGET_AVX512BF16
// (detail/dispatch.hpp) and reached through detail::dispatch.
struct avx512bf16 : avx512 {
  static constexpr const char* name = "avx512bf16";
};

// The best tag this translation unit can use.
#if FP8_ISA_AVX512
using best = avx512;
#elif FP8_ISA_AVX2
using best = avx2;
#elif FP8_ISA_SSE2
using best = sse2;
#else
using best = portable;
#endif

}  // namespace isa
FP8_END_NAMESPACE
