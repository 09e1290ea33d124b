// SPDX-License-Identifier: Apache-2.0
// The small-m path's two loops (kernels/smallm_f32.hpp), written once for
// every tier. No include guard and no includes: smallm_f32.hpp includes
// this file inside each tier's target region, in the namespace of the
// tier's lane operations `ops` (kernels/lanes.hpp).
//
// Dot form: the sum of a column is kept in smallm::lanes (16) partial sums
// whatever the vector width (ops::lanes of them per vector), partial sum l
// taking the k with k % 16 == l in order, then reduced by smallm::reduce in
// a fixed order; the block step (with block scales) is one fused
// multiply-add on every tier. So the bits are the same on every tier, with
// one exception: FP8 and bfloat16 A have exact products, so even an
// unfused ops::fma (xsimd's, on the sse2 tier when the flags lack FMA)
// rounds once, but a float A's products round, and there twice. The axpy
// form adds element by element, which no width changes.

// The two loops, as one type per tier (smallm_f32.hpp picks it by tag).
struct smallm_loops {
  // C[0, m) x [n0, n1) for B stored n x k (column j of op(B) is row j of b,
  // ldb apart), A laid out by smallm::a_segments.
  template <class FB, class Tag>
  static void dot_rows(const float* a, std::size_t m, const std::uint8_t* b, std::size_t ldb, std::size_t n0,
                       std::size_t n1, const gemm_output& out, Tag tag) {
    using vec = ops::vec;
    constexpr std::size_t L = ops::lanes, NV = smallm::lanes / L;
    static_assert(smallm::lanes % L == 0, "whole vectors of partial sums");
    const std::size_t k = out.k;
    const block_scales& bs = out.blocks;
    const smallm::segments sg = smallm::segments_of(k, bs);
    const tile_epilogue e = smallm::final_epilogue(out);
    aligned_buffer<float> buf(sg.padded);
    alignas(64) float part[smallm::lanes];
    for (std::size_t j = n0; j < n1; ++j) {
      vec total[smallm_max][NV];
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t v = 0; v < NV; ++v) total[i][v] = ops::zero();
      for (std::size_t s = 0; s < sg.count; ++s) {
        const std::size_t k0 = s * sg.len, len = std::min(sg.len, k - k0), used = round_up(len, smallm::lanes);
        kernel::decode<FB>(b + j * ldb + k0, buf.data(), len, 1.0f, tag);
        std::fill(buf.data() + len, buf.data() + used, 0.0f);
        for (std::size_t i = 0; i < m; ++i) {
          const float* ap = a + (i * sg.count + s) * sg.padded;
          vec acc[NV];
          for (std::size_t v = 0; v < NV; ++v) acc[v] = bs.block != 0 ? ops::zero() : total[i][v];
          for (std::size_t t = 0; t < used; t += smallm::lanes)
            for (std::size_t v = 0; v < NV; ++v)
              acc[v] =
                  ops::fma(ops::load(ap + t + v * L, ops::all), ops::load(buf.data() + t + v * L, ops::all), acc[v]);
          if (bs.block != 0) {  // total = fma(block sum, s_kb, total), rounded once on every tier
            const float sc = smallm::block_scale(out, i, j, s);
            if constexpr (ops::fused) {
              for (std::size_t v = 0; v < NV; ++v) total[i][v] = ops::fma(acc[v], ops::set1(sc), total[i][v]);
            } else {
              alignas(64) float sum[smallm::lanes], tot[smallm::lanes];
              for (std::size_t v = 0; v < NV; ++v) {
                ops::store(sum + v * L, acc[v], ops::all);
                ops::store(tot + v * L, total[i][v], ops::all);
              }
              for (std::size_t l = 0; l < smallm::lanes; ++l) tot[l] = std::fma(sum[l], sc, tot[l]);
              for (std::size_t v = 0; v < NV; ++v) total[i][v] = ops::load(tot + v * L, ops::all);
            }
          } else {
            for (std::size_t v = 0; v < NV; ++v) total[i][v] = acc[v];
          }
        }
      }
      for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t v = 0; v < NV; ++v) ops::store(part + v * L, total[i][v], ops::all);
        epilogue_store(e, i, j, smallm::reduce(part), out.c + i * out.ldc + j);
      }
    }
  }

  // C[0, m) x [n0, n1) for B stored k x n (row k of op(B) is row k of b, ldb
  // apart), A laid out by smallm::a_segments: every row of C accumulates
  // a[i][k] * B[k][j] over k in order, in a float row of its own.
  template <class FB, class Tag>
  static void axpy_rows(const float* a, std::size_t m, const std::uint8_t* b, std::size_t ldb, std::size_t n0,
                        std::size_t n1, const gemm_output& out, Tag tag) {
    constexpr std::size_t L = ops::lanes;
    const std::size_t k = out.k, w = n1 - n0, wp = round_up(w, L);
    const block_scales& bs = out.blocks;
    const smallm::segments sg = smallm::segments_of(k, bs);
    const tile_epilogue e = smallm::final_epilogue(out);
    aligned_buffer<float> row(wp), total(m * wp), part(bs.block != 0 ? m * wp : 0);
    std::fill(total.data(), total.data() + total.size(), 0.0f);
    std::fill(row.data() + w, row.data() + wp, 0.0f);
    for (std::size_t s = 0; s < sg.count; ++s) {
      const std::size_t k0 = s * sg.len, len = std::min(sg.len, k - k0);
      float* acc = bs.block != 0 ? part.data() : total.data();
      if (bs.block != 0) std::fill(part.data(), part.data() + part.size(), 0.0f);
      for (std::size_t t = 0; t < len; ++t) {
        kernel::decode<FB>(b + (k0 + t) * ldb + n0, row.data(), w, 1.0f, tag);
        for (std::size_t i = 0; i < m; ++i) {
          const ops::vec ai = ops::set1(a[(i * sg.count + s) * sg.padded + t]);
          float* ci = acc + i * wp;
          for (std::size_t jj = 0; jj < wp; jj += L)
            ops::store(ci + jj, ops::fma(ai, ops::load(row.data() + jj, ops::all), ops::load(ci + jj, ops::all)),
                       ops::all);
        }
      }
      if (bs.block != 0)
        for (std::size_t i = 0; i < m; ++i)
          for (std::size_t jj = 0; jj < w; ++jj)
            total.data()[i * wp + jj] =
                std::fma(part.data()[i * wp + jj], smallm::block_scale(out, i, n0 + jj, s), total.data()[i * wp + jj]);
    }
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t jj = 0; jj < w; ++jj)
        epilogue_store(e, i, n0 + jj, total.data()[i * wp + jj], out.c + i * out.ldc + n0 + jj);
  }
};
