// SPDX-License-Identifier: Apache-2.0
// Umbrella header: everything public in the library, in layer order
// (types <- codec <- quant <- dyadic <- kernels <- ptq).
#pragma once

#include "config.hpp"  // #error below C++17, and then nothing more
#if FP8_CXX17
#include "detail/cpu.hpp"
#include "detail/dispatch.hpp"
#include "types/format.hpp"
#include "codec/scalar.hpp"
#include "types/fp8.hpp"
#include "types/float16.hpp"
#include "types/e8m0.hpp"
#include "codec/bulk.hpp"
#include "codec/stochastic.hpp"
#include "codec/convert.hpp"
#include "quant/quant.hpp"
#include "dyadic/dyadic.hpp"
#include "dyadic/int4.hpp"
#include "dyadic/requantize.hpp"
#include "dyadic/linear.hpp"
#include "dyadic/fold.hpp"
#include "kernels/conv2d.hpp"
#include "kernels/gemm.hpp"
#include "ptq/ptq.hpp"
#endif  // FP8_CXX17
