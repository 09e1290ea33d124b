# SPDX-License-Identifier: Apache-2.0
# A unit built without instruction-set flags and with static dispatch must
# hold no AVX instruction (no ymm or zmm register): static dispatch is
# exactly what the flags allow. Run with -DCXX= -DOBJDUMP= -DINCLUDE= -DSOURCE= -DOUTPUT=.
execute_process(COMMAND ${CXX} -std=c++17 -O2 -DFP8_DISPATCH=FP8_DISPATCH_STATIC -DTU_NAME=baseline
                        -I${INCLUDE} -c ${SOURCE} -o ${OUTPUT}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "compiling ${SOURCE} failed")
endif()
execute_process(COMMAND ${OBJDUMP} -d --no-show-raw-insn ${OUTPUT} OUTPUT_VARIABLE asm RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "objdump failed")
endif()
string(REGEX MATCHALL "[^\n]*%[yz]mm[0-9]+[^\n]*" wide "${asm}")
list(LENGTH wide count)
if(count GREATER 0)
  list(GET wide 0 first)
  message(FATAL_ERROR "${count} instructions use ymm/zmm registers, e.g.: ${first}")
endif()
string(REGEX MATCHALL "\n[ ]+[0-9a-f]+:" insns "${asm}")
list(LENGTH insns total)
message(STATUS "no AVX instruction among ${total}")
