// SPDX-License-Identifier: Apache-2.0
// What the five libFuzzer harnesses of tests/fuzz share: turning the fuzzer's
// bytes into arguments (a fixed header of fields read by one visit() function
// per harness, which also writes the seed files, so seeds and decoding cannot
// drift apart; buffer contents from the bytes after the header, continued by
// a PRNG), buffers with exact sizes so AddressSanitizer sees every stray
// access, canary snapshots that prove a rejected call wrote nothing, the one
// rule every call is judged by (execute()), reference helpers built on
// tests/reference.hpp only (no library codec produces an expected value),
// acceptance sets for results that are only known within an error bound, and
// the seed-writing mode (`<harness> --write-seeds=DIR`).
#pragma once

#include <sanitizer/allocator_interface.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fp8/error.hpp>

#include "formats.hpp"

// The harness's own loops (filling, snapshots, references) carry no
// coverage instrumentation: their branches say nothing about the library,
// and the per-comparison callbacks made them most of each input's time.
#define FZ_NO_COVERAGE __attribute__((no_sanitize("coverage")))

namespace fz {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
__extension__ typedef unsigned __int128 u128;  // address arithmetic that cannot wrap

constexpr std::size_t size_max = std::numeric_limits<std::size_t>::max();

// ---------------------------------------------------------------- reports
// The decoded call, printed with every finding so a crash file is readable
// without a debugger.
inline std::string& context() {
  static std::string s;
  return s;
}

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "\n==== fp8 fuzz finding ====\n%s\n---- decoded call ----\n%s\n==== end ====\n", what.c_str(),
               context().c_str());
  std::fflush(stderr);
  std::abort();
}

inline std::string num(double x) {
  char b[48];
  std::snprintf(b, sizeof b, "%.9g", x);
  return b;
}
inline std::string hex(u64 x) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(x));
  return b;
}
inline u32 bits(float x) {
  u32 u;
  std::memcpy(&u, &x, 4);
  return u;
}
inline float from_bits32(u32 u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}
inline std::string fnum(float x) { return num(static_cast<double>(x)) + " (" + hex(bits(x)) + ")"; }

// ---------------------------------------------------------------- bytes in and out
// Fields are unsigned integers, little-endian, so a seed means the same on
// every machine. A short input reads zeros.
struct reader {
  const u8* data;
  std::size_t size, pos = 0;
  static constexpr bool writing = false;
  template <class T>
  void operator()(T& v) {
    u64 x = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) x |= static_cast<u64>(pos < size ? data[pos++] : 0) << (8 * i);
    v = static_cast<T>(x);
  }
  const u8* rest() const { return data + std::min(pos, size); }
  std::size_t rest_size() const { return pos < size ? size - pos : 0; }
};
struct writer {
  std::vector<u8> bytes;
  static constexpr bool writing = true;
  template <class T>
  void operator()(T& v) {
    for (std::size_t i = 0; i < sizeof(T); ++i) bytes.push_back(static_cast<u8>(static_cast<u64>(v) >> (8 * i)));
  }
};

// Buffer contents: the bytes after the header, then SplitMix64 from the
// header's seed, so a small input still fills large buffers and the fuzzer
// can steer the first bytes exactly.
class filler {
 public:
  filler(const u8* data, std::size_t size, u64 seed) : p_(data), n_(size), state_(seed) {}
  FZ_NO_COVERAGE u8 byte() {
    if (pos_ < n_) return p_[pos_++];
    if (left_ == 0) {
      word_ = next();
      left_ = 8;
    }
    --left_;
    const u8 b = static_cast<u8>(word_);
    word_ >>= 8;
    return b;
  }
  FZ_NO_COVERAGE u16 u16v() { return static_cast<u16>(byte() | byte() << 8); }
  FZ_NO_COVERAGE u32 u32v() {
    if (pos_ >= n_) return static_cast<u32>(next());
    return static_cast<u32>(u16v()) | static_cast<u32>(u16v()) << 16;
  }
  FZ_NO_COVERAGE u64 u64v() { return static_cast<u64>(u32v()) | static_cast<u64>(u32v()) << 32; }
  FZ_NO_COVERAGE u64 next() {
    u64 z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

 private:
  const u8* p_;
  std::size_t n_, pos_ = 0;
  u64 state_, word_ = 0;
  unsigned left_ = 0;
};

// ---------------------------------------------------------------- argument decoding
// Sizes: mostly small (raw % (small_max + 1)), sometimes one of the values
// where size arithmetic breaks.
inline std::size_t decode_size(u16 raw, std::size_t small_max) {
  static const std::size_t special[] = {0,
                                        1,
                                        size_max,
                                        size_max - 1,
                                        size_max / 2,
                                        size_max / 2 + 1,
                                        size_max / 3,
                                        size_max / 4 + 1,
                                        size_max / 8 + 1,
                                        std::size_t{1} << 61,
                                        std::size_t{1} << 62,
                                        std::size_t{1} << 63,
                                        (std::size_t{1} << 63) + 1,
                                        std::size_t{1} << 32,
                                        (std::size_t{1} << 32) - 1,
                                        (std::size_t{1} << 32) + 1,
                                        std::size_t{1} << 31,
                                        std::size_t{1} << 40,
                                        std::size_t{1} << 20,
                                        65536,
                                        1000,
                                        size_max / 16};
  if (raw < 0xF000) return raw % (small_max + 1);
  return special[(raw & 0xFF) % (sizeof special / sizeof special[0])];
}

// A leading dimension for rows of `need` elements: mostly need plus a small
// pad, sometimes too small, sometimes huge.
inline std::size_t decode_ld(u16 raw, std::size_t need) {
  if (raw < 0xC000) {
    const unsigned pad = raw & 7u;
    return need + (pad < 4 ? 0 : pad - 3);
  }
  if (raw < 0xF000) return need == 0 ? 0 : need - 1 - std::min<std::size_t>(need - 1, raw % 3);
  return decode_size(raw, 0);
}

// A float argument: nice values, the special ones, powers of two across the
// whole range, raw bit patterns.
inline float decode_float(u32 raw) {
  static const float nice[] = {1.0f, 0.5f, 2.0f, 0.25f, 3.0f, 0.75f, 1.5f, 0.1f, 10.0f, -1.0f, -0.5f, 0.3f,
                               4.0f, 8.0f, 0.015625f, 100.0f, -2.0f, 0.125f, 5.0f, 1.25f, 0.2f, 16.0f, -0.25f, 7.0f,
                               0.01f, 1000.0f, 0.0625f, 6.0f, -3.0f, 0.9f, 1.0f / 3.0f, 64.0f};
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float special[] = {0.0f,
                           -0.0f,
                           nan,
                           -nan,
                           inf,
                           -inf,
                           std::numeric_limits<float>::max(),
                           -std::numeric_limits<float>::max(),
                           std::numeric_limits<float>::min(),
                           std::numeric_limits<float>::denorm_min(),
                           -std::numeric_limits<float>::denorm_min(),
                           0x1p-127f,
                           0x1p127f,
                           1e-30f,
                           1e30f,
                           0x1p-100f,
                           0x1p100f,
                           from_bits32(0x7F800001u),  // signalling NaN
                           0x1.fffffep-127f,          // largest subnormal
                           -1e-40f};
  const u32 cls = raw >> 28;
  if (cls < 10) return nice[raw % 32];
  if (cls == 10) return special[(raw & 0xFFFFu) % (sizeof special / sizeof special[0])];
  if (cls <= 12) return from_bits32(raw << 4 | (raw & 0xF));
  // 2^e * (1 + f), e in [-150, 150): every binade, sign from bit 27.
  const int e = static_cast<int>((raw >> 16) % 300) - 150;
  const float f = 1.0f + static_cast<float>(raw & 0xFFFF) / 65536.0f;
  const float v = std::ldexp(f, e);
  return (raw >> 27) & 1u ? -v : v;
}

// An enumerator value, or (raw >= 0xF0) one that is none.
inline int decode_enum(u8 raw, int count) {
  static const int bad[] = {2, 3, -1, 255, 0x7FFFFFFF, std::numeric_limits<int>::min(), 4, 100};
  if (raw < 0xF0) return raw % count;
  const int b = bad[raw & 7];
  return b < count && b >= 0 ? count : b;  // never a real enumerator
}

// Element values for float-like buffers (mode picks the distribution).
FZ_NO_COVERAGE inline float gen_float(filler& f, u8 mode) {
  switch (mode % 6) {
    case 0:
      return from_bits32(f.u32v());  // anything: NaN, Inf, subnormal
    case 1:
    case 2: {  // moderate: |x| in [2^-6, 2^7), one in 16 a special value
      const u32 r = f.u32v();
      if (mode % 6 == 2 && (r & 15u) == 0) return decode_float(0xA0000000u | (r >> 4));
      const u32 sign = (r >> 4) & 1u, e = ((r >> 5) % 13u) + 121u;
      return from_bits32(sign << 31 | e << 23 | (f.u32v() & 0x7FFFFFu));
    }
    case 3: {  // tiny and huge mixed
      const u32 r = f.u32v();
      const u32 sign = r & 1u, e = (r >> 1) & 1u ? (r >> 2) % 12u : 240u + (r >> 2) % 14u;
      return from_bits32(sign << 31 | e << 23 | (f.u32v() & 0x7FFFFFu));
    }
    case 4:  // small integers
      return static_cast<float>(static_cast<int>(f.byte() % 17u) - 8);
    default:
      return decode_float(f.u32v());
  }
}
// bfloat16 and half bit patterns by the same modes (bfloat16: the float's
// top half; half: its own fields).
FZ_NO_COVERAGE inline u16 gen_bf16(filler& f, u8 mode) { return static_cast<u16>(bits(gen_float(f, mode)) >> 16); }
FZ_NO_COVERAGE inline u16 gen_half(filler& f, u8 mode) {
  const u16 r = f.u16v();
  switch (mode % 6) {
    case 1:
    case 2:
      return static_cast<u16>((r & 0x83FFu) | ((((r >> 10) % 13u) + 9u) << 10));
    case 3:
      return static_cast<u16>((r & 0x83FFu) | (((r >> 10) & 1u ? 0u : 29u) << 10));
    case 4:
      return static_cast<u16>(r & 0x83FFu);  // subnormal
    default:
      return r;
  }
}

// bfloat16 values for the flush rule of vdpbf16ps (fuzz_gemm, fuzz_conv: value
// modes 0xF0 and up): 2^e * 1.f with e within 4 of
// -64 - 4 ((mode & 15) % 15) (-64 to -120), one in eight a bfloat16 subnormal,
// random signs: products of two such (or of one with an FP8 value) that lie
// below 2^-126, exact in float (subnormal) yet flushed by vdpbf16ps.
FZ_NO_COVERAGE inline u16 gen_bf16_tiny(filler& fl, u8 mode) {
  const u32 r = fl.u32v();
  const u32 sign = (r & 1u) << 15, frac = (r >> 1) & 0x7Fu;
  if (((r >> 8) & 7u) == 0) return static_cast<u16>(sign | (frac == 0 ? 1u : frac));  // subnormal
  const int e = -64 - 4 * ((mode & 15) % 15) + static_cast<int>((r >> 11) % 9u) - 4;
  return static_cast<u16>(sign | static_cast<u32>(e + 127) << 7 | frac);
}

// Scale arrays (per channel, per row or column, block scales): mostly valid
// by a distribution the mode picks, then possibly one bad (or edge) value at
// bad_index: 1: +0, 2: -0, 3: negative, 4: NaN, 5: +Inf, 6: subnormal,
// 7: FLT_MAX, 8: 2^-126, 9: -Inf, else none.
FZ_NO_COVERAGE inline float gen_scale(filler& f, u8 mode) {
  const u32 r = f.u32v();
  switch (mode % 5) {
    case 0: return 0.25f + static_cast<float>(r % 15000u) / 4000.0f;
    case 1: return std::ldexp(1.0f, static_cast<int>(r % 41u) - 20);
    case 2: return std::ldexp(1.0f + static_cast<float>(r & 0xFFFFu) / 65536.0f, static_cast<int>((r >> 16) % 250u) - 125);
    case 3: return 0.75f;
    default: return std::ldexp(1.0f + static_cast<float>(r & 0xFFu) / 256.0f, static_cast<int>((r >> 8) % 9u) - 4);
  }
}
FZ_NO_COVERAGE inline void fill_scales(unsigned char* dst, std::size_t count, filler& f, u8 mode, u8 bad_kind, u16 bad_index) {
  const float bad[] = {0.0f,
                       0.0f,
                       -0.0f,
                       -1.5f,
                       std::numeric_limits<float>::quiet_NaN(),
                       std::numeric_limits<float>::infinity(),
                       0x1p-140f,
                       std::numeric_limits<float>::max(),
                       0x1p-126f,
                       -std::numeric_limits<float>::infinity()};
  for (std::size_t i = 0; i < count; ++i) {
    const float v = gen_scale(f, mode);
    std::memcpy(dst + 4 * i, &v, 4);
  }
  const unsigned kind = bad_kind % 16u;
  if (count != 0 && kind >= 1 && kind <= 9) std::memcpy(dst + 4 * (bad_index % count), &bad[kind], 4);
}

// ---------------------------------------------------------------- independent values
// bfloat16 and half bits to their exact values, from the formula.
FZ_NO_COVERAGE inline double bf16_value(u16 b) { return static_cast<double>(from_bits32(static_cast<u32>(b) << 16)); }
FZ_NO_COVERAGE inline double half_value(u16 b) {
  const int e = (b >> 10) & 0x1F, m = b & 0x3FF;
  const double sign = (b & 0x8000) ? -1.0 : 1.0;
  if (e == 31) return sign * (m != 0 ? std::numeric_limits<double>::quiet_NaN() : HUGE_VAL);
  return e == 0 ? sign * std::ldexp(m, -24) : sign * std::ldexp(1024 + m, e - 25);
}

template <class F>
const ref::table& table_of() {
  static const ref::table t(spec_of<F>());
  return t;
}
template <class F>
double code_value(u8 c) {
  return ref::decode(spec_of<F>(), c);
}
template <class F>
u8 ref_encode(double x, bool saturate) {
  return ref::encode(spec_of<F>(), table_of<F>(), x, saturate);
}

// Round to nearest even with m fraction bits, subnormal quantum 2^qmin,
// overflow to infinity at 2^emax1 (bfloat16: 7, -133, 128; half: 10, -24, 16).
FZ_NO_COVERAGE inline double round_ieee(double x, int m, int qmin, int emax1) {
  if (x == 0.0 || !std::isfinite(x)) return x;
  int e;
  (void)std::frexp(x, &e);  // |x| in [2^(e-1), 2^e)
  const int q = std::max(e - 1 - m, qmin);
  const double y = std::ldexp(std::nearbyint(std::ldexp(x, -q)), q);  // nearbyint: ties to even
  return std::fabs(y) >= std::ldexp(1.0, emax1) ? std::copysign(HUGE_VAL, x) : y;
}
inline double round_bf16(double x) { return round_ieee(x, 7, -133, 128); }
inline double round_half(double x) { return round_ieee(x, 10, -24, 16); }
// The bits of a value already rounded to bfloat16 / half; NaN: canonical
// quiet NaN with the given sign.
inline u16 bf16_bits_of(double v, bool negative_nan) {
  if (std::isnan(v)) return negative_nan ? 0xFFC0 : 0x7FC0;
  return static_cast<u16>(bits(static_cast<float>(v)) >> 16);
}
inline u16 half_bits_of(double v, bool negative_nan) {
  if (std::isnan(v)) return negative_nan ? 0xFE00 : 0x7E00;
  const u16 sign = std::signbit(v) ? 0x8000 : 0;
  const double a = std::fabs(v);
  if (std::isinf(a)) return sign | 0x7C00;
  if (a < 0x1p-14) return static_cast<u16>(sign | static_cast<u16>(a * 0x1p24));
  int e;
  const double f = std::frexp(a, &e);  // a = f * 2^e, f in [0.5, 1)
  return static_cast<u16>(sign | (e + 14) << 10 | static_cast<u16>((f * 2 - 1) * 1024));
}

// ---------------------------------------------------------------- bounded results
// The set of values a result may take: closed intervals of the extended
// reals, and NaN or not. Rounding and the activations are monotone, so an
// interval maps to the interval of its ends.
struct accept_set {
  struct span {
    double lo, hi;
  };
  std::vector<span> spans;
  bool nan = false;
  void add(double lo, double hi) { spans.push_back({std::min(lo, hi), std::max(lo, hi)}); }
  void point(double v) {
    if (std::isnan(v))
      nan = true;
    else
      add(v, v);
  }
  void any_special() {
    nan = true;
    point(HUGE_VAL);
    point(-HUGE_VAL);
  }
  std::string str() const {
    std::string s;
    for (const auto& x : spans) s += "[" + num(x.lo) + ", " + num(x.hi) + "] ";
    if (nan) s += "NaN";
    return s;
  }
};

// act: 0 none, 1 relu, 2 clamp (fmin(fmax(x, lo), hi), so NaN becomes lo).
FZ_NO_COVERAGE inline accept_set activate(const accept_set& in, int act, double lo, double hi) {
  if (act == 0) return in;
  if (act == 1) {
    lo = 0.0;
    hi = HUGE_VAL;
  }
  const auto f = [&](double x) { return std::min(std::max(x, lo), hi); };
  accept_set out;
  for (const auto& s : in.spans) out.add(f(s.lo), f(s.hi));
  if (in.nan) out.point(lo);
  return out;
}

FZ_NO_COVERAGE inline bool accepts_float(const accept_set& a, float got) {
  const double g = static_cast<double>(got);
  if (std::isnan(g)) return a.nan;
  for (const auto& s : a.spans)
    if (s.lo <= g && g <= s.hi) return true;
  return false;
}
FZ_NO_COVERAGE inline bool accepts_bf16(const accept_set& a, u16 got) {
  const double g = bf16_value(got);
  if (std::isnan(g)) return a.nan;
  for (const auto& s : a.spans)
    if (g == round_bf16(s.lo) || g == round_bf16(s.hi) || (s.lo < g && g < s.hi)) return true;
  return false;
}
// FP8 output: code(v / output_scale). The float division rounds once
// (relative 2^-24, or 2^-149 absolutely near zero): the ends are widened by
// that before the reference encoder rounds them.
template <class F>
FZ_NO_COVERAGE bool accepts_fp8(const accept_set& a, u8 got, double output_scale, bool saturate) {
  if (ref::is_nan(spec_of<F>(), got) && a.nan) return true;
  const double g = code_value<F>(got);
  for (const auto& s : a.spans) {
    double lo = s.lo / output_scale, hi = s.hi / output_scale;
    lo -= std::fabs(lo) * 0x1p-22 + 0x1p-149;
    hi += std::fabs(hi) * 0x1p-22 + 0x1p-149;
    if (got == ref_encode<F>(lo, saturate) || got == ref_encode<F>(hi, saturate)) return true;
    if (std::isfinite(g) && lo < g && g < hi) return true;
  }
  return false;
}

// FP8 formats by index (0 E4M3, 1 E5M2, 2 E4M3FNUZ, 3 E5M2FNUZ), as the
// GEMM and convolution harnesses number them, and their codes' values
// through one table per format (each code decoded once).
FZ_NO_COVERAGE inline const ref::format& fp8_spec(int f) {
  switch (f) {
    case 0: return ref::e4m3;
    case 1: return ref::e5m2;
    case 2: return ref::e4m3fnuz;
    default: return ref::e5m2fnuz;
  }
}
FZ_NO_COVERAGE inline double fp8_value(int f, u8 c) {
  static const std::vector<std::vector<double>> table = [] {
    std::vector<std::vector<double>> t(4, std::vector<double>(256));
    for (int g = 0; g < 4; ++g)
      for (unsigned k = 0; k < 256; ++k) t[static_cast<std::size_t>(g)][k] = ref::decode(fp8_spec(g), k);
    return t;
  }();
  return table[static_cast<std::size_t>(f)][c];
}

// half output: the same, rounded by round_half (nearest even, +-Inf past
// 65504 + 16).
FZ_NO_COVERAGE inline bool accepts_half(const accept_set& a, u16 got) {
  const double g = half_value(got);
  if (std::isnan(g)) return a.nan;
  for (const auto& s : a.spans)
    if (g == round_half(s.lo) || g == round_half(s.hi) || (s.lo < g && g < s.hi)) return true;
  return false;
}

// Whether element `at` of an output buffer of kind `kind` (0..3 FP8 codes as
// above, 4 bfloat16, 5 float, 6 half) lies in the set, through the output
// type's one rounding; `got` receives the element as text for a finding's
// message.
FZ_NO_COVERAGE inline bool accepts_output(int kind, const accept_set& set, const u8* out, std::size_t at,
                                          double output_scale, bool saturate, std::string& got) {
  if (kind == 5) {
    float g;
    std::memcpy(&g, out + 4 * at, 4);
    got = fnum(g);
    return accepts_float(set, g);
  }
  if (kind == 4) {
    u16 g;
    std::memcpy(&g, out + 2 * at, 2);
    got = hex(g) + " = " + num(bf16_value(g));
    return accepts_bf16(set, g);
  }
  if (kind == 6) {
    u16 g;
    std::memcpy(&g, out + 2 * at, 2);
    got = hex(g) + " = " + num(half_value(g));
    return accepts_half(set, g);
  }
  const u8 g = out[at];
  got = hex(g) + " = " + num(fp8_value(kind, g));
  switch (kind) {
    case 0: return accepts_fp8<fp8::E4M3>(set, g, output_scale, saturate);
    case 1: return accepts_fp8<fp8::E5M2>(set, g, output_scale, saturate);
    case 2: return accepts_fp8<fp8::E4M3FNUZ>(set, g, output_scale, saturate);
    default: return accepts_fp8<fp8::E5M2FNUZ>(set, g, output_scale, saturate);
  }
}

// ---------------------------------------------------------------- buffers
// Every buffer is its own exact-size heap allocation (so AddressSanitizer
// reports any access outside it), possibly shifted by a few elements (the
// shift is part of the allocation), unless the harness places it inside
// another one to make them overlap, or passes null.
class pool {
 public:
  struct region {
    std::string name;
    std::size_t bytes = 0, shift = 0, align = 1;
    std::size_t host = npos, offset = 0;  // placed at host's base + offset
    bool null = false;
    unsigned char* ptr = nullptr;
  };
  static constexpr std::size_t npos = ~std::size_t{0};

  // align: the element alignment the region's pointer keeps when it is
  // placed inside another region (shift is a multiple of it).
  std::size_t add(std::string name, std::size_t bytes, std::size_t shift = 0, std::size_t align = 1) {
    region r;
    r.name = std::move(name);
    r.bytes = bytes;
    r.shift = shift;
    r.align = align;
    regions_.push_back(r);
    return regions_.size() - 1;
  }
  void alias(std::size_t id, std::size_t host, std::size_t offset) {
    regions_[id].host = host;
    regions_[id].offset = offset;
  }
  void make_null(std::size_t id) { regions_[id].null = true; }
  // Allocates every block (a region without host), big enough for the
  // regions placed in it, and fills it with bytes from its own PRNG stream
  // (so the input's tail bytes go to the values the harness generates).
  FZ_NO_COVERAGE void allocate(u64 seed) {
    filler f(nullptr, 0, seed ^ 0x5DEECE66Dull);
    for (region& g : regions_) {  // a guest keeps its element alignment
      if (g.host == npos) continue;
      const std::size_t mis = (regions_[g.host].shift + g.offset) % g.align;
      g.offset = g.offset >= mis ? g.offset - mis : g.offset + g.align - mis;
    }
    for (std::size_t i = 0; i < regions_.size(); ++i) {
      region& r = regions_[i];
      if (r.host != npos) continue;
      std::size_t size = r.shift + r.bytes;
      for (const region& g : regions_)
        if (g.host == i) size = std::max(size, r.shift + g.offset + g.bytes);
      blocks_.push_back({i, size, std::unique_ptr<unsigned char[]>(new unsigned char[size]), {}, {}});
      block& b = blocks_.back();
      for (std::size_t k = 0; k < size; k += 8) {
        const u64 w = f.next();
        std::memcpy(b.mem.get() + k, &w, std::min<std::size_t>(8, size - k));
      }
      b.may_change.assign(size, 0);
      r.ptr = b.mem.get() + r.shift;
    }
    for (region& r : regions_)
      if (r.host != npos) r.ptr = regions_[r.host].ptr + r.offset;
    for (region& r : regions_)
      if (r.null) r.ptr = nullptr;
  }
  unsigned char* ptr(std::size_t id) const { return regions_[id].ptr; }
  // The region's own storage, even when the call gets null (for filling).
  FZ_NO_COVERAGE unsigned char* storage(std::size_t id) const {
    const region& r = regions_[id];
    if (r.host != npos) return storage(r.host) + r.offset;
    for (const block& b : blocks_)
      if (b.id == id) return b.mem.get() + r.shift;
    return nullptr;
  }
  const region& at(std::size_t id) const { return regions_[id]; }
  FZ_NO_COVERAGE void snapshot() {
    for (block& b : blocks_) b.before.assign(b.mem.get(), b.mem.get() + b.size);
  }
  // Bytes a valid call may write (its outputs), relative to the region's
  // pointer; clipped to the region (a call too large to run marks nothing).
  FZ_NO_COVERAGE void may_change(std::size_t id, std::size_t byte, std::size_t len) {
    const region& r = regions_[id];
    if (byte >= r.bytes) return;
    len = std::min(len, r.bytes - byte);
    const unsigned char* p = storage(id);
    for (block& b : blocks_)
      if (p >= b.mem.get() && p < b.mem.get() + b.size) {
        const std::size_t at = static_cast<std::size_t>(p - b.mem.get()) + byte;
        std::memset(b.may_change.data() + at, 1, std::min(len, b.size - at));
      }
  }
  // "" when nothing but the may_change bytes differs from the snapshot
  // (all bytes when outputs_too), else where.
  FZ_NO_COVERAGE std::string changed(bool outputs_too) const {
    for (const block& b : blocks_) {
      if (b.size == 0 || std::memcmp(b.mem.get(), b.before.data(), b.size) == 0) continue;
      for (std::size_t k = 0; k < b.size; ++k)
        if (b.mem[k] != b.before[k] && (outputs_too || b.may_change[k] == 0))
          return "buffer '" + regions_[b.id].name + "' (allocation of " + std::to_string(b.size) + " bytes) byte " +
                 std::to_string(k) + " changed from " + hex(b.before[k]) + " to " + hex(b.mem[k]);
    }
    return "";
  }
  std::string layout() const {
    std::string s;
    for (const region& r : regions_) {
      s += "  " + r.name + ": " + std::to_string(r.bytes) + " bytes";
      if (r.null) s += ", passed as null";
      if (r.host != npos) s += ", inside '" + regions_[r.host].name + "' at byte " + std::to_string(r.offset);
      if (r.shift != 0) s += ", shifted " + std::to_string(r.shift) + " bytes";
      s += "\n";
    }
    return s;
  }

 private:
  struct block {
    std::size_t id, size;
    std::unique_ptr<unsigned char[]> mem;
    std::vector<unsigned char> before;
    std::vector<unsigned char> may_change;
  };
  std::vector<region> regions_;
  std::vector<block> blocks_;
};

// memcpy that accepts empty (possibly null) ranges.
inline void put(void* dst, const void* src, std::size_t bytes) {
  if (bytes != 0) std::memcpy(dst, src, bytes);
}

// Whether two byte ranges of the given lengths intersect (empty ranges
// intersect nothing), without wrapping.
inline bool overlaps(const void* a, u128 a_bytes, const void* b, u128 b_bytes) {
  if (a == nullptr || b == nullptr || a_bytes == 0 || b_bytes == 0) return false;
  const u128 x = reinterpret_cast<std::uintptr_t>(a), y = reinterpret_cast<std::uintptr_t>(b);
  return x < y + b_bytes && y < x + a_bytes;
}

// Bytes of a rows x cols matrix with leading dimension ld and elements of
// `size` bytes, (rows - 1) * ld + cols elements, exact; any value above
// size_max is returned as size_max + 1.
inline u128 span_bytes(std::size_t rows, std::size_t cols, std::size_t ld, std::size_t size) {
  if (rows == 0 || cols == 0) return 0;
  const u128 elements = static_cast<u128>(rows - 1) * ld + cols;  // < 2^128: exact
  const u128 too_big = static_cast<u128>(size_max) + 1;
  return elements > size_max ? too_big : std::min(elements * size, too_big);
}

// Whether [p, p + bytes) runs past the end of the address space: no object
// can be that large, so a size that makes it so is an overflowing count.
inline bool wraps(const void* p, u128 bytes) {
  return p != nullptr && static_cast<u128>(reinterpret_cast<std::uintptr_t>(p)) + bytes > static_cast<u128>(size_max);
}

// ---------------------------------------------------------------- the rule
// What the contract says of a call: valid (must return and match the
// reference), invalid (must throw fp8::invalid_argument naming one of
// `names` and write nothing), or either (the contract leaves it open: a throw
// must still write nothing; a return is checked unless unchecked is set).
// Tags name the argument classes involved (the rule that makes a call
// invalid, or a risky class of valid calls): FP8_FUZZ_SKIP=tag,tag,... in
// the environment leaves calls with those tags out, so a run can look past
// known bugs that are not fixed yet.
struct expectation {
  enum kind { valid, invalid, either } v = valid;
  std::vector<std::string> names;  // the arguments an error may name
  std::vector<std::string> tags;
  bool unchecked = false;          // either: do not compare a returned result
  std::string why;                 // what makes it invalid, for messages

  void reject(const char* tag, std::initializer_list<const char*> args, const std::string& reason) {
    v = invalid;
    for (const char* a : args) names.emplace_back(a);
    tags.emplace_back(tag);
    note(reason);
  }
  void open(const char* tag, const std::string& reason, bool no_result_check = false) {
    if (v == valid) v = either;
    unchecked = unchecked || no_result_check;
    tags.emplace_back(tag);
    note("(open) " + reason);
  }
  void tag(const char* t) { tags.emplace_back(t); }
  bool has(std::initializer_list<const char*> any) const {
    for (const char* t : any)
      if (std::find(tags.begin(), tags.end(), t) != tags.end()) return true;
    return false;
  }
  void note(const std::string& reason) {
    if (!why.empty()) why += "; ";
    why += reason;
  }
};

inline bool skipped_tag(const std::vector<std::string>& tags) {
  static const std::vector<std::string> skip = [] {
    std::vector<std::string> v;
    const char* env = std::getenv("FP8_FUZZ_SKIP");
    std::string s = env != nullptr ? env : "";
    for (std::size_t a = 0; a < s.size();) {
      std::size_t b = s.find(',', a);
      if (b == std::string::npos) b = s.size();
      if (b > a) v.push_back(s.substr(a, b - a));
      a = b + 1;
    }
    return v;
  }();
  for (const auto& t : tags)
    if (std::find(skip.begin(), skip.end(), t) != skip.end()) return true;
  return false;
}

// Whether to print every decoded call before making it: on when the harness
// runs individual files (reproducing a crash, whose sanitizer report would
// otherwise come without the arguments), or with FP8_FUZZ_VERBOSE=1.
inline bool& verbose() {
  static bool v = std::getenv("FP8_FUZZ_VERBOSE") != nullptr && std::getenv("FP8_FUZZ_VERBOSE")[0] == '1';
  return v;
}

// Seed mode records the verdict instead of running the call.
struct dry_run_state {
  bool active = false;
  int verdict = -1;  // expectation::kind, 3 = skipped
};
inline dry_run_state& dry_run() {
  static dry_run_state s;
  return s;
}
// A call too large to run with the buffers a fuzz input can have.
inline void skip() { dry_run().verdict = 3; }

// Runs call() and judges the outcome; check() compares a returned result
// with the reference (outputs marked may_change in the pool). Not a
// template: one copy per harness keeps the build short.
inline void execute(const expectation& e, pool& p, const std::function<void()>& call,
                    const std::function<void()>& check) {
  if (dry_run().active) {
    dry_run().verdict = e.v;
    return;
  }
  if (skipped_tag(e.tags)) return;
  std::string tags;
  for (const auto& t : e.tags) tags += " " + t;
  if (!tags.empty()) context() += "tags:" + tags + "\n";
  context() += "expected: " + std::string(e.v == expectation::valid ? "valid" : e.v == expectation::invalid ? "invalid" : "either") +
               (e.why.empty() ? "" : " (" + e.why + ")") + "\n";
  if (verbose()) {
    std::fprintf(stderr, "---- decoded call ----\n%s", context().c_str());
    std::fflush(stderr);
  }
  p.snapshot();
  try {
    call();
  } catch (const fp8::invalid_argument& x) {
    if (e.v == expectation::valid) fail(std::string("a valid call threw fp8::invalid_argument: ") + x.what());
    if (e.v == expectation::invalid && !e.names.empty() &&
        std::find(e.names.begin(), e.names.end(), x.argument()) == e.names.end()) {
      std::string list;
      for (const auto& n : e.names) list += " '" + n + "'";
      fail(std::string("the error names '") + x.argument() + "', expected one of" + list + ": " + x.what());
    }
    const std::string c = p.changed(true);
    if (!c.empty()) fail(std::string("threw (") + x.what() + ") but wrote: " + c);
    return;
  } catch (const std::exception& x) {
    fail(std::string("an exception other than fp8::invalid_argument: ") + x.what());
  } catch (...) {
    fail("an exception of unknown type");
  }
  if (e.v == expectation::invalid) {
    std::string list;
    for (const auto& n : e.names) list += " '" + n + "'";
    fail("an invalid call returned without throwing (expected an error naming " +
         (list.empty() ? std::string("any argument") : "one of" + list) + ")");
  }
  if (e.unchecked) return;
  const std::string c = p.changed(false);
  if (!c.empty()) fail("wrote outside its outputs: " + c);
  check();
}

// ---------------------------------------------------------------- allocations
// The largest single allocation since reset, from the sanitizer's malloc
// hook (all threads): conv2d must not allocate in proportion to its padding.
inline std::atomic<std::size_t>& largest_allocation() {
  static std::atomic<std::size_t> v{0};
  return v;
}
inline void on_malloc(const volatile void*, std::size_t size) {
  auto& m = largest_allocation();
  std::size_t cur = m.load(std::memory_order_relaxed);
  while (size > cur && !m.compare_exchange_weak(cur, size, std::memory_order_relaxed)) {
  }
}
inline void on_free(const volatile void*) {}
inline void install_allocation_hook() {
  static const bool once = (__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free), true);
  (void)once;
}

// ---------------------------------------------------------------- seeds
// `<harness> --write-seeds=DIR` writes each named seed (the header fields
// through the harness's visit(), then tail bytes) after checking, by a dry
// run, that it decodes to the verdict it was written for; then exits.
template <class Raw>
struct seed {
  std::string name;
  Raw raw;
  int verdict;  // expectation::kind
  std::vector<u8> tail = {};
};

// Also turns verbose() on when an argument is a file (not a corpus directory).
template <class Raw, class Visit, class Run>
void write_seeds_if_asked(int* argc, char*** argv, const std::vector<seed<Raw>>& seeds, Visit&& visit, Run&& run) {
  const std::string flag = "--write-seeds=";
  for (int i = 1; i < *argc; ++i) {
    const std::string arg = (*argv)[i];
    struct stat st;
    if (arg[0] != '-' && ::stat(arg.c_str(), &st) == 0 && S_ISREG(st.st_mode)) verbose() = true;
    if (arg.compare(0, flag.size(), flag) != 0) continue;
    const std::string dir = arg.substr(flag.size());
    int bad = 0;
    for (const auto& s : seeds) {
      writer w;
      Raw r = s.raw;
      visit(w, r);
      w.bytes.insert(w.bytes.end(), s.tail.begin(), s.tail.end());
      dry_run() = {true, -1};
      context().clear();
      run(w.bytes.data(), w.bytes.size());
      if (dry_run().verdict != s.verdict) {
        std::fprintf(stderr, "seed %s decodes to verdict %d, written for %d\n%s\n", s.name.c_str(),
                     dry_run().verdict, s.verdict, context().c_str());
        ++bad;
      }
      const std::string path = dir + "/" + s.name;
      std::FILE* f = std::fopen(path.c_str(), "wb");
      if (f == nullptr || std::fwrite(w.bytes.data(), 1, w.bytes.size(), f) != w.bytes.size()) {
        std::fprintf(stderr, "cannot write %s\n", path.c_str());
        std::exit(2);
      }
      std::fclose(f);
    }
    std::printf("%zu seeds written to %s, %d with the wrong verdict\n", seeds.size(), dir.c_str(), bad);
    std::exit(bad == 0 ? 0 : 1);
  }
}

// The two libFuzzer entry points of a harness whose file defines seeds(),
// visit(writer&, raw&) and run_input(data, size): the seed writer
// (--write-seeds) after `setup`, then one call per input.
#define FZ_ENTRY_POINTS(setup)                                                                  \
  extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {                                \
    setup;                                                                                      \
    write_seeds_if_asked(argc, argv, seeds(), [](writer& w, raw& r) { visit(w, r); }, run_input); \
    return 0;                                                                                   \
  }                                                                                             \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {           \
    run_input(data, size);                                                                      \
    return 0;                                                                                   \
  }

}  // namespace fz
