// SPDX-License-Identifier: Apache-2.0
// Compiled by nvcc, never run (CI has no GPU): the scalar layer is callable
// from device code and stays a constant expression under CUDA's C++17.
#include <cstdint>

#include <fp8/codec/scalar.hpp>
#include <fp8/types/fp8.hpp>

static_assert(fp8::e4m3_t(464.0f).bits() == 0x7E, "464 ties between 448 (0x7E, even) and 480: to even");
static_assert(fp8::e5m2_t(1.0f).bits() == 0x3C, "1.0 is 0.01111.00 in E5M2 (bias 15)");
static_assert(static_cast<float>(fp8::e4m3fnuz_t::from_bits(0x7F)) == 240.0f, "E4M3FNUZ max is 240");

__global__ void encode_e4m3(const float* in, std::uint8_t* out, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i] = fp8::e4m3_t(in[i]).bits();
}

__global__ void decode_e5m2(const std::uint8_t* in, float* out, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i] = static_cast<float>(fp8::e5m2_t::from_bits(in[i]));
}

__global__ void fma_e4m3(const std::uint8_t* a, const std::uint8_t* b, std::uint8_t* c, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) {
    fp8::e4m3_t acc = fp8::e4m3_t::from_bits(c[i]);
    acc += fp8::e4m3_t::from_bits(a[i]) * fp8::e4m3_t::from_bits(b[i]);
    c[i] = fp8::scalar::encode<fp8::E4M3>(static_cast<double>(acc), fp8::overflow::non_saturating);
  }
}
