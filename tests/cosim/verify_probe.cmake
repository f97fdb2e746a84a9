# verify's checks can fail: a design emitted from MODEL is altered, and `hgqc verify` must see it.
#   PROBE=lint: one injected lint problem (a 3-bit constant into a 2-bit wire) must make verify
#     report at least one Verilator -Wall warning, as `verilator --lint-only -Wall` does.
#   PROBE=mismatch: bit 0 of the output bus flipped must make verify exit 3 and count every
#     vector as differing, in its message and in mismatches.json.
#   cmake -DHGQC=... -DMODEL=... -DOUTDIR=... -DPROBE=lint|mismatch -P verify_probe.cmake
file(REMOVE_RECURSE ${OUTDIR})
file(MAKE_DIRECTORY ${OUTDIR})
execute_process(COMMAND ${HGQC} -q emit-verilog ${MODEL} -o ${OUTDIR}/rtl --top dut
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "emit-verilog failed (exit ${rc})")
endif()
file(READ ${OUTDIR}/rtl/dut.v v)

if(PROBE STREQUAL "lint")
  string(FIND "${v}" "endmodule" at REVERSE)
  if(at LESS 0)
    message(FATAL_ERROR "no endmodule in dut.v")
  endif()
  string(SUBSTRING "${v}" 0 ${at} head)
  string(SUBSTRING "${v}" ${at} -1 tail)
  file(WRITE ${OUTDIR}/rtl/dut.v "${head}  wire [1:0] hgqc_lint_probe = 3'd5;\n${tail}")
  execute_process(COMMAND verilator --lint-only -Wall ${OUTDIR}/rtl/dut.v RESULT_VARIABLE rc
                  OUTPUT_QUIET ERROR_VARIABLE err)
  if(rc EQUAL 0 OR NOT err MATCHES "%Warning-WIDTH")
    message(FATAL_ERROR "verilator --lint-only -Wall did not flag the probe: ${err}")
  endif()
  execute_process(COMMAND ${HGQC} verify ${OUTDIR}/rtl --model ${MODEL} --vectors 1000
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "exit ${rc}\nstdout: ${out}\nstderr: ${err}")
  if(NOT rc EQUAL 0 OR NOT out MATCHES "Verilator lint \\(-Wall\\): [1-9][0-9]* warning")
    message(FATAL_ERROR "hgqc verify did not count the probe's lint warning")
  endif()
  file(STRINGS ${OUTDIR}/rtl/verify/verilator.log log REGEX "^%Warning-WIDTH")
  if(NOT log)
    message(FATAL_ERROR "verify/verilator.log has no %Warning-WIDTH line")
  endif()
elseif(PROBE STREQUAL "mismatch")
  string(REPLACE "assign out_data = {" "assign out_data = 1 ^ {" flipped "${v}")
  if(flipped STREQUAL v)
    message(FATAL_ERROR "no 'assign out_data = {' in dut.v")
  endif()
  file(WRITE ${OUTDIR}/rtl/dut.v "${flipped}")
  execute_process(COMMAND ${HGQC} verify ${OUTDIR}/rtl --model ${MODEL} --vectors 2000
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "exit ${rc}\nstdout: ${out}\nstderr: ${err}")
  if(NOT rc EQUAL 3 OR NOT err MATCHES "check failed: 2000 of 2000 vectors differ")
    message(FATAL_ERROR "hgqc verify did not report the flipped bit on every vector")
  endif()
  file(READ ${OUTDIR}/rtl/mismatches.json report)
  string(JSON differ GET "${report}" mismatched_vectors)
  string(JSON element GET "${report}" first_mismatches 0 element)
  string(JSON expected GET "${report}" first_mismatches 0 expected)
  string(JSON got GET "${report}" first_mismatches 0 got)
  math(EXPR flip "${expected} ^ 1")
  if(NOT differ EQUAL 2000 OR NOT element EQUAL 0 OR NOT got EQUAL flip)
    message(FATAL_ERROR "mismatches.json: ${differ} vectors, first element ${element}, "
                        "expected ${expected}, got ${got}")
  endif()
else()
  message(FATAL_ERROR "PROBE must be lint or mismatch, not '${PROBE}'")
endif()
