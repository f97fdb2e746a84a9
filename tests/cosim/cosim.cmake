# One co-simulation case: (optionally quantize, or train,) emit Verilog, verify it (with the lint).
#   cmake -DHGQC=... -DMODEL=... [-DQUANT_DATA=... -DBITS=W,A] -DOUTDIR=... [-DEMIT_ARGS=a|b]
#         [-DDATA=...] [-DVECTORS=N] [-DSIMULATOR=verilator|iverilog] [-DYOSYS=ON]
#         [-DEXPECT_ROMS=ON] -P cosim.cmake
# TRAIN mode: -DTRAIN_DATA=X [-DTRAIN_TARGETS=Y] [-DTRAIN_ARGS=a|b] runs `hgqc train MODEL
# --data X [--targets Y] TRAIN_ARGS` (a few epochs) and emits and verifies the first model of
# the front it prints.
file(REMOVE_RECURSE ${OUTDIR})
file(MAKE_DIRECTORY ${OUTDIR})
# step_out(VAR COMMAND...): runs the command, fails unless it exits 0, sets VAR to its stdout.
function(step_out var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "${ARGN}\nexit ${rc}\nstdout: ${out}\nstderr: ${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed")
  endif()
  set(${var} "${out}" PARENT_SCOPE)
endfunction()
function(step)
  step_out(_ ${ARGN})
endfunction()
set(model ${MODEL})
if(QUANT_DATA)
  set(model ${OUTDIR}/model.onnx)
  step(${HGQC} quantize ${MODEL} --data ${QUANT_DATA} --bits ${BITS} -o ${model})
elseif(TRAIN_DATA)
  set(targets)
  if(TRAIN_TARGETS)
    set(targets --targets ${TRAIN_TARGETS})
  endif()
  string(REPLACE "|" ";" TRAIN_ARGS "${TRAIN_ARGS}")
  step_out(out ${HGQC} train ${MODEL} --data ${TRAIN_DATA} ${targets} -o ${OUTDIR}/train
           ${TRAIN_ARGS})
  # The front's rows, by estimated LUTs: "FILE.onnx  EPOCH  SCORE (...)  EBOPS  LUTS  ADDERS".
  string(REGEX MATCH "[^ \n]+\\.onnx +[0-9]+ +[0-9.]+" row "${out}")
  string(REGEX MATCH "^[^ ]+\\.onnx" model "${row}")
  if(NOT model OR NOT EXISTS ${model})
    message(FATAL_ERROR "train printed no front model")
  endif()
  message(STATUS "front model: ${model}")
endif()
string(REPLACE "|" ";" EMIT_ARGS "${EMIT_ARGS}")
step(${HGQC} emit-verilog ${model} -o ${OUTDIR}/rtl --top dut ${EMIT_ARGS})
if(EXPECT_ROMS)
  # The case is there for its ROMs: the design must have some (report.json's ROM bits).
  file(READ ${OUTDIR}/rtl/report.json report)
  string(JSON rom_bits GET "${report}" totals lut_model_bits rom)
  if(rom_bits LESS 1)
    message(FATAL_ERROR "the design has no ROM (EXPECT_ROMS)")
  endif()
endif()
find_program(VERILATOR verilator)
if(NOT VERILATOR)
  message(FATAL_ERROR "verilator is not installed (scripts/install-deps.sh installs it)")
endif()
if(NOT VECTORS)
  set(VECTORS 100000)
endif()
if(NOT SIMULATOR)
  set(SIMULATOR verilator)
endif()
# The lint (Verilator -Wall, no warning allowed): under Verilator, verify's own build of the
# design runs it (one parse of the design instead of two) and prints the count; otherwise a
# separate --lint-only run.
if(NOT SIMULATOR STREQUAL "verilator")
  step(${VERILATOR} --lint-only -Wall ${OUTDIR}/rtl/dut.v)
endif()
set(data_args)
if(DATA)
  set(data_args --data ${DATA})
endif()
step_out(out ${HGQC} verify ${OUTDIR}/rtl --model ${model} --vectors ${VECTORS}
         --simulator ${SIMULATOR} ${data_args})
if(SIMULATOR STREQUAL "verilator" AND NOT out MATCHES "Verilator lint \\(-Wall\\): 0 warning")
  message(FATAL_ERROR "Verilator's -Wall lint of the design is not clean: see "
                      "${OUTDIR}/rtl/verify/verilator.log")
endif()
if(YOSYS)
  # hgqc synth: Yosys synth_xilinx, flattened, out of context; no latch of any kind may appear.
  step(${HGQC} synth ${OUTDIR}/rtl)
  file(READ ${OUTDIR}/rtl/report.json report)
  string(JSON latches GET "${report}" synth latches)
  string(JSON luts GET "${report}" synth luts)
  string(JSON ffs GET "${report}" synth ffs)
  string(JSON levels GET "${report}" synth logic_levels)
  string(JSON est GET "${report}" totals luts_estimate)
  message(STATUS "yosys: ${luts} LUTs (estimate ${est}), ${ffs} FFs, ${levels} logic levels, "
                 "${latches} latches")
  if(NOT latches EQUAL 0 OR luts LESS 1 OR ffs LESS 1 OR levels LESS 1)
    message(FATAL_ERROR "synthesis report: ${latches} latches, ${luts} LUTs, ${ffs} FFs")
  endif()
  # The calibrated LUT model (docs/hardware.md) within 25 % of Yosys.
  math(EXPR lo "${luts} * 3 / 4")
  math(EXPR hi "${luts} * 5 / 4")
  if(est LESS lo OR est GREATER hi)
    message(FATAL_ERROR "LUT estimate ${est} is not within 25 % of Yosys's ${luts}")
  endif()
endif()
