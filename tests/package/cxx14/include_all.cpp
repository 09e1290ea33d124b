// SPDX-License-Identifier: Apache-2.0
// Compiled below C++17 by cxx14.cmake: the umbrella header must stop with
// its one #error.
#include <fp8/fp8.hpp>
