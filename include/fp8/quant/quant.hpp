// SPDX-License-Identifier: Apache-2.0
// The quantization layer, above codec/: amax and
// per-tensor scale selection, per-channel scales, OCP MX v1.0 MXFP8 blocks
// with E8M0 scales, stochastic rounding and the fused fake_quantize. Every
// function is defined element by element through the scalar codec and its
// vector kernels equal that definition bit for bit. Includes only.
#pragma once

#include "../types/e8m0.hpp"
#include "amax.hpp"
#include "fake_quant.hpp"
#include "mx.hpp"
#include "per_channel.hpp"
#include "quantize.hpp"
#include "scale.hpp"
#include "stochastic.hpp"
