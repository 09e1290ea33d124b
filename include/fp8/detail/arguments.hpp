// SPDX-License-Identifier: Apache-2.0
// The argument contract (README, "Arguments"), in one place: every entry
// point, FP8 and integer alike, checks its arguments with these before it
// reads or writes any buffer, so that one rule reads the same everywhere:
// - an enum argument is one of its enumerators (require_enumerator);
// - a buffer of n elements (check_array) or a row-major matrix with a
//   leading dimension (check_matrix) is present unless it is empty, and its
//   bytes fit size_t and end inside the address space (a count that does
//   not cannot describe a real buffer, and would wrap the overlap checks);
//   a leading dimension is at least a row;
// - two buffers overlap when their byte ranges intersect, an empty range
//   intersecting nothing (require_disjoint);
// - an array of scales holds positive finite floats only (check_scales), and
//   a product of scales that the kernels form in float stays in the normal
//   float range [2^-126, FLT_MAX] (check_scale_product), so that no
//   intermediate product overflows or loses bits to a subnormal where the
//   mathematical result would not.
// Everything judged from sizes and addresses is judged before any value of
// the caller's arrays is read.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>

#include "../config.hpp"
#include "../error.hpp"
#include "enum.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

// Throws unless e is an enumerator of E: "argument 'o' is 7, not an
// fp8::overflow".
template <class E>
void require_enumerator(const char* function, const char* argument, E e) {
  if (is_enumerator(e)) return;
  using U = typename std::underlying_type<E>::type;
  fail_argument(function, argument,
                "is " + std::to_string(static_cast<long long>(static_cast<U>(e))) + ", not an " + enum_info<E>::name);
}

// True when [p, p + p_bytes) and [q, q + q_bytes) intersect; empty ranges
// intersect nothing. Addresses are compared as integers (the ranges may
// belong to different allocations).
inline bool overlap(const void* p, std::size_t p_bytes, const void* q, std::size_t q_bytes) noexcept {
  if (p == nullptr || q == nullptr || p_bytes == 0 || q_bytes == 0) return false;
  const auto a = reinterpret_cast<std::uintptr_t>(p), b = reinterpret_cast<std::uintptr_t>(q);
  return a < b + q_bytes && b < a + p_bytes;
}

// Element sizes are in bytes, except `nibbles` (0): 4-bit elements, two to
// a byte (int4 / uint4 codes), so that `count` of them take
// ceil(count / 2) bytes.
constexpr std::size_t nibbles = 0;

// The bytes of `count` elements of `size` bytes, or false when that
// overflows size_t.
inline bool bytes_of(std::size_t count, std::size_t size, std::size_t& out) noexcept {
  if (size == nibbles) {
    out = count / 2 + count % 2;
    return true;
  }
  if (count > SIZE_MAX / size) return false;
  out = count * size;
  return true;
}

// True when `count` elements of `size` bytes at p fit size_t and end inside
// the address space: what a real buffer satisfies (a count that does not
// cannot describe one, and would wrap the overlap checks' arithmetic).
inline bool span_fits(const void* p, std::size_t count, std::size_t size) noexcept {
  std::size_t bytes = 0;
  return bytes_of(count, size, bytes) && reinterpret_cast<std::uintptr_t>(p) <= UINTPTR_MAX - bytes;
}

// The failures of the checks below, out of line: a check inlined into an
// entry costs a few compares, its message is built only when it fails.
[[noreturn]] FP8_NOINLINE inline void fail_because(const char* function, const char* argument, const char* a,
                                                   const char* b = "", const char* c = "") {
  fail_argument(function, argument, std::string(a) + b + c);
}

// Throws naming `name` ("overlaps <other>") when [p, p + p_bytes) and
// [q, q + q_bytes) intersect.
inline void require_disjoint(const char* function, const char* name, const void* p, std::size_t p_bytes,
                             const char* other, const void* q, std::size_t q_bytes) {
  if (overlap(p, p_bytes, q, q_bytes)) fail_because(function, name, "overlaps ", other);
}

// Throws unless an array that knows its count (fp8::counted, or anything
// with known() and size()) holds at least `needed` elements: "argument
// 'options.col_scale' holds 3 elements, the call reads n = 8" (reads: what
// the count is, "n" for n = 8). An unknown count passes (the caller
// vouches), and so does a null array (absent, or judged by the entry's own
// null check).
template <class A>
void require_count(const char* function, const char* argument, const A& a, std::size_t needed, const char* reads) {
  if (!a.known() || a.data() == nullptr || a.size() >= needed) return;
  fail_argument(
      function, argument,
      "holds " + std::to_string(a.size()) + " elements, the call reads " + reads + " = " + std::to_string(needed));
}

// An array argument: `count` elements of `size` bytes at p.
struct array_arg {
  const char* name;
  const void* p;
  std::size_t count, size;
};

// Checks the N arrays of a call in stages, every array at each stage before
// the next: present when its count is nonzero ("'src' is null while n >
// 0"; count_text says what the count is, by default the argument
// count_name); then inside size_t and the address space (else naming
// count_name). bytes[i]: the bytes of array i.
template <std::size_t N>
FP8_ALWAYS_INLINE void check_arrays(const char* function, const array_arg (&a)[N], std::size_t (&bytes)[N],
                                    const char* count_name = "n", const char* count_text = nullptr) {
  // Unrolled and inlined, so that the compiler sees which pointers were
  // found present (GCC's -Warray-bounds otherwise follows a null one on).
#pragma GCC unroll 4
  for (const array_arg& x : a)
    if (x.count != 0 && x.p == nullptr)
      fail_because(function, x.name, "is null while ", count_text != nullptr ? count_text : count_name, " > 0");
  for (std::size_t i = 0; i < N; ++i) {
    if (!span_fits(a[i].p, a[i].count, a[i].size))
      fail_because(function, count_name, "makes ", a[i].name,
                   " overflow size_t or run past the end of the address space");
    bytes_of(a[i].count, a[i].size, bytes[i]);  // fits: span_fits
  }
}
// One array: its bytes.
FP8_ALWAYS_INLINE std::size_t check_array(const char* function, const char* name, const void* p, std::size_t count,
                                          std::size_t size, const char* count_name = "n",
                                          const char* count_text = nullptr) {
  const array_arg one[1] = {{name, p, count, size}};
  std::size_t bytes[1];
  check_arrays(function, one, bytes, count_name, count_text);
  return bytes[0];
}

// Elements spanned by a row-major rows x cols matrix with leading dimension
// ld >= cols: (rows - 1) * ld + cols, or 0 when it is empty; false when
// they or their bytes (elements of `size` bytes) overflow size_t.
inline bool matrix_elements(std::size_t rows, std::size_t cols, std::size_t ld, std::size_t size,
                            std::size_t& out) noexcept {
  out = 0;
  if (rows == 0 || cols == 0) return true;
  constexpr std::size_t max = SIZE_MAX;
  if (rows - 1 > (max - cols) / ld) return false;
  const std::size_t elements = (rows - 1) * ld + cols;
  std::size_t bytes = 0;
  if (!bytes_of(elements, size, bytes)) return false;
  out = elements;
  return true;
}

// A row-major matrix argument: rows x cols elements of `size` bytes at p
// with leading dimension ld, and how messages name it: the pointer ("a"),
// its leading dimension ("lda"), the dimensions that make it nonempty ("m
// and k") and the row its leading dimension must reach ("k (A is m x k)").
struct matrix_arg {
  const char* name;
  const char* ld_name;
  const void* p;
  std::size_t rows, cols, ld, size;
  const char* dims = "rows and cols";
  const char* row = "cols";
};

// Checks the N matrices of a call in stages, every matrix at each stage
// before the next (so the argument named is the same whatever the order of
// the matrices): present when rows and cols are nonzero; ld >= cols (always,
// as BLAS asks); the span fits size_t; it ends inside the address space
// (both naming the leading dimension). bytes[i]: the bytes matrix i spans.
template <std::size_t N>
FP8_ALWAYS_INLINE void check_matrices(const char* function, const matrix_arg (&m)[N], std::size_t (&bytes)[N]) {
#pragma GCC unroll 4
  for (const matrix_arg& x : m)
    if (x.rows != 0 && x.cols != 0 && x.p == nullptr)
      fail_because(function, x.name, "is null while ", x.dims, " are nonzero");
  for (const matrix_arg& x : m)
    if (x.ld < x.cols) fail_because(function, x.ld_name, "is smaller than ", x.row);
  std::size_t elements[N];
  for (std::size_t i = 0; i < N; ++i)
    if (!matrix_elements(m[i].rows, m[i].cols, m[i].ld, m[i].size, elements[i]))
      fail_because(function, m[i].ld_name, "makes the span of ", m[i].name, " overflow size_t");
  for (std::size_t i = 0; i < N; ++i) {
    if (!span_fits(m[i].p, elements[i], m[i].size))
      fail_because(function, m[i].ld_name, "makes ", m[i].name, " run past the end of the address space");
    bytes_of(elements[i], m[i].size, bytes[i]);  // fits: matrix_elements
  }
}
// One matrix: its bytes.
inline std::size_t check_matrix(const char* function, const matrix_arg& m) {
  const matrix_arg one[1] = {m};
  std::size_t bytes[1];
  check_matrices(function, one, bytes);
  return bytes[0];
}

inline std::string float_text(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", x);
  return buffer;
}

// The least and greatest value of an array of scales (both 1 when the array
// is absent: an absent scale is 1). Double, so that products of a few of
// them never overflow or underflow (float's range cubed is inside double's).
struct scale_range {
  double lo = 1.0, hi = 1.0;
};
inline scale_range operator*(scale_range a, scale_range b) noexcept { return {a.lo * b.lo, a.hi * b.hi}; }

// Throws unless each of the count floats at p is positive and finite
// ("argument 'options.col_scale' [3] = 0 is not a positive finite float");
// returns their range. p may be null (no scales: {1, 1}). The scan is one
// branch-free pass; the element is named by a second pass only on failure.
inline scale_range check_scales(const char* function, const char* argument, const float* p, std::size_t count) {
  if (p == nullptr || count == 0) return {};
  float lo = p[0], hi = p[0];
  bool ok = true;
  for (std::size_t i = 0; i < count; ++i) {
    const float x = p[i];
    ok &= (x > 0.0f) & (x <= FLT_MAX);  // false for NaN
    lo = x < lo ? x : lo;
    hi = x > hi ? x : hi;
  }
  if (!ok)
    for (std::size_t i = 0; i < count; ++i)
      if (!(p[i] > 0.0f && p[i] <= FLT_MAX))
        fail_argument(function, argument,
                      "[" + std::to_string(i) + "] = " + float_text(p[i]) + " is not a positive finite float");
  return {lo, hi};
}

// Throws unless every value in [r.lo, r.hi] (a product of scales, formed
// in float by the kernels) lies in the normal float range [2^-126, FLT_MAX].
inline void check_scale_product(const char* function, const char* argument, const char* what, scale_range r) {
  if (r.lo >= 0x1p-126 && r.hi <= FLT_MAX) return;
  fail_argument(function, argument,
                std::string(what) + " ranges over [" + float_text(r.lo) + ", " + float_text(r.hi) +
                    "], outside the normal float range [2^-126, FLT_MAX]");
}

}  // namespace detail
FP8_END_NAMESPACE
