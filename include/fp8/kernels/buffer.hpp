// SPDX-License-Identifier: Apache-2.0
// A 64-byte-aligned, uninitialized scratch array for packed panels. Packing
// writes every element before a micro-kernel reads it, so the zeroing that
// std::vector (or bfloat16's default constructor) would do is wasted work on
// megabytes per call. The element types are trivially copyable with a
// trivial copy constructor (implicit-lifetime types, P0593), so the storage
// is used as an array of them directly.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>

#include "../config.hpp"

FP8_BEGIN_NAMESPACE
namespace kernel {

template <class T>
class aligned_buffer {
  static_assert(std::is_trivially_copyable<T>::value && std::is_trivially_destructible<T>::value,
                "packed elements are plain bytes");
  static constexpr std::size_t alignment = 64;  // a cache line, and a zmm

 public:
  aligned_buffer() noexcept = default;
  explicit aligned_buffer(std::size_t n)
      : data_(n == 0 ? nullptr : static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{alignment}))), size_(n) {}
  aligned_buffer(const aligned_buffer&) = delete;
  aligned_buffer& operator=(const aligned_buffer&) = delete;
  aligned_buffer(aligned_buffer&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  aligned_buffer& operator=(aligned_buffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = o.data_;
      size_ = o.size_;
      o.data_ = nullptr;
      o.size_ = 0;
    }
    return *this;
  }
  ~aligned_buffer() { release(); }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  void release() noexcept {
    if (data_ != nullptr) ::operator delete(data_, std::align_val_t{alignment});
    data_ = nullptr;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace kernel
FP8_END_NAMESPACE
