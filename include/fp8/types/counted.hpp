// SPDX-License-Identifier: Apache-2.0
// fp8::counted<T>: a pointer that may know how many elements it points at.
// Every scale, bias and zero-point array the library reads (gemm_options'
// scale and bias fields, conv2d's weight_scales and bias, the per-channel
// codec's and the integer layer's scale and zero-point arrays) is one, so a
// caller passes
//   - a pointer, as before: the count is unknown, and the caller vouches
//     that the array holds what the call reads;
//   - a pointer and its count: fp8::counted<const float>(p, n);
//   - a container with data() and size() (std::vector, std::array, a span
//     type), as an lvalue: its count comes with it.
// A call given a known count checks it first: an array shorter than the call
// reads is an fp8::invalid_argument naming the argument ("argument
// 'options.col_scale' holds 3 elements, the call reads n = 8"), thrown before
// any buffer is read or written. A longer array is fine (the call reads its
// prefix). A temporary container does not convert (the pointer would
// dangle), and a C array converts as a pointer, without its count: write
// counted<const float>(a, std::size(a)).
//
// counted<T> converts back to T* implicitly, so code that held the pointer
// (`o.bias = p; if (o.bias) ...; o.bias[i]`) compiles and reads as before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "../config.hpp"

FP8_BEGIN_NAMESPACE

namespace detail {
// C has data() convertible to T* and size() convertible to std::size_t.
template <class C, class T, class = void>
struct is_contiguous_of : std::false_type {};
template <class C, class T>
struct is_contiguous_of<C, T,
                        std::enable_if_t<std::is_convertible<decltype(std::declval<C&>().data()), T*>::value &&
                                         std::is_convertible<decltype(std::declval<C&>().size()), std::size_t>::value>>
    : std::true_type {};
}  // namespace detail

template <class T>
class counted {
 public:
  // size() of a counted built from a bare pointer.
  static constexpr std::size_t unknown = SIZE_MAX;

  constexpr counted() noexcept = default;
  constexpr counted(std::nullptr_t) noexcept {}
  constexpr counted(T* p) noexcept : p_(p) {}
  constexpr counted(T* p, std::size_t n) noexcept : p_(p), n_(n) {}
  template <class C, std::enable_if_t<std::is_lvalue_reference<C>::value &&
                                          detail::is_contiguous_of<std::remove_reference_t<C>, T>::value,
                                      int> = 0>
  constexpr counted(C&& c) noexcept(noexcept(c.data()) && noexcept(c.size()))
      : p_(c.data()), n_(static_cast<std::size_t>(c.size())) {}
  template <class C, std::enable_if_t<!std::is_lvalue_reference<C>::value &&
                                          detail::is_contiguous_of<std::remove_reference_t<C>, T>::value,
                                      int> = 0>
  counted(C&&) = delete;  // a temporary container: the pointer would dangle
  // counted<float> -> counted<const float>.
  template <class U, std::enable_if_t<!std::is_same<U, T>::value && std::is_convertible<U*, T*>::value, int> = 0>
  constexpr counted(const counted<U>& o) noexcept : p_(o.data()), n_(o.size()) {}

  constexpr T* data() const noexcept { return p_; }
  // The element count, or `unknown`.
  constexpr std::size_t size() const noexcept { return n_; }
  constexpr bool known() const noexcept { return n_ != unknown; }
  constexpr operator T*() const noexcept { return p_; }

 private:
  T* p_ = nullptr;
  std::size_t n_ = unknown;
};

FP8_END_NAMESPACE
