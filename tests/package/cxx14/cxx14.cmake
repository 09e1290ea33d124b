# SPDX-License-Identifier: Apache-2.0
# Compiles SOURCE (which includes only <fp8/fp8.hpp>) as C++14 with CXX:
# the compile must fail with config.hpp's message and no other error.
cmake_minimum_required(VERSION 3.19)
execute_process(COMMAND ${CXX} -std=c++14 -fsyntax-only -I${INCLUDE} ${SOURCE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(REGEX MATCHALL "error:" errors "${out}")  # one per diagnostic
list(LENGTH errors count)
string(FIND "${out}" "fp8 needs C++17 or later" at)
if(rc EQUAL 0 OR at EQUAL -1 OR NOT count EQUAL 1)
  message(FATAL_ERROR "expected one clear error below C++17 (exit ${rc}, ${count} errors):\n${out}")
endif()
message(STATUS "C++14: ${out}")
