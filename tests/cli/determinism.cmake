# Same input, seed and thread count: the same bytes out. Trains a tiny model twice and checks
# that the two output folders hold the same files with the same bytes (every front model,
# front.csv, front.svg, the validation copies, and history.csv but for its two timing columns,
# train_seconds and samples_per_second); then emits Verilog twice from the first front model
# and checks the two design folders the same way.
#   cmake -DHGQC=... -DMODEL=... -DDATA=... -DVALX=... -DVALY=... -DOUT=dir -P determinism.cmake
file(REMOVE_RECURSE ${OUT}_a ${OUT}_b ${OUT}_va ${OUT}_vb)
function(run_step var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${ARGN}\nexit ${rc}\nstdout: ${out}\nstderr: ${err}")
  endif()
  set(${var} "${out}" PARENT_SCOPE)
endfunction()

# same_tree(A B): A and B list the same relative file names, each with the same bytes.
function(same_tree a b)
  file(GLOB_RECURSE fa RELATIVE ${a} ${a}/*)
  file(GLOB_RECURSE fb RELATIVE ${b} ${b}/*)
  list(SORT fa)
  list(SORT fb)
  if(NOT fa STREQUAL fb)
    message(FATAL_ERROR "${a} and ${b} hold different files:\n${fa}\n${fb}")
  endif()
  list(LENGTH fa n)
  if(n EQUAL 0)
    message(FATAL_ERROR "${a} is empty")
  endif()
  foreach(f IN LISTS fa)
    if(f STREQUAL "history.csv")
      # Columns 9 and 10 (train_seconds, samples_per_second) are timings: dropped.
      string(REPEAT "[^,]*," 8 keep)
      foreach(side a b)
        file(STRINGS ${${side}}/${f} lines)
        set(h${side} "")
        foreach(line IN LISTS lines)
          string(REGEX REPLACE "^(${keep})[^,]*,[^,]*," "\\1" line "${line}")
          string(APPEND h${side} "${line}\n")
        endforeach()
      endforeach()
      if(NOT ha STREQUAL hb)
        message(FATAL_ERROR "history.csv differs (timings aside) between two runs:\n${ha}\n${hb}")
      endif()
      continue()
    endif()
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${a}/${f} ${b}/${f}
                    RESULT_VARIABLE same)
    if(NOT same EQUAL 0)
      message(FATAL_ERROR "${f} differs between two runs with the same input and seed")
    endif()
  endforeach()
  message(STATUS "${n} file(s) identical: ${fa}")
endfunction()

set(args train ${MODEL} --data ${DATA} --val ${VALX} --val-targets ${VALY} --epochs 3 --batch 32
    --beta-schedule log --beta0 1e-5 --beta1 1e-2 --gamma 1e-6 --threads 2 --seed 11)
run_step(t ${HGQC} ${args} -o ${OUT}_a)
run_step(t2 ${HGQC} ${args} -o ${OUT}_b)
same_tree(${OUT}_a ${OUT}_b)

file(GLOB models ${OUT}_a/*.onnx)
list(SORT models)
list(GET models 0 m)
run_step(v ${HGQC} -q emit-verilog ${m} -o ${OUT}_va)
run_step(v2 ${HGQC} -q emit-verilog ${m} -o ${OUT}_vb)
same_tree(${OUT}_va ${OUT}_vb)
