// SPDX-License-Identifier: Apache-2.0
// The epilogue of kernels/epilogue.hpp on vectors, written once for every
// tier. No include guard and no includes: kernels/epilogue_vector.hpp
// includes this file inside each tier's target region, in a namespace of
// the tier's own next to `ops`, the tier's lane operations (a template
// defined in a target region is compiled for that target, and only there
// can it inline the tier's intrinsics).
//
// The operations and their order are epilogue_store's, lane by lane:
// s = r[i] * c[j]; v = acc * s; first block: v = beta * C + v fused (beta
// == 0: C is not read), later blocks: v = v + C; last block: v + bias, then
// max with lo and min with hi (ops::max and ops::min return their second
// operand when the first is NaN: fmax's and fmin's bound). So a tile has
// the same bits on every tier.

// The tile's rows [0, mv) of ROWS rows x NV vectors of sums, stored to C
// (tile's first element c, row stride ldc); mask[v] selects the valid
// columns of vector v (ops::all on tiers that only store whole vectors).
// One vector of columns at a time, all rows, so that only that vector's
// column scales and bias are held beside the accumulators. Each step is a
// pass over the rows with its choice made once per vector of columns, not
// once per row (a depthwise block sums 9 products per element, and
// per-row tests cost it a fifth of its time). The passes that touch no
// memory run on all ROWS rows: the rows from mv on are discarded.
template <class V, std::size_t ROWS, std::size_t NV>
FP8_ALWAYS_INLINE void epilogue_rows(const typename V::vec (&acc)[ROWS][NV], float* c, std::size_t ldc, std::size_t mv,
                                     const typename V::mask (&mask)[NV], const tile_epilogue& e) noexcept {
  using vec = typename V::vec;
  const vec alpha = V::set1(e.alpha), beta = V::set1(e.beta), lo = V::set1(e.lo), hi = V::set1(e.hi);
#pragma GCC unroll 4
  for (std::size_t v = 0; v < NV; ++v) {
    const std::size_t j = v * V::lanes;
    const vec cs = e.col_scale != nullptr ? V::load(e.col_scale + j, mask[v]) : V::set1(1.0f);
    vec r[ROWS];
    if (e.row_scale == nullptr) {
      // s = r[i] * c[j]; without row scales r is alpha for every row, so s
      // is formed once per vector of columns (the same product).
      const vec s = e.col_scale != nullptr ? V::mul(alpha, cs) : alpha;
#pragma GCC unroll 16
      for (std::size_t i = 0; i < ROWS; ++i) r[i] = V::mul(acc[i][v], s);
    } else {
#pragma GCC unroll 16
      for (std::size_t i = 0; i < ROWS; ++i) {
        vec s = alpha;  // rows from mv on: row_scale[i] may be past its end
        if (i < mv) s = e.col_scale != nullptr ? V::mul(V::set1(e.row_scale[i]), cs) : V::set1(e.row_scale[i]);
        r[i] = V::mul(acc[i][v], s);
      }
    }
    if (!e.first) {
#pragma GCC unroll 16
      for (std::size_t i = 0; i < ROWS; ++i) {
        if (i >= mv) break;
        r[i] = V::add(r[i], V::load(c + i * ldc + j, mask[v]));
      }
    } else if (e.beta != 0.0f) {
#pragma GCC unroll 16
      for (std::size_t i = 0; i < ROWS; ++i) {
        if (i >= mv) break;
        r[i] = V::fma(beta, V::load(c + i * ldc + j, mask[v]), r[i]);
      }
    }
    if (e.last && e.bias != nullptr) {
      const vec bias = V::load(e.bias + j, mask[v]);
#pragma GCC unroll 16
      for (std::size_t i = 0; i < ROWS; ++i) r[i] = V::add(r[i], bias);
    }
    if (e.last && e.clamp) {
#pragma GCC unroll 16
      for (std::size_t i = 0; i < ROWS; ++i) r[i] = V::min(V::max(r[i], lo), hi);
    }
#pragma GCC unroll 16
    for (std::size_t i = 0; i < ROWS; ++i) {  // (the test inside: GCC ignores the unroll otherwise, and warns at -O0)
      if (i >= mv) break;
      V::store(c + i * ldc + j, r[i], mask[v]);
    }
  }
}
