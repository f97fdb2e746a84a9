# `hgqc train`: the LUT surrogate is calibrated against the exact estimate before the first
# evaluation (at the end of epoch 1 when that epoch is not evaluated), so the first evaluated
# checkpoint is priced with calibrated scales: its surrogate_luts_at_eval lies within 15 % of its
# luts_estimate (with every scale at 1 it is about 1.5x on this model), for both costs; and the
# scratch model of that calibration is not left in the output directory.
#   cmake -DHGQC=... -DMODEL=... -DDATA=... -DOUT=dir -P train_lut_calibration.cmake
foreach(cost luts ebops)
  file(REMOVE_RECURSE ${OUT}_${cost})
  execute_process(COMMAND ${HGQC} train ${MODEL} --data ${DATA} --epochs 2 --eval-every 2
                          --batch 32 --seed 1 --threads 1 --cost ${cost} -o ${OUT}_${cost}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "training with --cost ${cost} failed (exit ${rc}):\n${out}${err}")
  endif()
  if(NOT err MATCHES "LUT surrogate calibrated after epoch 1: ")
    message(FATAL_ERROR "--cost ${cost}: no calibration after epoch 1 logged:\n${err}")
  endif()
  # history.csv: luts_estimate is column 13, surrogate_luts_at_eval column 15.
  file(STRINGS ${OUT}_${cost}/history.csv rows)
  list(GET rows 0 head)
  string(REPLACE "," ";" h "${head}")
  list(GET h 12 c13)
  list(GET h 14 c15)
  if(NOT c13 STREQUAL "luts_estimate" OR NOT c15 STREQUAL "surrogate_luts_at_eval")
    message(FATAL_ERROR "unexpected history.csv columns: ${head}")
  endif()
  list(GET rows 2 second)
  string(REPLACE "," ";" f "${second}")
  list(GET f 0 epoch)
  list(GET f 12 exact)
  list(GET f 14 surrogate)
  message(STATUS "--cost ${cost}, epoch ${epoch}: exact ${exact}, surrogate ${surrogate}")
  if(NOT epoch EQUAL 2 OR exact STREQUAL "" OR surrogate STREQUAL "")
    message(FATAL_ERROR "epoch 2 was not evaluated: ${second}")
  endif()
  math(EXPR lo "${exact} * 85 / 100")
  math(EXPR hi "${exact} * 115 / 100")
  string(REGEX REPLACE "\\..*" "" surrogate_int "${surrogate}")
  if(surrogate_int LESS lo OR surrogate_int GREATER hi)
    message(FATAL_ERROR "--cost ${cost}: the first evaluation's surrogate ${surrogate} is not "
                        "within 15 % of the exact estimate ${exact}")
  endif()
  file(GLOB scratch ${OUT}_${cost}/.lut_calibration*)
  if(scratch)
    message(FATAL_ERROR "the calibration's scratch model was left behind: ${scratch}")
  endif()
endforeach()
