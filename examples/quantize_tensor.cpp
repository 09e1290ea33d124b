// SPDX-License-Identifier: Apache-2.0
// Per-tensor FP8 quantization of a synthetic weight tensor, as an inference
// engine does it: choose the scale from the tensor's absolute maximum
// (amax / max finite, PopRT's "scale"), quantize, dequantize, and compare the
// formats by the losses PopRT's format search uses (MSE, SNR, cosine).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include <fp8/fp8.hpp>

namespace {

struct losses {
  double mse, snr_db, cosine;
};

losses compare(const std::vector<float>& x, const std::vector<float>& y) {
  double err = 0, signal = 0, dot = 0, yy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double d = static_cast<double>(x[i]) - y[i];
    err += d * d;
    signal += static_cast<double>(x[i]) * x[i];
    dot += static_cast<double>(x[i]) * y[i];
    yy += static_cast<double>(y[i]) * y[i];
  }
  return {err / static_cast<double>(x.size()), 10 * std::log10(signal / err), dot / std::sqrt(signal * yy)};
}

template <class F>
void quantize_report(const std::vector<float>& w, float amax) {
  using T = fp8::fp8<F>;
  const float scale = amax / static_cast<float>(std::numeric_limits<T>::max());
  std::vector<T> q(w.size());
  std::vector<float> back(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) q[i] = T::from_float(w[i] / scale);
  for (std::size_t i = 0; i < w.size(); ++i) back[i] = static_cast<float>(q[i]) * scale;
  const losses l = compare(w, back);
  std::printf("  %-9s scale %-12g MSE %-12.4g SNR %6.2f dB  cosine %.6f\n", F::name, static_cast<double>(scale), l.mse,
              l.snr_db, l.cosine);
}

}  // namespace

int main() {
  // A weight-like tensor: Gaussian with a few outliers (heavy tails are what
  // separates E4M3 from E5M2 in practice).
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> w(1 << 16);
  for (float& v : w) v = normal(rng);
  for (std::size_t i = 0; i < w.size(); i += 4096) w[i] *= 40.0f;
  float amax = 0;
  for (float v : w) amax = std::max(amax, std::fabs(v));

  std::printf("Per-tensor quantization of %zu weights (amax %g)\n", w.size(), static_cast<double>(amax));
  quantize_report<fp8::E4M3>(w, amax);
  quantize_report<fp8::E5M2>(w, amax);
  quantize_report<fp8::E4M3FNUZ>(w, amax);
  quantize_report<fp8::E5M2FNUZ>(w, amax);
  return 0;
}
