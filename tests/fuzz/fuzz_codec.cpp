// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness for the bulk codec (codec/bulk.hpp): fp8::encode from
// float, bfloat16 and half and fp8::decode to float, bfloat16 and half, for
// all four formats, with any element count (up to a few hundred, so every
// SIMD tail and misalignment is reached, or near SIZE_MAX), any scale (NaN,
// infinite, zero, negative, subnormal, huge), any overflow value (including
// ones that are no enumerator), null and overlapping buffers. Expected codes
// come from tests/reference.hpp's search encoder and formula decoder; the
// float division or multiplication by the scale is the one rounding the
// definition has, done here in plain C++.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fp8/fp8.hpp>

#include "fuzz_common.hpp"

namespace {

using namespace fz;

constexpr std::size_t max_elements = 4096;  // what an input can fill and check

struct raw {
  u8 op = 0;      // % 6: encode from float, bfloat16, half; decode to float, bfloat16, half
  u8 format = 0;  // % 4: E4M3, E5M2, E4M3FNUZ, E5M2FNUZ
  u16 n = 0;      // decode_size(n, 300)
  u32 scale = 0;  // decode_float
  u8 o = 0;       // decode_enum(o, 2)
  u8 layout = 0;  // bits 0-1: src shift (elements), 2-3: dst shift; bits 4-7: pointer scenario
  u16 offset = 0; // scenarios 13, 14: where one buffer sits inside the other (bytes)
  u8 values = 0;  // gen_float / gen_half mode
  u64 seed = 0;
};
template <class IO>
void visit(IO& io, raw& r) {
  io(r.op);
  io(r.format);
  io(r.n);
  io(r.scale);
  io(r.o);
  io(r.layout);
  io(r.offset);
  io(r.values);
  io(r.seed);
}

enum scenario { separate = 0, src_null = 11, dst_null = 12, dst_in_src = 13, src_in_dst = 14, both_null = 15 };

struct call {
  bool encode;
  std::size_t n, src_size, dst_size;  // element bytes
  const void* src;
  const void* dst;
  float scale;
  int o;
};

// ============================================================================
// CONTRACT: which calls are valid (docs: README "Bulk conversion", "Errors";
// codec/bulk.hpp; the new rule on enum arguments).
// ============================================================================
// Whether an element count whose byte size overflows size_t must be rejected.
// The docs do not say so for the codec (requantize and gemm reject such
// counts); no buffer can hold it, so the harness asks for an error naming n
// (or src / dst) rather than undefined behaviour.
constexpr bool overflowing_counts_must_throw = true;

expectation contract(const call& c) {
  expectation e;
  if (c.encode && c.o != 0 && c.o != 1) e.reject("enum", {"o"}, "o is not an fp8::overflow");
  if (c.n != 0) {
    if (c.src == nullptr) e.reject("null", {"src"}, "src is null");
    if (c.dst == nullptr) e.reject("null", {"dst"}, "dst is null");
    const u128 sb = static_cast<u128>(c.n) * c.src_size, db = static_cast<u128>(c.n) * c.dst_size;
    if (overflowing_counts_must_throw && (sb > size_max || db > size_max || wraps(c.src, sb) || wraps(c.dst, db)))
      e.reject("count_overflow", {"n", "src", "dst"}, "n elements overflow size_t bytes or the address space");
    else if (overlaps(c.src, sb, c.dst, db))
      e.reject("overlap", {"dst"}, "dst overlaps src");
  }
  if (!(std::isfinite(c.scale) && c.scale > 0.0f)) e.reject("scale", {"scale"}, "scale is not positive finite");
  return e;
}
// ============================================================================

template <class F>
void run(const raw& r, filler& f) {
  const int op = r.op % 6;
  call c{};
  c.encode = op < 3;
  c.n = decode_size(r.n, 300);
  c.scale = decode_float(r.scale);
  c.o = decode_enum(r.o, 2);
  c.src_size = c.encode ? (op == 0 ? 4 : 2) : 1;
  c.dst_size = c.encode ? 1 : (op == 3 ? 4 : 2);
  const std::size_t held = std::min(c.n, max_elements);
  const unsigned sc = r.layout >> 4;

  pool p;
  const std::size_t s = p.add("src", held * c.src_size, (r.layout & 3u) * c.src_size, c.src_size);
  const std::size_t d = p.add("dst", held * c.dst_size, ((r.layout >> 2) & 3u) * c.dst_size, c.dst_size);
  if (sc == dst_in_src) p.alias(d, s, r.offset % (held * c.src_size + 8));
  if (sc == src_in_dst) p.alias(s, d, r.offset % (held * c.dst_size + 8));
  if (sc == src_null || sc == both_null) p.make_null(s);
  if (sc == dst_null || sc == both_null) p.make_null(d);
  p.allocate(r.seed);
  // Source values by the chosen distribution (the codes of a decode are any bytes).
  unsigned char* src_store = p.storage(s);
  for (std::size_t i = 0; i < held && c.encode; ++i) {
    if (op == 0) {
      const float v = gen_float(f, r.values);
      std::memcpy(src_store + 4 * i, &v, 4);
    } else {
      const u16 v = op == 1 ? gen_bf16(f, r.values) : gen_half(f, r.values);
      std::memcpy(src_store + 2 * i, &v, 2);
    }
  }
  c.src = p.ptr(s);
  c.dst = p.ptr(d);
  const expectation e = contract(c);
  if (e.v != expectation::invalid && c.n > held) return skip();  // valid but larger than an input can check

  static const char* ops[] = {"encode from float", "encode from bfloat16", "encode from half",
                              "decode to float",   "decode to bfloat16",   "decode to half"};
  std::string& ctx = context();
  ctx = std::string("fp8::") + ops[op] + ", format " + F::name + "\n  n = " + std::to_string(c.n) +
        ", scale = " + fnum(c.scale) + ", o = " + std::to_string(c.o) + "\n" + p.layout();
  for (std::size_t i = 0; i < std::min<std::size_t>(held, 8); ++i) {
    u32 v = 0;
    std::memcpy(&v, src_store + i * c.src_size, c.src_size);
    ctx += "  src[" + std::to_string(i) + "] = " + hex(v) + "\n";
  }
  p.may_change(d, 0, held * c.dst_size);

  unsigned char* dst = static_cast<unsigned char*>(const_cast<void*>(c.dst));
  const auto o = static_cast<fp8::overflow>(c.o);
  const auto the_call = [&] {
    auto* q = reinterpret_cast<fp8::fp8<F>*>(dst);
    const auto* qs = reinterpret_cast<const fp8::fp8<F>*>(c.src);
    switch (op) {
      case 0: fp8::encode(static_cast<const float*>(c.src), q, c.n, c.scale, o); break;
      case 1: fp8::encode(static_cast<const fp8::bfloat16*>(c.src), q, c.n, c.scale, o); break;
      case 2: fp8::encode(static_cast<const fp8::half*>(c.src), q, c.n, c.scale, o); break;
      case 3: fp8::decode(qs, reinterpret_cast<float*>(dst), c.n, c.scale); break;
      case 4: fp8::decode(qs, reinterpret_cast<fp8::bfloat16*>(dst), c.n, c.scale); break;
      default: fp8::decode(qs, reinterpret_cast<fp8::half*>(dst), c.n, c.scale); break;
    }
  };
  const auto check = [&] {
    const bool fnuz = spec_of<F>().kind == ref::family::fnuz;
    for (std::size_t i = 0; i < c.n; ++i) {
      u32 in = 0, got = 0, want = 0;
      std::memcpy(&in, src_store + i * c.src_size, c.src_size);
      std::memcpy(&got, dst + i * c.dst_size, c.dst_size);
      if (c.encode) {
        const float x = op == 0 ? from_bits32(in)
                                : static_cast<float>(op == 1 ? bf16_value(static_cast<u16>(in))
                                                             : half_value(static_cast<u16>(in)));
        want = ref_encode<F>(static_cast<double>(x / c.scale), c.o == 0);
      } else {
        const u8 code = static_cast<u8>(in);
        const bool is_nan = ref::is_nan(spec_of<F>(), code), negative = !fnuz && (code & 0x80) != 0;
        const float v = static_cast<float>(code_value<F>(code)) * c.scale;
        if (op == 3)
          want = is_nan ? (negative ? 0xFFC00000u : 0x7FC00000u) : bits(v);
        else if (op == 4)
          want = bf16_bits_of(is_nan ? NAN : round_bf16(static_cast<double>(v)), negative);
        else
          want = half_bits_of(is_nan ? NAN : round_half(static_cast<double>(v)), negative);
      }
      if (got != want)
        fail("dst[" + std::to_string(i) + "] = " + hex(got) + ", expected " + hex(want) + " (src " + hex(in) + ")");
    }
  };
  execute(e, p, the_call, check);
}

void run_input(const u8* data, std::size_t size) {
  reader in{data, size};
  raw r;
  visit(in, r);
  filler f(in.rest(), in.rest_size(), r.seed);
  switch (r.format % 4) {
    case 0: run<fp8::E4M3>(r, f); break;
    case 1: run<fp8::E5M2>(r, f); break;
    case 2: run<fp8::E4M3FNUZ>(r, f); break;
    default: run<fp8::E5M2FNUZ>(r, f); break;
  }
}

// ---------------------------------------------------------------- seeds
// Raw field values that decode to what the seed wants (see decode_*).
constexpr u32 nice(u32 index) { return index; }  // decode_float: 1, 0.5, 2, 0.25, 3, 0.75, 1.5, 0.1, ...
constexpr u32 special(u32 index) { return 0xA0000000u | index; }  // 0, -0, NaN, -NaN, Inf, -Inf, FLT_MAX, ...
constexpr u16 huge(u16 index) { return static_cast<u16>(0xF000u | index); }  // decode_size's special table

std::vector<seed<raw>> seeds() {
  std::vector<seed<raw>> v;
  const auto V = expectation::valid, I = expectation::invalid;
  const char* fmt[] = {"e4m3", "e5m2", "e4m3fnuz", "e5m2fnuz"};
  const char* op[] = {"encode_f32", "encode_bf16", "encode_f16", "decode_f32", "decode_bf16", "decode_f16"};
  // Every operation and format, valid, with varied counts, scales and values.
  for (u8 o = 0; o < 6; ++o)
    for (u8 fm = 0; fm < 4; ++fm) {
      raw r;
      r.op = o;
      r.format = fm;
      r.n = static_cast<u16>(1 + (o * 4 + fm) * 13 % 200);
      r.scale = nice((o + fm) % 8);
      r.o = static_cast<u8>(fm % 2);
      r.layout = static_cast<u8>((o + fm) % 16 & 0x0F);
      r.values = static_cast<u8>((o + fm) % 6);
      r.seed = 1000u + o * 4u + fm;
      v.push_back({std::string("valid_") + op[o] + "_" + fmt[fm], r, V});
    }
  raw base;
  base.n = 40;
  base.values = 2;
  base.seed = 7;
  auto with = [&](const char* name, int verdict, auto&& edit) {
    raw r = base;
    edit(r);
    v.push_back({name, r, verdict});
  };
  with("valid_n0_null", V, [](raw& r) { r.n = 0; r.layout = both_null << 4; });
  with("valid_scale_subnormal", V, [](raw& r) { r.scale = special(9); });
  with("valid_scale_flt_max_decode", V, [](raw& r) { r.op = 3; r.scale = special(6); });
  with("valid_scale_pow2_huge", V, [](raw& r) { r.scale = special(12); r.values = 0; });
  with("valid_raw_bits_e5m2", V, [](raw& r) { r.format = 1; r.values = 0; r.n = 300; });
  with("invalid_scale_zero", I, [](raw& r) { r.scale = special(0); });
  with("invalid_scale_negzero", I, [](raw& r) { r.op = 4; r.scale = special(1); });
  with("invalid_scale_nan", I, [](raw& r) { r.op = 1; r.scale = special(2); });
  with("invalid_scale_inf", I, [](raw& r) { r.op = 3; r.scale = special(4); });
  with("invalid_scale_negative", I, [](raw& r) { r.op = 2; r.scale = nice(9); });
  with("invalid_src_null", I, [](raw& r) { r.layout = src_null << 4; });
  with("invalid_dst_null", I, [](raw& r) { r.op = 5; r.layout = dst_null << 4; });
  with("invalid_dst_inside_src", I, [](raw& r) { r.layout = dst_in_src << 4; r.offset = 20; });
  with("invalid_src_inside_dst", I, [](raw& r) { r.op = 3; r.layout = src_in_dst << 4; r.offset = 8; });
  with("invalid_in_place", I, [](raw& r) { r.op = 3; r.layout = dst_in_src << 4; r.offset = 0; });
  with("invalid_overflow_enum", I, [](raw& r) { r.o = 0xF0; });
  with("invalid_overflow_enum_negative", I, [](raw& r) { r.op = 1; r.o = 0xF2; });
  with("invalid_n_size_max", I, [](raw& r) { r.n = huge(2); });
  with("invalid_n_quarter_overflow", I, [](raw& r) { r.n = huge(7); });
  with("invalid_n_2p63", I, [](raw& r) { r.op = 3; r.n = huge(11); r.format = 2; });
  // 2^40 elements fit size_t as bytes, but the extents of two heap buffers
  // that far apart overlap.
  with("invalid_n_2p40_extents_overlap", I, [](raw& r) { r.op = 4; r.n = huge(17); });
  return v;
}

}  // namespace

FZ_ENTRY_POINTS((void)0)
