// SPDX-License-Identifier: Apache-2.0
// The MX encoder's rule and the whole-block decoder of quant/mx.hpp, written
// once for every vector tier. No include guard and no includes:
// quant/mx.hpp includes it through codec/tiers-inl.hpp inside each tier's
// namespace and target region, over the tier's lane operations `ops`
// (codec/stream-inl.hpp lists them).

// The streaming encoder's lanes for mx_blocks: a step is a whole number of
// blocks and of byte stores (SSE2 one block of 8 vectors, AVX2 one block of
// 4, AVX-512 two blocks of 2). begin() takes each block's amax as an integer
// max of magnitude bits (quant/amax.hpp), the block's scale code from it
// (mx_scale_code) and the reciprocal 1 / X (mx_reciprocal) in every lane; an
// element is encoded as x * (1 / X), the quotient x / X exactly, with
// saturation. A block with a NaN or an infinity (scale code NaN) gets the
// NaN code in every element instead; its reciprocal is a placeholder.
// finish() stores the scales of the blocks that hold elements (the padded
// tail step's last blocks may hold none).
template <>
struct lanes_of<mx_blocks> {
  static constexpr std::size_t per_block = mx_block_size / ops::W;
  static constexpr std::size_t vectors = per_block < 4 ? 4 : per_block, blocks = vectors / per_block;
  std::uint8_t* scales;
  std::uint8_t code[blocks] = {};
  ops::vf reciprocal[blocks];
  ops::mask special[blocks];
  explicit lanes_of(const mx_blocks& r) noexcept : scales(r.scales) {
    FP8_UNROLL_VECTORS
    for (std::size_t b = 0; b < blocks; ++b) {
      reciprocal[b] = ops::set1(0.0f);
      special[b] = ops::greater_i32(ops::set1_i32(0), ops::set1_i32(0));  // none
    }
  }
  // (254 - max(e - emax, 0)) << 23 for the biased exponent field e of each
  // lane of m: mx_reciprocal(mx_scale_code(m)) on vectors (a placeholder for
  // e = 255).
  template <int Emax>
  FP8_ALWAYS_INLINE static ops::vi reciprocal_bits(ops::vi m) noexcept {
    const ops::vi code = ops::max_i32(ops::sub_i32(ops::srl<23>(m), ops::set1_i32(Emax)), ops::set1_i32(0));
    return ops::sll<23>(ops::sub_i32(ops::set1_i32(254), code));
  }
  void row(std::size_t) noexcept {}  // one row
  template <class F>
  FP8_ALWAYS_INLINE void begin(const ops::vf (&x)[vectors], std::size_t) noexcept {
    FP8_UNROLL_VECTORS
    for (std::size_t b = 0; b < blocks; ++b) {
      ops::vi m = ops::magnitude(x[b * per_block]);
      FP8_UNROLL_VECTORS
      for (std::size_t k = 1; k < per_block; ++k) m = ops::max_i32(m, ops::magnitude(x[b * per_block + k]));
      m = ops::all_lanes_max(m);
      code[b] = mx_scale_code<F>(static_cast<std::uint32_t>(ops::first_lane(m)));
      reciprocal[b] = ops::as_float(reciprocal_bits<format_traits<F>::max_exponent>(m));
      special[b] = ops::greater_i32(m, ops::set1_i32(0x7F7FFFFF));
    }
  }
  template <class F, overflow O>
  FP8_ALWAYS_INLINE ops::vi codes(ops::vf x, std::size_t, std::size_t k) const noexcept {
    const std::size_t b = k / per_block;
    return ops::select(special[b], ops::set1_i32(format_traits<F>::nan_code),
                       ops::encode<F, O>(ops::mul(x, reciprocal[b])));
  }
  FP8_ALWAYS_INLINE void finish(std::size_t index, std::size_t count) noexcept {
    FP8_UNROLL_VECTORS
    for (std::size_t b = 0; b < blocks; ++b)
      if (b * mx_block_size < count) scales[index / mx_block_size + b] = code[b];
  }
};

// Whole blocks decoded: the codes by decode, times the block's X (the
// definition's float product); a NaN scale's block by the definition.
template <class F>
void mx_decode_blocks(const std::uint8_t* src, float* dst, std::size_t blocks, const E8M0* scales) noexcept {
  for (std::size_t b = 0; b < blocks; ++b, src += mx_block_size, dst += mx_block_size) {
    if (scales[b].is_nan()) {
      mx_decode_block<F>(src, dst, mx_block_size, scales[b]);
      continue;
    }
    const ops::vf x = ops::set1(static_cast<float>(scales[b]));
    FP8_UNROLL_VECTORS
    for (std::size_t k = 0; k < mx_block_size; k += ops::W)
      ops::store(dst + k, ops::mul(ops::decode<F>(ops::load_codes(src + k)), x));
  }
}
