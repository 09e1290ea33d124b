// SPDX-License-Identifier: Apache-2.0
// Compiles a body written once for every vector tier of the codec: includes
// the file named by FP8_CODEC_TIER_BODY (a quoted path, relative to this
// directory) once per tier, inside the tier's namespace, detail::sse2,
// detail::avx2 or detail::avx512, where the body finds the tier's lane
// operations `ops` (codec/simd_core.hpp, codec/kernels_avx2.hpp,
// codec/kernels_avx512.hpp), and, for the tiers above the build's flags,
// inside the tier's target region (detail/dispatch.hpp). This is the one
// place that opens those regions and namespaces for such bodies (Highway's
// foreach_target.h does the same). Include it at file scope after
// codec/kernels.hpp's includes; it has no include guard (it is included once
// per body) and undefines FP8_CODEC_TIER_BODY.
#ifndef FP8_CODEC_TIER_BODY
#error "define FP8_CODEC_TIER_BODY to the body to compile for every tier"
#endif

#if FP8_ISA_SSE2
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace sse2 {
#include FP8_CODEC_TIER_BODY
}  // namespace sse2
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
#endif

#if FP8_TIER_AVX2
FP8_BEGIN_TARGET_AVX2
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace avx2 {
#include FP8_CODEC_TIER_BODY
}  // namespace avx2
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX2
#endif

#if FP8_TIER_AVX512
FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace avx512 {
#include FP8_CODEC_TIER_BODY
}  // namespace avx512
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512
#endif

#undef FP8_CODEC_TIER_BODY
