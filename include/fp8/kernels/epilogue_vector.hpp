// SPDX-License-Identifier: Apache-2.0
// The vector epilogue of every tier: epilogue_vector-inl.hpp, written once,
// compiled in each tier's region over that tier's lane operations
// (kernels/lanes.hpp): lanes_avx512 (the avx512 and avx512bf16 kernels,
// masked: partial tiles too), lanes_avx2 and lanes_xsimd (whole vectors:
// partial tiles take the scalar definition, epilogue_tile; xsimd without
// FMA also leaves beta to it, since its fma would round twice).
#pragma once

#include <cstddef>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "epilogue.hpp"
#include "lanes.hpp"

#if FP8_TIER_AVX512
FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace lanes_avx512 {
#include "epilogue_vector-inl.hpp"
}  // namespace lanes_avx512
FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512
#endif

#if FP8_TIER_AVX2
FP8_BEGIN_TARGET_AVX2
FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace lanes_avx2 {
#include "epilogue_vector-inl.hpp"
}  // namespace lanes_avx2
FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
FP8_END_TARGET_AVX2
#endif

#if FP8_ISA_SSE2
FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace lanes_xsimd {
#include "epilogue_vector-inl.hpp"
}  // namespace lanes_xsimd
FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
#endif
