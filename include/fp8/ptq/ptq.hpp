// SPDX-License-Identifier: Apache-2.0
// The post-training quantization layer, the library's top layer: loss
// metrics and histograms, the weight search, activation calibration,
// reports and the exact mixed-precision assignment (docs/ptq.md).
#pragma once

#include "calibrate.hpp"
#include "metrics.hpp"
#include "mixed_precision.hpp"
#include "report.hpp"
#include "search.hpp"
