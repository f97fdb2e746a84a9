# verify's lint count can fail: a design with one injected lint problem (a 3-bit constant into a
# 2-bit wire) must make `hgqc verify` report at least one Verilator -Wall warning, as
# `verilator --lint-only -Wall` does on the same file.
#   cmake -DHGQC=... -DMODEL=... -DOUTDIR=... -P lint_probe.cmake
file(REMOVE_RECURSE ${OUTDIR})
file(MAKE_DIRECTORY ${OUTDIR})
execute_process(COMMAND ${HGQC} -q emit-verilog ${MODEL} -o ${OUTDIR}/rtl --top dut
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "emit-verilog failed (exit ${rc})")
endif()
file(READ ${OUTDIR}/rtl/dut.v v)
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
