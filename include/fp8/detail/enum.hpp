// SPDX-License-Identifier: Apache-2.0
// The range of each public enumeration, declared next to the enumeration
// itself: enum_info<E> holds its last enumerator and its spelled name. Every
// public enum is contiguous from 0, so a value is an enumerator exactly when
// its underlying integer lies in [0, last]; detail/arguments.hpp turns that
// into the check every entry point applies to its enum arguments (a value
// made by static_cast from an integer is rejected with a clear error, never
// treated as some enumerator). Standard library only: the scalar layer and
// CUDA code include it.
#pragma once

#include <type_traits>

#include "../config.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

// Specialized beside each public enum: static constexpr E last; and
// static constexpr const char* name (as users spell it, e.g. "fp8::overflow").
template <class E>
struct enum_info;

template <class E>
FP8_HOST_DEVICE constexpr bool is_enumerator(E e) noexcept {
  using U = typename std::underlying_type<E>::type;
  return static_cast<U>(e) >= 0 && static_cast<U>(e) <= static_cast<U>(enum_info<E>::last);
}

}  // namespace detail
FP8_END_NAMESPACE

// FP8_ENUM_RANGE(E, LAST) declares enum_info<E> with LAST its last
// enumerator and name "fp8::E"; written right after E's definition, at
// namespace scope inside FP8_BEGIN_NAMESPACE.
#define FP8_ENUM_RANGE(E, LAST)                    \
  namespace detail {                               \
  template <>                                      \
  struct enum_info<E> {                            \
    static constexpr E last = E::LAST;             \
    static constexpr const char* name = "fp8::" #E; \
  };                                               \
  }
