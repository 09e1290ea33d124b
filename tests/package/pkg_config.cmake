# SPDX-License-Identifier: Apache-2.0
# Builds SOURCE with a plain compiler call and the flags that
# `pkg-config --cflags fp8` gives for the fp8.pc in PKG_CONFIG_DIR, then runs it.
cmake_minimum_required(VERSION 3.19)
set(ENV{PKG_CONFIG_PATH} ${PKG_CONFIG_DIR})
execute_process(COMMAND ${PKG_CONFIG} --modversion fp8 OUTPUT_VARIABLE version
                OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${PKG_CONFIG} --cflags fp8 OUTPUT_VARIABLE cflags
                OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
message(STATUS "pkg-config: fp8 ${version}, cflags: ${cflags}")
string(FIND "${cflags}" "-I${PKG_CONFIG_DIR}" at)
if(NOT version STREQUAL VERSION OR at EQUAL -1)
  message(FATAL_ERROR "expected fp8 ${VERSION} with headers from ${PKG_CONFIG_DIR}/../..")
endif()
separate_arguments(cflags UNIX_COMMAND "${cflags}")
execute_process(COMMAND ${CXX} -std=c++17 ${cflags} ${SOURCE} -o ${OUTPUT} COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${OUTPUT} COMMAND_ERROR_IS_FATAL ANY)
