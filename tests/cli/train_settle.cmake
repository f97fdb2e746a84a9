# `hgqc train --settle-epochs N`: the last N epochs run at lr x 3e-5 (kSettleLrFactor), the
# cosine decay ending before them. history.csv logs each epoch's learning rate (column 8, that of
# the epoch's last step): the settling epochs must show lr x 3e-5, the epochs before it more.
#   cmake -DHGQC=... -DMODEL=... -DDATA=... -DOUT=dir -P train_settle.cmake
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${HGQC} -q train ${MODEL} --data ${DATA} --epochs 6 --settle-epochs 2
                        --lr 1e-2 --batch 32 --seed 1 --threads 1 -o ${OUT}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "exit ${rc}\n${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "training with --settle-epochs 2 failed")
endif()
file(STRINGS ${OUT}/history.csv rows)
list(GET rows 0 head)
string(REPLACE "," ";" cols "${head}")
list(GET cols 7 name)
if(NOT name STREQUAL "lr")
  message(FATAL_ERROR "history.csv column 8 is '${name}', not lr")
endif()
set(lrs)
foreach(e 1 2 3 4 5 6)
  list(GET rows ${e} row)
  string(REPLACE "," ";" f "${row}")
  list(GET f 7 lr)
  list(APPEND lrs ${lr})
endforeach()
message(STATUS "lr by epoch: ${lrs}")
list(GET lrs 3 decay_last)
list(GET lrs 4 settle_first)
list(GET lrs 5 settle_last)
# 1e-2 x 3e-5 = 3e-7, printed with a few significant digits.
foreach(v settle_first settle_last)
  if(${v} LESS 2.99e-7 OR ${v} GREATER 3.01e-7)
    message(FATAL_ERROR "a settling epoch's lr is ${${v}}, not 3e-7")
  endif()
endforeach()
if(NOT decay_last GREATER 3.01e-7)
  message(FATAL_ERROR "the last epoch of the decay has lr ${decay_last}, not above the settling lr")
endif()
