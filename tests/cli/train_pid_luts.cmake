# `hgqc train --beta-schedule pid --target-luts`: the controller steers the estimated LUTs of the
# evaluated checkpoints. From the same seed, a target below the model's LUTs must raise beta and
# end with fewer LUTs than a target far above them, which must lower beta.
#   cmake -DHGQC=... -DMODEL=... -DDATA=... -DOUT=dir -P train_pid_luts.cmake
file(REMOVE_RECURSE ${OUT}_low ${OUT}_high)
foreach(side low high)
  if(side STREQUAL "low")
    set(target 1500)
  else()
    set(target 100000)
  endif()
  execute_process(COMMAND ${HGQC} -q train ${MODEL} --data ${DATA} --epochs 20 --batch 32
                          --beta-schedule pid --beta0 1e-4 --target-luts ${target} --seed 1
                          --threads 1 -o ${OUT}_${side}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "target ${target}: exit ${rc}\n${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "training with --target-luts ${target} failed")
  endif()
  # history.csv: beta is column 7, luts_estimate column 13 (every epoch is evaluated).
  file(STRINGS ${OUT}_${side}/history.csv rows)
  list(GET rows 0 head)
  if(NOT head MATCHES ",luts_estimate")
    message(FATAL_ERROR "history.csv has no luts_estimate column: ${head}")
  endif()
  list(GET rows 1 first)
  list(GET rows -1 last)
  foreach(which first last)
    string(REPLACE "," ";" f "${${which}}")
    list(GET f 6 ${side}_beta_${which})
    list(GET f 12 ${side}_luts_${which})
  endforeach()
  message(STATUS "${side}: beta ${${side}_beta_first} -> ${${side}_beta_last}, LUTs "
                 "${${side}_luts_first} -> ${${side}_luts_last}")
endforeach()
if(NOT low_beta_last GREATER low_beta_first)
  message(FATAL_ERROR "target below the LUTs: beta did not rise")
endif()
if(NOT high_beta_last LESS high_beta_first)
  message(FATAL_ERROR "target above the LUTs: beta did not fall")
endif()
if(NOT low_luts_last LESS high_luts_last OR NOT low_luts_last LESS low_luts_first)
  message(FATAL_ERROR "the low target did not end with fewer LUTs than it started with and "
                      "than the high target")
endif()
