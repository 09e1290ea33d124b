// SPDX-License-Identifier: Apache-2.0
// The per-column decoder of quant/per_channel.hpp, written once for every
// vector tier. No include guard and no includes: quant/per_channel.hpp
// includes it through codec/tiers-inl.hpp inside each tier's namespace and
// target region, over the tier's lane operations `ops` (codec/stream-inl.hpp
// lists them).

// Each row: the codes decoded, times scale[c] itself (the definition's float
// product), read straight from the caller's array; the columns past the last
// whole vector as one vector over zero-padded copies. All rows in one call,
// so the constants and the stack block are set up once.
template <class F>
void decode_columns(const std::uint8_t* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,
                    std::size_t cols, const float* scale) noexcept {
  constexpr std::size_t W = ops::W;
  const std::size_t whole = cols - cols % W;
  for (std::size_t r = 0; r < rows; ++r) {
    const std::uint8_t* s = src + r * src_ld;
    float* d = dst + r * dst_ld;
    for (std::size_t c = 0; c < whole; c += W)
      ops::store(d + c, ops::mul(ops::decode<F>(ops::load_codes(s + c)), ops::load(scale + c)));
    if (whole < cols) {
      std::uint8_t codes[W] = {};
      float factor[W] = {}, out[W];
      std::memcpy(codes, s + whole, cols - whole);
      std::memcpy(factor, scale + whole, (cols - whole) * sizeof(float));
      ops::store(out, ops::mul(ops::decode<F>(ops::load_codes(codes)), ops::load(factor)));
      std::memcpy(d + whole, out, (cols - whole) * sizeof(float));
    }
  }
}
