# SPDX-License-Identifier: Apache-2.0
# One ctest run of a libFuzzer harness (cmake -P), never writing the source
# tree:
#   MODE=seeds    run every committed seed once (-runs=0 over a scratch copy)
#   MODE=fuzz     fuzz from a scratch copy of the seeds, ARGS give the time
#   MODE=compare  regenerate the seeds into scratch and compare with the
#                 committed ones
# -DHARNESS=<executable> -DCORPUS=<committed seeds> -DSCRATCH=<dir>
# -DARTIFACTS=<dir for crash inputs> -DARGS=<libFuzzer flags, '|'-separated>
string(REPLACE "|" ";" _args "${ARGS}")
list(FILTER _args EXCLUDE REGEX "^$")
file(REMOVE_RECURSE ${SCRATCH})
file(MAKE_DIRECTORY ${SCRATCH} ${ARTIFACTS})

if(MODE STREQUAL "compare")
  execute_process(COMMAND ${HARNESS} --write-seeds=${SCRATCH} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${HARNESS} --write-seeds failed (${rc})")
  endif()
  file(GLOB _new RELATIVE ${SCRATCH} ${SCRATCH}/*)
  file(GLOB _old RELATIVE ${CORPUS} ${CORPUS}/*)
  list(SORT _new)
  list(SORT _old)
  if(NOT _new STREQUAL _old)
    message(FATAL_ERROR "the committed seeds in ${CORPUS} differ from the generator's file list; "
                        "regenerate them: cmake --build <build dir> --target fuzz_seeds")
  endif()
  foreach(f IN LISTS _new)
    file(SHA256 ${SCRATCH}/${f} _a)  # in this process: a compare_files per seed would spawn hundreds
    file(SHA256 ${CORPUS}/${f} _b)
    if(NOT _a STREQUAL _b)
      message(FATAL_ERROR "seed ${f} differs from the generator's; regenerate: cmake --build <build dir> --target fuzz_seeds")
    endif()
  endforeach()
  return()
endif()

file(MAKE_DIRECTORY ${SCRATCH}/corpus)
file(GLOB _seeds ${CORPUS}/*)
file(COPY ${_seeds} DESTINATION ${SCRATCH}/corpus)
if(MODE STREQUAL "seeds")
  list(APPEND _args -runs=0)
endif()
execute_process(COMMAND ${HARNESS} ${_args} -artifact_prefix=${ARTIFACTS}/ ${SCRATCH}/corpus
                WORKING_DIRECTORY ${SCRATCH} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${HARNESS} exited with ${rc}: a finding (report above; its input is in ${ARTIFACTS})")
endif()
