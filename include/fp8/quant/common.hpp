// SPDX-License-Identifier: Apache-2.0
// The headers every quantizer (quant/*.hpp) builds on, not for users: the
// argument contract (detail/arguments.hpp) and the codec. The lane
// primitives the layer uses are general and live in detail/simd_xsimd.hpp,
// detail/simd_avx2.hpp and detail/simd_avx512.hpp; the loop every encoder
// runs is the codec's streaming encoder (codec/stream.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "../codec/simd_core.hpp"
#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/isa.hpp"
#include "../detail/simd_xsimd.hpp"
#include "../error.hpp"

