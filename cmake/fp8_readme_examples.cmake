# SPDX-License-Identifier: Apache-2.0
# The README's examples, extracted at configure time so that they are compiled
# and run as tests and cannot go stale. README.md is their only source.
#
# A fenced ```cpp block whose first line is
#
#   // example: <name>
#
# is a complete program (it has main()). <name> is letters, digits and
# underscores, unique in the README. Every other ```cpp block is a fragment and
# is left alone. A block may be indented (inside a list item): the fence's
# indentation is removed from every line.
#
# fp8_readme_examples(<readme> <out_dir> <names_var>) writes each example to
# <out_dir>/<name>.cpp, preceded by a #line directive so that a compiler's
# messages point at README.md's lines, rewrites a file only when its text
# changed (an unchanged README rebuilds nothing), removes the files of
# examples that are gone, and sets <names_var> to the names in README order.
# Editing the README re-runs the configure step. Configure stops with a
# message naming the lines for two blocks of one name, a malformed marker, an
# example without main() or without an fp8 include, or a README without any
# example (the extraction would have broken).

function(fp8_readme_examples readme out_dir names_var)
  file(READ "${readme}" rest)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${readme}")
  set(names)
  set(line 1)  # README line of the first character of `rest`
  while(TRUE)
    string(FIND "${rest}" "```cpp\n" open)
    if(open EQUAL -1)
      break()
    endif()
    string(SUBSTRING "${rest}" 0 ${open} before)
    string(REGEX MATCHALL "\n" newlines "${before}")
    list(LENGTH newlines count)
    math(EXPR fence_line "${line} + ${count}")
    math(EXPR body_start "${open} + 7")
    string(SUBSTRING "${rest}" ${body_start} -1 after)
    # A fence starts its line, after spaces only; anything else is text that
    # mentions ```cpp: step past it.
    string(FIND "${before}" "\n" last_newline REVERSE)
    math(EXPR indent_start "${last_newline} + 1")
    string(SUBSTRING "${before}" ${indent_start} -1 indent)
    if(NOT indent MATCHES "^ *$")
      string(REGEX MATCHALL "\n" newlines "${before}```cpp\n")
      list(LENGTH newlines count)
      math(EXPR line "${line} + ${count}")
      set(rest "${after}")
      continue()
    endif()
    # The closing fence: the first line that is the indentation and ```.
    string(FIND "\n${after}" "\n${indent}```" close)
    if(close EQUAL -1)
      message(FATAL_ERROR "${readme}:${fence_line}: the ```cpp block is never closed")
    endif()
    if(close EQUAL 0)
      set(body "")
    else()
      math(EXPR body_length "${close} - 1")
      string(SUBSTRING "${after}" 0 ${body_length} body)
    endif()
    string(LENGTH "${indent}```" fence_length)
    math(EXPR consumed "${close} + ${fence_length}")
    string(SUBSTRING "${after}" ${consumed} -1 next)
    string(SUBSTRING "${after}" 0 ${consumed} block)
    string(REGEX MATCHALL "\n" newlines "${before}```cpp\n${block}")
    list(LENGTH newlines count)
    math(EXPR line "${line} + ${count}")
    set(rest "${next}")

    if(NOT indent STREQUAL "")
      string(REPLACE "\n${indent}" "\n" body "\n${body}")
      string(SUBSTRING "${body}" 1 -1 body)
    endif()
    if(NOT body MATCHES "^// example:")
      continue()  # a fragment
    endif()
    math(EXPR first_line "${fence_line} + 1")
    if(NOT body MATCHES "^// example: ([A-Za-z0-9_]+) *(\n|$)")
      message(FATAL_ERROR "${readme}:${first_line}: an example's first line is `// example: <name>`, "
                          "the name made of letters, digits and underscores")
    endif()
    set(name "${CMAKE_MATCH_1}")
    if(DEFINED _fp8_readme_line_${name})
      message(FATAL_ERROR "${readme}:${first_line}: example `${name}` is defined twice (first at line "
                          "${_fp8_readme_line_${name}}); give each example its own name")
    endif()
    set(_fp8_readme_line_${name} ${first_line})
    if(NOT body MATCHES "(^|\n)int main\\(")
      message(FATAL_ERROR "${readme}:${first_line}: example `${name}` has no `int main(`: an example is a "
                          "complete program (drop the `// example:` line to make it a fragment)")
    endif()
    if(NOT body MATCHES "(^|\n)#include <fp8/")
      message(FATAL_ERROR "${readme}:${first_line}: example `${name}` includes no fp8 header (its test "
                          "would not notice: the headers are precompiled for it)")
    endif()
    list(APPEND names ${name})

    set(text "#line ${first_line} \"${readme}\"\n${body}\n")
    set(file "${out_dir}/${name}.cpp")
    set(old "")
    if(EXISTS "${file}")
      file(READ "${file}" old)
    endif()
    if(NOT old STREQUAL text)
      file(WRITE "${file}" "${text}")
    endif()
  endwhile()
  if(NOT names)
    message(FATAL_ERROR "${readme}: no ```cpp block starting with `// example: <name>`")
  endif()

  file(GLOB stale "${out_dir}/*.cpp")
  foreach(file IN LISTS stale)
    get_filename_component(name "${file}" NAME_WE)
    if(NOT name IN_LIST names)
      file(REMOVE "${file}")
    endif()
  endforeach()
  set(${names_var} ${names} PARENT_SCOPE)
endfunction()
