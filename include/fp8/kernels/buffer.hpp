// SPDX-License-Identifier: Apache-2.0
// A 64-byte-aligned, uninitialized scratch array for packed panels. Packing
// writes every element before a micro-kernel reads it, so the zeroing that
// std::vector (or bfloat16's default constructor) would do is wasted work on
// megabytes per call. The element types are trivially copyable with a
// trivial copy constructor (implicit-lifetime types, P0593), so the storage
// is used as an array of them directly.
//
// Scratch is reused across calls: a released array goes to a small cache of
// the thread that releases it (at most scratch_cache::max_blocks arrays of
// at most scratch_cache::max_bytes each, freed when the thread exits or by
// fp8::release_scratch()), and the next array that fits is taken from
// there. A call then costs no allocation once a thread has made one like
// it: large allocations come from mmap, whose pages the system zeroes on
// first touch, every call.
//
// Arrays of 2 MiB or more (packed weights, the larger scratch) start on a
// 2 MiB boundary and, on Linux, are advised as transparent-huge-page
// candidates (madvise MADV_HUGEPAGE, which matters where the system's THP
// mode is `madvise`, the default of several distributions): their first
// touch then costs one fault per 2 MiB instead of one per 4 KiB (making a
// packed_b of a 4096 x 4096 weight took about 100 ms on the development VM,
// nearly all of it page faults, and about 5 ms on huge pages), and reading
// them needs fewer TLB entries. Compile with FP8_HUGE_PAGES=0 to allocate them like
// any other array.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "../config.hpp"

#ifndef FP8_HUGE_PAGES
#define FP8_HUGE_PAGES 1
#endif
#if FP8_HUGE_PAGES && defined(__linux__)
#include <sys/mman.h>
#endif

FP8_BEGIN_NAMESPACE
namespace detail {

// The one place arrays are allocated and freed: 64-byte aligned, or for
// 2 MiB and more aligned to 2 MiB and advised for huge pages (above). The
// alignment follows from the size, so free_array needs only the size.
inline constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;
constexpr std::size_t array_alignment(std::size_t bytes) noexcept {
  return FP8_HUGE_PAGES && bytes >= huge_page_bytes ? huge_page_bytes : 64;
}
inline void* allocate_array(std::size_t bytes) {
  void* p = ::operator new (bytes, std::align_val_t{array_alignment(bytes)});
#if FP8_HUGE_PAGES && defined(__linux__) && defined(MADV_HUGEPAGE)
  // Advice only: where the system refuses it, the array simply stays on small pages.
  if (bytes >= huge_page_bytes) (void)::madvise(p, bytes / huge_page_bytes * huge_page_bytes, MADV_HUGEPAGE);
#endif
  return p;
}
inline void free_array(void* p, std::size_t bytes) noexcept {
  ::operator delete (p, std::align_val_t{array_alignment(bytes)});
}

// The released scratch arrays of one thread (process-wide code on purpose:
// it holds no vector code, and one cache per thread whatever the flags of
// the unit that allocates).
class scratch_cache {
 public:
  static constexpr std::size_t max_blocks = 4;
  static constexpr std::size_t max_bytes = std::size_t{8} << 20;  // the GEMM's largest scratch: 8 MiB

  scratch_cache() = default;
  scratch_cache(const scratch_cache&) = delete;
  scratch_cache& operator=(const scratch_cache&) = delete;
  ~scratch_cache() { clear(); }

  // An array of at least `bytes` bytes (its size in `got`): the smallest
  // cached one that fits and is at most twice as large (so that a
  // long-lived array, packed weights, never holds a large scratch array for
  // a small need), or a new one.
  void* take(std::size_t bytes, std::size_t& got) {
    std::size_t best = count_;
    for (std::size_t i = 0; i < count_; ++i)
      if (blocks_[i].bytes >= bytes && blocks_[i].bytes / 2 <= bytes &&
          (best == count_ || blocks_[i].bytes < blocks_[best].bytes))
        best = i;
    if (best != count_) {
      void* p = blocks_[best].p;
      got = blocks_[best].bytes;
      blocks_[best] = blocks_[--count_];
      return p;
    }
    got = bytes;
    return allocate_array(bytes);
  }
  // Keeps a released array for later, or frees it: too large, or the cache
  // is full and it is no larger than the smallest one kept.
  void give(void* p, std::size_t bytes) noexcept {
    if (bytes <= max_bytes) {
      if (count_ < max_blocks) {
        blocks_[count_++] = {p, bytes};
        return;
      }
      // Full: keep the larger of p and the smallest kept (the larger costs more to make).
      block* smallest = &blocks_[0];
      for (std::size_t i = 1; i < count_; ++i)
        if (blocks_[i].bytes < smallest->bytes) smallest = &blocks_[i];
      if (smallest->bytes < bytes) {
        std::swap(p, smallest->p);
        std::swap(bytes, smallest->bytes);
      }
    }
    free_array(p, bytes);
  }
  void clear() noexcept {
    for (std::size_t i = 0; i < count_; ++i) free_array(blocks_[i].p, blocks_[i].bytes);
    count_ = 0;
  }
  std::size_t cached_bytes() const noexcept {
    std::size_t total = 0;
    for (std::size_t i = 0; i < count_; ++i) total += blocks_[i].bytes;
    return total;
  }

 private:
  struct block {
    void* p;
    std::size_t bytes;
  };
  block blocks_[max_blocks] = {};
  std::size_t count_ = 0;
};

// The calling thread's cache, or null once the thread is ending and the
// cache is gone (an array released by a static object's destructor after
// the thread's own thread_local objects: it is then simply freed).
inline scratch_cache* thread_scratch() noexcept {
  static thread_local bool gone = false;  // trivially destructible: readable until the thread ends
  struct holder {
    scratch_cache cache;
    ~holder() { gone = true; }
  };
  if (gone) return nullptr;
  static thread_local holder h;
  return &h.cache;
}

// An array of at least `bytes` bytes (its size in `got`), and its release.
inline void* take_scratch(std::size_t bytes, std::size_t& got) {
  if (scratch_cache* c = thread_scratch()) return c->take(bytes, got);
  got = bytes;
  return allocate_array(bytes);
}
inline void give_scratch(void* p, std::size_t bytes) noexcept {
  if (scratch_cache* c = thread_scratch())
    c->give(p, bytes);
  else
    free_array(p, bytes);
}

}  // namespace detail

namespace kernel {

template <class T>
class aligned_buffer {
  static_assert(std::is_trivially_copyable<T>::value && std::is_trivially_destructible<T>::value,
                "packed elements are plain bytes");

 public:
  aligned_buffer() noexcept = default;
  explicit aligned_buffer(std::size_t n) : size_(n) {
    if (n != 0) data_ = static_cast<T*>(::fp8::detail::take_scratch(n * sizeof(T), bytes_));
  }
  aligned_buffer(const aligned_buffer&) = delete;
  aligned_buffer& operator=(const aligned_buffer&) = delete;
  aligned_buffer(aligned_buffer&& o) noexcept : data_(o.data_), size_(o.size_), bytes_(o.bytes_) {
    o.data_ = nullptr;
    o.size_ = o.bytes_ = 0;
  }
  aligned_buffer& operator=(aligned_buffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = o.data_;
      size_ = o.size_;
      bytes_ = o.bytes_;
      o.data_ = nullptr;
      o.size_ = o.bytes_ = 0;
    }
    return *this;
  }
  ~aligned_buffer() { release(); }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  void release() noexcept {
    if (data_ != nullptr) ::fp8::detail::give_scratch(data_, bytes_);
    data_ = nullptr;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t bytes_ = 0;  // the array's bytes (a reused one may be larger than size_ elements)
};

}  // namespace kernel

// Frees the scratch arrays the calling thread keeps for reuse
// (kernels/buffer.hpp); the next kernel call on it allocates again.
inline void release_scratch() noexcept {
  if (detail::scratch_cache* c = detail::thread_scratch()) c->clear();
}

FP8_END_NAMESPACE
