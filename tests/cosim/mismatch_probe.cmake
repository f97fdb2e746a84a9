# verify's comparison can fail: with bit 0 of the output bus flipped in the emitted Verilog,
# `hgqc verify` must exit 3 and count every vector as differing, in its message and in
# mismatches.json.
#   cmake -DHGQC=... -DMODEL=... -DOUTDIR=... -P mismatch_probe.cmake
file(REMOVE_RECURSE ${OUTDIR})
file(MAKE_DIRECTORY ${OUTDIR})
execute_process(COMMAND ${HGQC} -q emit-verilog ${MODEL} -o ${OUTDIR}/rtl --top dut
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "emit-verilog failed (exit ${rc})")
endif()
file(READ ${OUTDIR}/rtl/dut.v v)
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
