// SPDX-License-Identifier: Apache-2.0
// Two layers of an FP8 inference engine, end to end:
//
//  1. a 3x3 convolution + ReLU on an FP8 activation (ResNet-style, NHWC),
//     weights quantized per output channel, output written back as E4M3
//     with a per-tensor output scale: the next layer's input;
//  2. a Linear layer (weights stored n x k as frameworks store them) on that
//     activation, in two forms: per-channel weight scales, and the
//     DeepSeek-V3 layout (128 x 128 weight blocks, 1 x 128 activation
//     blocks), with float output.
//
// Each result is compared with the same layer computed in double on the
// unquantized float tensors: what FP8 costs in accuracy (the PopRT losses:
// SNR and cosine), not just whether the kernels are right (tests/ does that).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include <fp8/fp8.hpp>

namespace {

struct loss {
  double snr_db, cosine;
};
loss compare(const std::vector<double>& want, const std::vector<float>& got) {
  double err = 0, sig = 0, dot = 0, gg = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double d = want[i] - got[i];
    err += d * d;
    sig += want[i] * want[i];
    dot += want[i] * got[i];
    gg += static_cast<double>(got[i]) * got[i];
  }
  return {10 * std::log10(sig / err), dot / std::sqrt(sig * gg)};
}

std::vector<float> random_tensor(std::size_t n, float stddev, std::mt19937& g) {
  std::normal_distribution<float> d(0.0f, stddev);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

// One scale per row of a rows x cols matrix: amax / max finite of E4M3.
std::vector<float> row_scales(const std::vector<float>& w, std::size_t rows, std::size_t cols) {
  std::vector<float> s(rows);
  for (std::size_t r = 0; r < rows; ++r)
    s[r] = fp8::scale_from_amax<fp8::E4M3>(fp8::amax(w.data() + r * cols, cols));
  return s;
}

}  // namespace

int main() {
  std::mt19937 g(42);

  // ---- Layer 1: conv 3x3, 32 -> 64 channels, 28 x 28, pad 1, ReLU, E4M3 output.
  fp8::conv2d_shape s;
  s.batch = 1, s.in_h = 28, s.in_w = 28, s.in_c = 32, s.out_c = 64, s.kernel_h = 3, s.kernel_w = 3;
  s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = 1;
  const std::size_t taps = s.kernel_h * s.kernel_w, kc = taps * s.in_c;
  const std::size_t pixels = s.batch * s.out_h() * s.out_w();

  const auto x = random_tensor(s.batch * s.in_h * s.in_w * s.in_c, 1.0f, g);
  const auto wc = random_tensor(s.out_c * kc, 0.05f, g);  // OHWI
  const auto bc = random_tensor(s.out_c, 0.1f, g);

  // Quantize: the activation per tensor, the weights per output channel.
  const float x_scale = fp8::scale_from_amax<fp8::E4M3>(fp8::amax(x.data(), x.size()));
  std::vector<fp8::e4m3_t> xq(x.size());
  fp8::encode(x.data(), xq.data(), x.size(), x_scale);
  const auto wc_scale = row_scales(wc, s.out_c, kc);
  std::vector<fp8::e4m3_t> wcq(wc.size());
  fp8::encode_per_channel(wc.data(), wcq.data(), s.out_c, kc, wc_scale.data(), fp8::axis::rows);

  // The reference in double on the float tensors.
  std::vector<double> y_ref(pixels * s.out_c);
  for (std::size_t oh = 0; oh < s.out_h(); ++oh)
    for (std::size_t ow = 0; ow < s.out_w(); ++ow)
      for (std::size_t oc = 0; oc < s.out_c; ++oc) {
        double acc = bc[oc];
        for (std::size_t kh = 0; kh < 3; ++kh)
          for (std::size_t kw = 0; kw < 3; ++kw) {
            const long ih = static_cast<long>(oh + kh) - 1, iw = static_cast<long>(ow + kw) - 1;
            if (ih < 0 || iw < 0 || ih >= 28 || iw >= 28) continue;
            for (std::size_t ci = 0; ci < s.in_c; ++ci)
              acc += static_cast<double>(x[(static_cast<std::size_t>(ih) * 28 + static_cast<std::size_t>(iw)) * s.in_c + ci]) *
                     wc[oc * kc + (kh * 3 + kw) * s.in_c + ci];
          }
        y_ref[(oh * s.out_w() + ow) * s.out_c + oc] = std::max(acc, 0.0);
      }
  const double y_amax = *std::max_element(y_ref.begin(), y_ref.end());

  // FP8 conv: weights packed once, ReLU fused, E4M3 output at a scale chosen
  // from calibration (here: the reference's amax).
  const fp8::packed_conv_weights<fp8::E4M3> wp(s, wcq.data());
  fp8::conv2d_options co;
  co.act = fp8::activation::relu;
  co.output_scale = fp8::scale_from_amax<fp8::E4M3>(static_cast<float>(y_amax));
  std::vector<fp8::e4m3_t> yq(pixels * s.out_c);
  fp8::conv2d(s, xq.data(), x_scale, wp, wc_scale.data(), bc.data(), yq.data(), co);
  std::vector<float> y(yq.size());
  fp8::decode(yq.data(), y.data(), y.size(), co.output_scale);
  const loss l1 = compare(y_ref, y);
  std::printf("conv 3x3 32->64, 28x28, ReLU, E4M3 in/weights/out: SNR %.1f dB, cosine %.5f\n", l1.snr_db, l1.cosine);

  // ---- Layer 2: a Linear layer 64 -> 256 applied to every pixel of the
  // conv's output, seen as a token matrix: m = 784 tokens, k = 64, n = 256.
  const std::size_t m = pixels, k = s.out_c, n = 256;
  const auto wl = random_tensor(n * k, 0.1f, g);  // n x k, Linear layout
  const auto wl_scale = row_scales(wl, n, k);
  std::vector<fp8::e4m3_t> wlq(wl.size());
  fp8::encode_per_channel(wl.data(), wlq.data(), n, k, wl_scale.data(), fp8::axis::rows);

  std::vector<double> z_ref(m * n);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double acc = 0;
      for (std::size_t p = 0; p < k; ++p) acc += y_ref[i * k + p] * wl[j * k + p];
      z_ref[i * n + j] = acc;
    }

  // Per-channel weight scales: alpha carries the activation's scale.
  std::vector<float> z(m * n);
  fp8::gemm_options go;
  go.col_scale = wl_scale.data();
  fp8::gemm(fp8::transpose::no, fp8::transpose::yes, m, n, k, co.output_scale, yq.data(), k, wlq.data(), k, 0.0f,
            z.data(), n, go);
  const loss l2 = compare(z_ref, z);
  std::printf("linear 64->256 on the conv's E4M3 output, per-channel weights: SNR %.1f dB, cosine %.5f\n", l2.snr_db,
              l2.cosine);

  // The DeepSeek-V3 layout: the float activation quantized per token per
  // 128 values (here k = 64: one block), the weight per 128 x 128 block.
  const std::size_t B = 128, kb = (k + B - 1) / B, nb = (n + B - 1) / B;
  std::vector<float> a_blocks(m * kb), b_blocks(nb * kb);
  std::vector<fp8::e4m3_t> aq(m * k), bq(n * k);
  std::vector<float> act(m * k);
  for (std::size_t i = 0; i < m * k; ++i) act[i] = static_cast<float>(y_ref[i]);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t q = 0; q < kb; ++q) {
      const std::size_t k0 = q * B, len = std::min(B, k - k0);
      const float sc = fp8::scale_from_amax<fp8::E4M3>(std::max(fp8::amax(act.data() + i * k + k0, len), 1e-30f));
      a_blocks[i * kb + q] = sc;
      fp8::encode(act.data() + i * k + k0, aq.data() + i * k + k0, len, sc);
    }
  for (std::size_t jb = 0; jb < nb; ++jb)
    for (std::size_t q = 0; q < kb; ++q) {
      float am = 0;
      for (std::size_t j = jb * B; j < std::min(n, (jb + 1) * B); ++j)
        am = std::max(am, fp8::amax(wl.data() + j * k + q * B, std::min(B, k - q * B)));
      const float sc = fp8::scale_from_amax<fp8::E4M3>(am);
      b_blocks[jb * kb + q] = sc;
      for (std::size_t j = jb * B; j < std::min(n, (jb + 1) * B); ++j)
        fp8::encode(wl.data() + j * k + q * B, bq.data() + j * k + q * B, std::min(B, k - q * B), sc);
    }
  fp8::gemm_options bo;
  bo.a_block_scale = a_blocks.data();
  bo.b_block_scale = b_blocks.data();
  fp8::gemm(fp8::transpose::no, fp8::transpose::yes, m, n, k, 1.0f, aq.data(), k, bq.data(), k, 0.0f, z.data(), n,
            bo);
  const loss l3 = compare(z_ref, z);
  std::printf("linear 64->256, DeepSeek-V3 block scales (1x128 activations, 128x128 weights): SNR %.1f dB, cosine %.5f\n",
              l3.snr_db, l3.cosine);

  // FP8 keeps about 3 significant bits, so about 25-30 dB per quantized
  // operand is what to expect; far less means a wrong scale or layout.
  const bool ok = l1.snr_db > 20 && l2.snr_db > 18 && l3.snr_db > 18 && l1.cosine > 0.99 && l3.cosine > 0.99;
  std::printf("%s\n", ok ? "ok" : "UNEXPECTED LOSS");
  return ok ? 0 : 1;
}
