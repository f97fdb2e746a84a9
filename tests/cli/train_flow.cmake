# `hgqc train` end to end on a tiny model: every model on the front that train reports must
# score exactly the same with `hgqc run --fixed --labels` on the same validation data, and
# `hgqc inspect` must show the same EBOPs and `hgqc emit-verilog` the same estimated LUTs and
# adders (front.csv's luts_estimate and adders); a second run with the same seed and thread count
# must write the same bytes.
#   cmake -DHGQC=... -DMODEL=... -DDATA=... -DVALX=... -DVALY=... -DOUT=dir -P train_flow.cmake
file(REMOVE_RECURSE ${OUT}_a ${OUT}_b ${OUT}_rtl)
function(run_step var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "${ARGN}\nexit ${rc}\nstdout: ${out}\nstderr: ${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed")
  endif()
  set(${var} "${out}" PARENT_SCOPE)
endfunction()
set(args train ${MODEL} --data ${DATA} --val ${VALX} --val-targets ${VALY} --epochs 5 --batch 32
    --beta-schedule log --beta0 1e-5 --beta1 1e-2 --gamma 1e-6 --threads 2 --seed 3)
run_step(t ${HGQC} ${args} -o ${OUT}_a)
run_step(t2 ${HGQC} ${args} -o ${OUT}_b)
string(REGEX MATCHALL "[^ \n]+\\.onnx +[0-9]+ +[0-9.]+ \\([0-9]+ of [0-9]+\\) +[0-9]+ +[0-9]+ +[0-9]+"
       rows "${t}")
list(LENGTH rows n)
if(n EQUAL 0)
  message(FATAL_ERROR "train printed no front")
endif()
foreach(row IN LISTS rows)
  string(REGEX MATCH
         "^([^ ]+\\.onnx) +[0-9]+ +([0-9.]+ \\([0-9]+ of [0-9]+\\)) +([0-9]+) +([0-9]+) +([0-9]+)" _
         "${row}")
  set(file ${CMAKE_MATCH_1})
  set(acc ${CMAKE_MATCH_2})
  set(ebops ${CMAKE_MATCH_3})
  set(luts ${CMAKE_MATCH_4})
  set(adders ${CMAKE_MATCH_5})
  run_step(r ${HGQC} run --fixed ${file} -i ${VALX} --labels ${VALY})
  string(REGEX MATCH "accuracy: ([0-9.]+ \\([0-9]+ of [0-9]+\\))" _ "${r}")
  if(NOT CMAKE_MATCH_1 STREQUAL acc)
    message(FATAL_ERROR "${file}: train reported '${acc}', run --fixed '${CMAKE_MATCH_1}'")
  endif()
  run_step(i ${HGQC} inspect ${file})
  if(NOT i MATCHES "total EBOPs: ${ebops}\n")
    message(FATAL_ERROR "${file}: train reported ${ebops} EBOPs, inspect does not")
  endif()
  get_filename_component(base ${file} NAME)
  get_filename_component(stem ${file} NAME_WE)
  run_step(e ${HGQC} emit-verilog ${file} -o ${OUT}_rtl/${stem} --check-vectors 0)
  if(NOT e MATCHES "\ntotal +${adders} +[0-9]+ +${luts} +[0-9]+\n")
    message(FATAL_ERROR "${file}: train reported ${luts} LUTs and ${adders} adders, "
                        "emit-verilog does not")
  endif()
  file(STRINGS ${OUT}_a/front.csv csv REGEX "^${base},")
  if(NOT csv MATCHES ",${ebops},[0-9]+,${luts},${adders}$")
    message(FATAL_ERROR "${base}: front.csv row '${csv}' lacks ebops ${ebops}, luts_estimate "
                        "${luts} and adders ${adders} (the summary's)")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${file} ${OUT}_b/${base}
                  RESULT_VARIABLE same)
  if(NOT same EQUAL 0)
    message(FATAL_ERROR "${base} differs between two runs with the same seed and threads")
  endif()
endforeach()
foreach(f history.csv front.csv front.svg)
  if(NOT EXISTS ${OUT}_a/${f})
    message(FATAL_ERROR "${f} not written")
  endif()
endforeach()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT}_a/front.csv ${OUT}_b/front.csv
                RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  message(FATAL_ERROR "front.csv differs between two runs with the same seed and threads")
endif()
message(STATUS "${n} front model(s) agree with run --fixed")
