# SPDX-License-Identifier: Apache-2.0
# Installs the build tree BUILD_DIR into a fresh PREFIX (nothing stale left
# from an earlier run can satisfy the consumers).
cmake_minimum_required(VERSION 3.19)
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX} COMMAND_ERROR_IS_FATAL ANY)
