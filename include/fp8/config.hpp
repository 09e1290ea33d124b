// SPDX-License-Identifier: Apache-2.0
// Library-wide configuration: the version, the inline ABI namespace, and the
// FP8_* portability macros (constexpr bit casts, CUDA host/device markers).
// Nothing here depends on xsimd or on any instruction set.
#pragma once

// C++17 or later: one clear error instead of the many a C++14 compiler gives
// on the headers (fp8.hpp then includes nothing else). MSVC reports the
// standard in _MSVC_LANG.
#if defined(_MSVC_LANG) && _MSVC_LANG > __cplusplus
#define FP8_CPLUSPLUS _MSVC_LANG
#else
#define FP8_CPLUSPLUS __cplusplus
#endif
#if FP8_CPLUSPLUS < 201703L
#define FP8_CXX17 0
#error "fp8 needs C++17 or later: compile with -std=c++17 (or /std:c++17)"
#else
#define FP8_CXX17 1
#endif

#define FP8_VERSION_MAJOR 0
#define FP8_VERSION_MINOR 1
#define FP8_VERSION_PATCH 0
#define FP8_VERSION (FP8_VERSION_MAJOR * 10000 + FP8_VERSION_MINOR * 100 + FP8_VERSION_PATCH)

// Every public name lives in fp8::FP8_ABI_NAMESPACE; the namespace is inline, so
// users spell fp8::e4m3_t, while two incompatible versions linked into one
// program get distinct mangled names.
#define FP8_ABI_NAMESPACE v0
#define FP8_BEGIN_NAMESPACE \
  namespace fp8 {           \
  inline namespace FP8_ABI_NAMESPACE {
#define FP8_END_NAMESPACE \
  }                       \
  }

#if FP8_CXX17
FP8_BEGIN_NAMESPACE
// The version of the headers a unit was compiled with (FP8_VERSION_* as
// numbers), for a program to report or check at run time.
struct version_info {
  int major, minor, patch;
};
constexpr version_info version() noexcept { return {FP8_VERSION_MAJOR, FP8_VERSION_MINOR, FP8_VERSION_PATCH}; }
FP8_END_NAMESPACE
#endif

// Functions of the scalar layer (types/, codec/scalar.hpp) are callable from
// CUDA device code when the headers are compiled by nvcc.
#if defined(__CUDACC__)
#define FP8_HOST_DEVICE __host__ __device__
#else
#define FP8_HOST_DEVICE
#endif

#if defined(__has_builtin)
#define FP8_HAS_BUILTIN(x) __has_builtin(x)
#else
#define FP8_HAS_BUILTIN(x) 0
#endif

// A constexpr bit cast needs compiler support in C++17 (std::bit_cast is
// C++20). GCC >= 11, clang >= 9, MSVC >= 19.27 and nvcc >= 11 provide
// __builtin_bit_cast; elsewhere the conversions still work but are not
// constant expressions.
#if FP8_HAS_BUILTIN(__builtin_bit_cast) || (defined(_MSC_VER) && _MSC_VER >= 1927)
#define FP8_CONSTEXPR_BIT_CAST 1
#else
#define FP8_CONSTEXPR_BIT_CAST 0
#endif
// The specifier of every function that bit-casts: constexpr where it can be.
#if FP8_CONSTEXPR_BIT_CAST
#define FP8_BIT_CAST_CONSTEXPR constexpr
#else
#define FP8_BIT_CAST_CONSTEXPR inline
#endif

// A micro-kernel entry the compiler must not inline into its driver loops:
// inlined, GCC 12 allocates the 24 accumulators of the vdpbf16ps tile
// together with the loops' state and the tile slows down by 1.8x (conv's
// direct path, measured in bench_conv); a call per tile costs nothing.
#if defined(__GNUC__) || defined(__clang__)
#define FP8_NOINLINE __attribute__((noinline))
#else
#define FP8_NOINLINE
#endif
// A helper a kernel must inline (its vectors stay in registers), where the
// compiler's heuristics would make it a call.
#if defined(__GNUC__) || defined(__clang__)
#define FP8_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define FP8_ALWAYS_INLINE inline
#endif
