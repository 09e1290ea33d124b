// SPDX-License-Identifier: Apache-2.0
// The streaming encoder (codec/stream.hpp), written once for every vector
// tier: its loop, and the lanes of the rules and sinks that need only the
// tier's lane operations. No include guard and no includes: codec/kernels.hpp
// includes this file through codec/tiers-inl.hpp, inside each tier's
// namespace (detail::sse2, avx2, avx512) and target region, after the
// tier's `ops` (a template defined in a target region is compiled for that
// target, and only there can it inline the tier's intrinsics).
//
// What `ops` provides (vf: W float lanes, vi: W int32 lanes, mask: a lane
// mask), each a function the compiler must inline:
//   load(p)                 W elements widened to float lanes: float, and on
//                           avx2 and avx512 bfloat16 and half (the sse2 tier
//                           is called with floats only, codec/kernels.hpp)
//   store(p, x)             W floats
//   load_codes(p)           W bytes, zero-extended to int32 lanes
//   store_codes(c0, c1, c2, c3, p)
//                           four vectors of codes (values 0..255), 4 W bytes
//                           in order
//   set1(x), set1_i32(x), mul(a, b), scale<K>(x, factor)
//                           scale: x / scale by detail::scaling's kind K
//   encode<F, O>(x)         float lanes -> codes (codec/simd_core.hpp's
//                           encode_lanes, which derives it)
//   decode<F>(c)            codes -> float lanes (decode_lanes)
//   stochastic_bits(key, first), encode_stochastic<F, O>(x, r)
//                           the random bits of indices first .. first + W - 1
//                           and stochastic rounding with them
//   magnitude(x)            the bits of |x|
//   max_i32, sub_i32, srl<K>, sll<K>, greater_i32 (a mask), select(m, yes, no)
//                           int32 lanes (shifts logical)
//   all_lanes_max(m), first_lane(m), as_float(m)
//                           the largest lane in every lane, lane 0, the bits
//                           as floats
//
// A step loads every vector before it stores any, so a sink may write over
// src (fake_quantize in place).

template <class Rule>
struct lanes_of;
template <class Sink>
struct sink_of;

template <scaling::kind_t K>
struct lanes_of<one_scale<K>> : stateless_lanes {
  ops::vf f;
  explicit lanes_of(const one_scale<K>& r) noexcept : f(ops::set1(r.factor)) {}
  template <class F, overflow O>
  FP8_ALWAYS_INLINE ops::vi codes(ops::vf x, std::size_t, std::size_t) const noexcept {
    return ops::encode<F, O>(ops::scale<K>(x, f));
  }
};

template <scaling::kind_t K>
struct lanes_of<column_scales<K>> : stateless_lanes {
  const float* factor;
  explicit lanes_of(const column_scales<K>& r) noexcept : factor(r.factor) {}
  template <class F, overflow O>
  FP8_ALWAYS_INLINE ops::vi codes(ops::vf x, std::size_t index, std::size_t) const noexcept {
    return ops::encode<F, O>(ops::scale<K>(x, ops::load(factor + index)));
  }
};

template <scaling::kind_t K>
struct lanes_of<row_scales<K>> : stateless_lanes {
  const float* factor;
  ops::vf f;
  explicit lanes_of(const row_scales<K>& r) noexcept : factor(r.factor), f(ops::set1(1.0f)) {}
  FP8_ALWAYS_INLINE void row(std::size_t i) noexcept { f = ops::set1(factor[i]); }
  template <class F, overflow O>
  FP8_ALWAYS_INLINE ops::vi codes(ops::vf x, std::size_t, std::size_t) const noexcept {
    return ops::encode<F, O>(ops::scale<K>(x, f));
  }
};

template <scaling::kind_t K>
struct lanes_of<stochastic_scale<K>> : stateless_lanes {
  ops::vf f;
  scalar::detail::stochastic_key key;
  std::uint64_t first_index;
  explicit lanes_of(const stochastic_scale<K>& r) noexcept
      : f(ops::set1(r.factor)), key(r.key), first_index(r.first_index) {}
  template <class F, overflow O>
  FP8_ALWAYS_INLINE ops::vi codes(ops::vf x, std::size_t index, std::size_t) const noexcept {
    return ops::encode_stochastic<F, O>(ops::scale<K>(x, f), ops::stochastic_bits(key, first_index + index));
  }
};

template <>
struct sink_of<code_sink> {
  explicit sink_of(const code_sink&) noexcept {}
  template <class F, std::size_t V>
  FP8_ALWAYS_INLINE void put(const ops::vi (&c)[V], std::uint8_t* dst) const noexcept {
    FP8_UNROLL_VECTORS
    for (std::size_t g = 0; g < V; g += 4) ops::store_codes(c[g], c[g + 1], c[g + 2], c[g + 3], dst + g * ops::W);
  }
};

template <scaling::kind_t K>
struct sink_of<fake_sink<K>> {
  ops::vf back;
  explicit sink_of(const fake_sink<K>& s) noexcept : back(ops::set1(s.scale)) {}
  template <class F, std::size_t V>
  FP8_ALWAYS_INLINE void put(const ops::vi (&c)[V], float* dst) const noexcept {
    FP8_UNROLL_VECTORS
    for (std::size_t k = 0; k < V; ++k) {
      const ops::vf y = ops::decode<F>(c[k]);
      ops::store(dst + k * ops::W, K != scaling::none ? ops::mul(y, back) : y);
    }
  }
};

// One step. Always inlined: GCC 12 keeps a large step (MX) out of line,
// called with its vectors in memory.
template <class F, overflow O, class Src, class Out, class R, class S>
FP8_ALWAYS_INLINE void step(const Src* src, Out* dst, std::size_t index, std::size_t count, R& r, const S& s) noexcept {
  constexpr std::size_t V = R::vectors;
  ops::vf x[V];
  FP8_UNROLL_VECTORS
  for (std::size_t k = 0; k < V; ++k) x[k] = ops::load(src + k * ops::W);
  r.template begin<F>(x, index);
  ops::vi c[V];
  FP8_UNROLL_VECTORS
  for (std::size_t k = 0; k < V; ++k) c[k] = r.template codes<F, O>(x[k], index + k * ops::W, k);
  s.template put<F>(c, dst);
  r.finish(index, count);
}

// `rows` rows of n elements at leading dimensions src_ld and dst_ld, the
// rule told of each row (per-row scales) and its indices restarting at each
// row (per-column scales); a 1-D call is one row. The tail of a row is one step over a zero-padded copy (a zero
// encodes to a zero under every rule, and a rule's finish() is told how
// many elements count).
template <class F, overflow O, class Rule, class Sink, class Src>
void stream(const Src* src, std::size_t src_ld, typename Sink::out_type* dst, std::size_t dst_ld, std::size_t rows,
            std::size_t n, const Rule& rule, const Sink& sink) noexcept {
  using Out = typename Sink::out_type;
  lanes_of<Rule> r(rule);
  const sink_of<Sink> s(sink);
  constexpr std::size_t E = lanes_of<Rule>::vectors * ops::W;
  for (std::size_t row = 0; row < rows; ++row) {
    // Each row from the base: advancing past the last row would form a
    // pointer beyond the buffer (ld may be huge when rows == 1).
    const Src* sr = src + row * src_ld;
    Out* dr = dst + row * dst_ld;
    r.row(row);
    std::size_t i = 0;
    for (; i + E <= n; i += E) step<F, O>(sr + i, dr + i, i, E, r, s);
    if (i < n) {
      Src in[E] = {};
      Out out[E] = {};
      std::memcpy(in, sr + i, (n - i) * sizeof(Src));
      step<F, O>(in, out, i, n - i, r, s);
      std::memcpy(dr + i, out, (n - i) * sizeof(Out));
    }
  }
}
