// SPDX-License-Identifier: Apache-2.0
// The loops of the ptq metrics (ptq/metrics.hpp) on every tier: the
// error_stats pass, histogram binning and the kld range scan. The scalar
// definitions come first (one pair, one value: what every tier's head and
// tail run and what the portable tier is); then, per x86 tier, the lane
// operations `ops` (float and double vectors) in the tier's target region
// (detail/dispatch.hpp); the loops themselves are written once
// (metrics_loops-inl.hpp) and included in each tier's namespace, so they are
// compiled for the tier and inline its operations. The entries of
// metrics.hpp choose the tier once per call (detail::dispatch).
//
// One definition on every tier and build: the pair at stream position p goes
// to partial sum p mod 16 (stats_lanes) on every tier, the portable one
// included, and E^2 is added with one fused multiply-add everywhere (vfmadd
// on avx2 and avx512; on sse2 vfmadd where the flags have FMA, else
// std::fma lane by lane; std::fma in the scalar path). The other products
// (R^2, X^2, R X of floats widened to double) are exact, so whether a
// compiler fuses them changes no bit. Binning and the scan compute exactly
// the scalar rule lane by lane. So every tier gives the same bits.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"

#if FP8_ISA_SSE2 || FP8_TIER_AVX2 || FP8_TIER_AVX512
#include <immintrin.h>
#endif

FP8_BEGIN_NAMESPACE
namespace detail {

// ---------------------------------------------------------------- the scalar definitions

// 16 partial sums on every tier: one AVX-512 float vector of pairs, two AVX2
// ones, four SSE2 ones, sixteen single pairs.
constexpr std::size_t stats_lanes = 16;
enum stats_sum { sum_rr_, sum_xx_, sum_rx_, sum_ee_, sum_ae_, stats_sums_ };

struct stats_state {
  double lane[stats_sums_][stats_lanes] = {};
  double max_abs = 0.0;                  // M, exact: a maximum is order-free
  std::uint64_t pairs = 0;               // every pair given to add(): the stream position
  std::uint64_t skipped = 0;             // reference NaN
  std::uint64_t nonfinite = 0;           // non-finite error
  std::uint64_t matched_infinities = 0;  // x == r, both infinite
};

// The partial sum of the pair at stream position p.
inline std::size_t stats_lane_of(std::uint64_t p) noexcept { return static_cast<std::size_t>(p % stats_lanes); }

inline bool both_finite(float r, float x) noexcept {
  return std::fabs(r) <= FLT_MAX && std::fabs(x) <= FLT_MAX;  // false for NaN
}

// A pair that is not both finite: the NaN/Inf rule.
inline void classify_nonfinite(stats_state& s, float r, float x) noexcept {
  if (r != r)
    ++s.skipped;
  else if (x == r)
    ++s.matched_infinities;
  else
    ++s.nonfinite;
}

// One pair into partial sum j: the definition. std::fma for E^2 whatever the
// flags (glibc's fma uses the instruction where the CPU has it), so that
// neither the flags nor compiler contraction changes the bits.
inline void stats_pair(stats_state& s, std::size_t j, float r, float x) noexcept {
  if (!both_finite(r, x)) {
    classify_nonfinite(s, r, x);
    return;
  }
  const double R = r, X = x, E = X - R, A = std::fabs(E);
  s.lane[sum_rr_][j] += R * R;
  s.lane[sum_xx_][j] += X * X;
  s.lane[sum_rx_][j] += R * X;
  s.lane[sum_ee_][j] = std::fma(E, E, s.lane[sum_ee_][j]);
  s.lane[sum_ae_][j] += A;
  s.max_abs = A > s.max_abs ? A : s.max_abs;
}

// The bin of v by the definition (metrics.hpp), or bins, bins + 1,
// bins + 2 for below, above and NaN: the slots after the bins where the
// histogram keeps those counts.
inline std::size_t bin_index(float v, float lo, float hi, double scale, std::size_t bins) noexcept {
  if (v != v) return bins + 2;
  if (v < lo) return bins;
  if (v > hi) return bins + 1;
  const double t = (static_cast<double>(v) - static_cast<double>(lo)) * scale;
  const double last = static_cast<double>(bins - 1);
  return static_cast<std::size_t>(t < last ? t : last);  // t >= 0: truncation is floor
}

struct bin_params {
  float lo, hi;
  double scale;
  std::size_t bins;
};

struct kld_scan_result {
  bool nonfinite = false, skipped = false;
  // The range of the finite reference values of the compared pairs; empty
  // (lo > hi) when there is none. A zero bound is +0 (the lanes of a vector
  // scan meet -0 and +0 in another order than a scalar one; the sign of a
  // zero bound changes no bin).
  float lo = std::numeric_limits<float>::infinity(), hi = -std::numeric_limits<float>::infinity();
};
// One pair under the NaN/Inf rule; false for a non-finite error.
inline bool kld_scan_pair(kld_scan_result& s, float a, float b) noexcept {
  if (a != a) {
    s.skipped = true;
    return true;
  }
  if (!both_finite(a, b)) return b == a;  // equal infinities: compared, outside every finite range
  s.lo = a < s.lo ? a : s.lo;
  s.hi = a > s.hi ? a : s.hi;
  return true;
}
inline kld_scan_result kld_scan_finish(kld_scan_result s) noexcept {
  if (s.lo == 0.0f) s.lo = 0.0f;
  if (s.hi == 0.0f) s.hi = 0.0f;
  return s;
}

}  // namespace detail
FP8_END_NAMESPACE

// ---------------------------------------------------------------- lane operations per tier
//
// Each `ops`: fv (float vector of L lanes), dv (double vector of H = L / 2),
// their masks, and the operations the loops use, each the instruction of its
// name. minf / mind (maxf / maxd) are a < b ? a : b (a > b ? a : b), the
// scalar rule's choice; the loops only give them non-NaN values.

#if FP8_TIER_AVX512
FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace ptq_avx512 {
// Zero-masking forms with a full mask where GCC 12's unmasked intrinsics
// start from an undefined register (the same instructions).
struct ops {
  using fv = __m512;
  using dv = __m512d;
  using fmask = __mmask16;
  using dmask = __mmask8;
  static constexpr std::size_t L = 16, H = 8;
  static fv loadf(const float* p) noexcept { return _mm512_loadu_ps(p); }
  static void storef(float* p, fv v) noexcept { _mm512_storeu_ps(p, v); }
  static fv set1f(float v) noexcept { return _mm512_set1_ps(v); }
  static fv absf(fv v) noexcept {
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7FFFFFFF)));
  }
  // vfpclassps (DQ) with categories QNaN 0x01, +inf 0x08, -inf 0x10, SNaN
  // 0x80: the lanes where r or x is not finite, in fewer instructions
  // than absolute values and comparisons (the L1-resident loop's speed
  // depended on its instruction count and layout).
  static fmask nonfinite(fv r, fv x) noexcept {
    return static_cast<fmask>(_mm512_fpclass_ps_mask(r, 0x99) | _mm512_fpclass_ps_mask(x, 0x99));
  }
  static bool any(fmask m) noexcept { return m != 0; }
  static fv zero_where(fmask m, fv v) noexcept { return _mm512_maskz_mov_ps(static_cast<fmask>(~m), v); }
  static fv minf(fv a, fv b) noexcept { return _mm512_maskz_min_ps(0xFFFF, a, b); }
  static fv maxf(fv a, fv b) noexcept { return _mm512_maskz_max_ps(0xFFFF, a, b); }
  static void widen(fv v, dv& lo, dv& hi) noexcept {
    lo = _mm512_maskz_cvtps_pd(0xFF, _mm512_maskz_extractf32x8_ps(0xFF, v, 0));
    hi = _mm512_maskz_cvtps_pd(0xFF, _mm512_maskz_extractf32x8_ps(0xFF, v, 1));
  }
  static dv loadd(const double* p) noexcept { return _mm512_loadu_pd(p); }
  static void stored(double* p, dv v) noexcept { _mm512_storeu_pd(p, v); }
  static dv set1d(double v) noexcept { return _mm512_set1_pd(v); }
  static dv add(dv a, dv b) noexcept { return _mm512_add_pd(a, b); }
  static dv sub(dv a, dv b) noexcept { return _mm512_sub_pd(a, b); }
  static dv mul(dv a, dv b) noexcept { return _mm512_mul_pd(a, b); }
  static dv absd(dv v) noexcept {
    return _mm512_castsi512_pd(
        _mm512_and_si512(_mm512_castpd_si512(v), _mm512_set1_epi64(std::int64_t{0x7FFFFFFFFFFFFFFF})));
  }
  static dv mind(dv a, dv b) noexcept { return _mm512_maskz_min_pd(0xFF, a, b); }
  static dv maxd(dv a, dv b) noexcept { return _mm512_maskz_max_pd(0xFF, a, b); }
  static dv fma_square(dv s, dv e) noexcept { return _mm512_fmadd_pd(e, e, s); }  // s + e e, one rounding
  static dmask lt(dv a, dv b) noexcept { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
  static dmask gt(dv a, dv b) noexcept { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
  static dmask isnan(dv v) noexcept { return _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q); }
  static dv select(dmask m, dv a, dv b) noexcept { return _mm512_mask_blend_pd(m, b, a); }  // m ? a : b
  // Truncation of integral-valued lanes to int32, stored at p (H of them).
  static void store_int32(dv t, std::int32_t* p) noexcept {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_maskz_cvttpd_epi32(0xFF, t));
  }
};
}  // namespace ptq_avx512
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512
#endif  // FP8_TIER_AVX512

#if FP8_TIER_AVX2
FP8_BEGIN_TARGET_AVX2
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace ptq_avx2 {
struct ops {
  using fv = __m256;
  using dv = __m256d;
  using fmask = __m256;  // all ones where true
  using dmask = __m256d;
  static constexpr std::size_t L = 8, H = 4;
  static fv loadf(const float* p) noexcept { return _mm256_loadu_ps(p); }
  static void storef(float* p, fv v) noexcept { _mm256_storeu_ps(p, v); }
  static fv set1f(float v) noexcept { return _mm256_set1_ps(v); }
  static fv absf(fv v) noexcept { return _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF))); }
  static fmask nonfinite(fv r, fv x) noexcept {  // |v| > FLT_MAX or unordered: true for NaN
    const fv limit = set1f(FLT_MAX);
    return _mm256_or_ps(_mm256_cmp_ps(absf(r), limit, _CMP_NLE_UQ), _mm256_cmp_ps(absf(x), limit, _CMP_NLE_UQ));
  }
  static bool any(fmask m) noexcept { return _mm256_movemask_ps(m) != 0; }
  static fv zero_where(fmask m, fv v) noexcept { return _mm256_andnot_ps(m, v); }
  static fv minf(fv a, fv b) noexcept { return _mm256_min_ps(a, b); }
  static fv maxf(fv a, fv b) noexcept { return _mm256_max_ps(a, b); }
  static void widen(fv v, dv& lo, dv& hi) noexcept {
    lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
  }
  static dv loadd(const double* p) noexcept { return _mm256_loadu_pd(p); }
  static void stored(double* p, dv v) noexcept { _mm256_storeu_pd(p, v); }
  static dv set1d(double v) noexcept { return _mm256_set1_pd(v); }
  static dv add(dv a, dv b) noexcept { return _mm256_add_pd(a, b); }
  static dv sub(dv a, dv b) noexcept { return _mm256_sub_pd(a, b); }
  static dv mul(dv a, dv b) noexcept { return _mm256_mul_pd(a, b); }
  static dv absd(dv v) noexcept {
    return _mm256_and_pd(v, _mm256_castsi256_pd(_mm256_set1_epi64x(std::int64_t{0x7FFFFFFFFFFFFFFF})));
  }
  static dv mind(dv a, dv b) noexcept { return _mm256_min_pd(a, b); }
  static dv maxd(dv a, dv b) noexcept { return _mm256_max_pd(a, b); }
  static dv fma_square(dv s, dv e) noexcept { return _mm256_fmadd_pd(e, e, s); }
  static dmask lt(dv a, dv b) noexcept { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
  static dmask gt(dv a, dv b) noexcept { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
  static dmask isnan(dv v) noexcept { return _mm256_cmp_pd(v, v, _CMP_UNORD_Q); }
  static dv select(dmask m, dv a, dv b) noexcept { return _mm256_blendv_pd(b, a, m); }
  static void store_int32(dv t, std::int32_t* p) noexcept {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvttpd_epi32(t));
  }
};
}  // namespace ptq_avx2
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX2
#endif  // FP8_TIER_AVX2

#if FP8_ISA_SSE2
// The baseline of x86-64: no target region. With the flags' FMA, E^2 is one
// vfmadd; without it std::fma lane by lane, the same value (a rounded
// product and a sum would round twice and change the bits).
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace ptq_sse2 {
struct ops {
  using fv = __m128;
  using dv = __m128d;
  using fmask = __m128;
  using dmask = __m128d;
  static constexpr std::size_t L = 4, H = 2;
  static fv loadf(const float* p) noexcept { return _mm_loadu_ps(p); }
  static void storef(float* p, fv v) noexcept { _mm_storeu_ps(p, v); }
  static fv set1f(float v) noexcept { return _mm_set1_ps(v); }
  static fv absf(fv v) noexcept { return _mm_and_ps(v, _mm_castsi128_ps(_mm_set1_epi32(0x7FFFFFFF))); }
  static fmask nonfinite(fv r, fv x) noexcept {  // cmpnle is true for NaN
    const fv limit = set1f(FLT_MAX);
    return _mm_or_ps(_mm_cmpnle_ps(absf(r), limit), _mm_cmpnle_ps(absf(x), limit));
  }
  static bool any(fmask m) noexcept { return _mm_movemask_ps(m) != 0; }
  static fv zero_where(fmask m, fv v) noexcept { return _mm_andnot_ps(m, v); }
  static fv minf(fv a, fv b) noexcept { return _mm_min_ps(a, b); }
  static fv maxf(fv a, fv b) noexcept { return _mm_max_ps(a, b); }
  static void widen(fv v, dv& lo, dv& hi) noexcept {
    lo = _mm_cvtps_pd(v);
    hi = _mm_cvtps_pd(_mm_movehl_ps(v, v));
  }
  static dv loadd(const double* p) noexcept { return _mm_loadu_pd(p); }
  static void stored(double* p, dv v) noexcept { _mm_storeu_pd(p, v); }
  static dv set1d(double v) noexcept { return _mm_set1_pd(v); }
  static dv add(dv a, dv b) noexcept { return _mm_add_pd(a, b); }
  static dv sub(dv a, dv b) noexcept { return _mm_sub_pd(a, b); }
  static dv mul(dv a, dv b) noexcept { return _mm_mul_pd(a, b); }
  static dv absd(dv v) noexcept {
    return _mm_and_pd(v, _mm_castsi128_pd(_mm_set1_epi64x(std::int64_t{0x7FFFFFFFFFFFFFFF})));
  }
  static dv mind(dv a, dv b) noexcept { return _mm_min_pd(a, b); }
  static dv maxd(dv a, dv b) noexcept { return _mm_max_pd(a, b); }
  static dv fma_square(dv s, dv e) noexcept {
#if defined(__FMA__)
    return _mm_fmadd_pd(e, e, s);
#else
    alignas(16) double sv[2], ev[2];
    _mm_store_pd(sv, s);
    _mm_store_pd(ev, e);
    return _mm_set_pd(std::fma(ev[1], ev[1], sv[1]), std::fma(ev[0], ev[0], sv[0]));
#endif
  }
  static dmask lt(dv a, dv b) noexcept { return _mm_cmplt_pd(a, b); }
  static dmask gt(dv a, dv b) noexcept { return _mm_cmpgt_pd(a, b); }
  static dmask isnan(dv v) noexcept { return _mm_cmpunord_pd(v, v); }
  static dv select(dmask m, dv a, dv b) noexcept { return _mm_or_pd(_mm_and_pd(m, a), _mm_andnot_pd(m, b)); }
  static void store_int32(dv t, std::int32_t* p) noexcept {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_cvttpd_epi32(t));
  }
};
}  // namespace ptq_sse2
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
#endif  // FP8_ISA_SSE2

// ---------------------------------------------------------------- the loops per tier

#if FP8_TIER_AVX512
FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace ptq_avx512 {
#include "metrics_loops-inl.hpp"
}  // namespace ptq_avx512
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512
#endif
#if FP8_TIER_AVX2
FP8_BEGIN_TARGET_AVX2
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace ptq_avx2 {
#include "metrics_loops-inl.hpp"
}  // namespace ptq_avx2
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX2
#endif

FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
#if FP8_ISA_SSE2
namespace ptq_sse2 {
#include "metrics_loops-inl.hpp"
}  // namespace ptq_sse2
#endif

// The tier overloads the entries dispatch to (isa tags inherit: avx512bf16
// runs the avx512 loops). The portable tier is the scalar definition.
inline void stats_add(stats_state& s, const float* r, const float* x, std::size_t n, isa::portable) noexcept {
  for (std::size_t i = 0; i < n; ++i) stats_pair(s, stats_lane_of(s.pairs + i), r[i], x[i]);
  s.pairs += n;
}
template <bool Magnitude>
void bin_values(std::uint64_t* counts, const float* x, std::size_t n, const bin_params& p, isa::portable) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    ++counts[bin_index(Magnitude ? std::fabs(x[i]) : x[i], p.lo, p.hi, p.scale, p.bins)];
}
inline kld_scan_result kld_scan(const float* r, const float* x, std::size_t n, isa::portable) noexcept {
  kld_scan_result s;
  for (std::size_t i = 0; i < n; ++i)
    if (!kld_scan_pair(s, r[i], x[i])) {
      s.nonfinite = true;
      return s;
    }
  return kld_scan_finish(s);
}

#define FP8_DETAIL_PTQ_TIER(ns, tag)                                                                          \
  inline void stats_add(stats_state& s, const float* r, const float* x, std::size_t n, tag) noexcept {       \
    ns::stats_add(s, r, x, n);                                                                                \
  }                                                                                                           \
  template <bool Magnitude>                                                                                   \
  void bin_values(std::uint64_t* counts, const float* x, std::size_t n, const bin_params& p, tag) noexcept { \
    ns::bin_values<Magnitude>(counts, x, n, p);                                                               \
  }                                                                                                           \
  inline kld_scan_result kld_scan(const float* r, const float* x, std::size_t n, tag) noexcept {             \
    return ns::kld_scan(r, x, n);                                                                             \
  }
#if FP8_ISA_SSE2
FP8_DETAIL_PTQ_TIER(ptq_sse2, isa::sse2)
#endif
#if FP8_TIER_AVX2
FP8_DETAIL_PTQ_TIER(ptq_avx2, isa::avx2)
#endif
#if FP8_TIER_AVX512
FP8_DETAIL_PTQ_TIER(ptq_avx512, isa::avx512)
#endif
#undef FP8_DETAIL_PTQ_TIER

FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
