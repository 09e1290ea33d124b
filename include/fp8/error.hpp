// SPDX-License-Identifier: Apache-2.0
// How every bulk function and kernel reports bad input: before touching any
// buffer, it throws fp8::invalid_argument, which derives from
// std::invalid_argument and names the offending argument. Built without
// exceptions (-fno-exceptions), the same check prints the message to stderr
// and calls std::abort(): bad input never proceeds into undefined behaviour.
#pragma once

#include <stdexcept>
#include <string>

#if !defined(__cpp_exceptions) && !defined(__EXCEPTIONS) && !defined(_CPPUNWIND)
#include <cstdio>
#include <cstdlib>
#define FP8_NO_EXCEPTIONS 1
#endif

#include "config.hpp"

FP8_BEGIN_NAMESPACE

class invalid_argument : public std::invalid_argument {
 public:
  invalid_argument(const char* function, const char* argument, const std::string& why)
      : std::invalid_argument(std::string(function) + ": argument '" + argument + "' " + why), argument_(argument) {}
  // The parameter's name as the function declares it, e.g. "lda".
  const char* argument() const noexcept { return argument_; }

 private:
  const char* argument_;
};

namespace detail {
[[noreturn]] inline void fail_argument(const char* function, const char* argument, const std::string& why) {
#if defined(FP8_NO_EXCEPTIONS)
  std::fprintf(stderr, "%s: argument '%s' %s\n", function, argument, why.c_str());
  std::abort();
#else
  throw ::fp8::invalid_argument(function, argument, why);
#endif
}
}  // namespace detail

FP8_END_NAMESPACE

// FP8_REQUIRE_ARG(cond, "function", "argument", "must ...") fails with that
// message unless cond holds.
#define FP8_REQUIRE_ARG(cond, function, argument, why)                  \
  do {                                                                  \
    if (!(cond)) ::fp8::detail::fail_argument(function, argument, why); \
  } while (0)
