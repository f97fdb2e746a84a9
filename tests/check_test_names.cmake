# Fails when a doctest case name has a ';': CTest splits the discovered name there, and the
# ctest entry then selects no case and passes without running anything.
# Usage: cmake -DUNIT=<hgqc_unit> -P check_test_names.cmake
execute_process(COMMAND ${UNIT} --list-test-cases --no-version OUTPUT_VARIABLE out
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${UNIT} --list-test-cases failed (${rc})")
endif()
string(REPLACE ";" "<SEMICOLON>" out "${out}")
string(REPLACE "\n" ";" lines "${out}")
set(bad "")
foreach(line IN LISTS lines)
  if(line MATCHES "<SEMICOLON>")
    string(REPLACE "<SEMICOLON>" ";" line "${line}")
    string(APPEND bad "\n  ${line}")
  endif()
endforeach()
if(bad)
  message(FATAL_ERROR "test case names with ';' (CTest would run none of them):${bad}")
endif()
