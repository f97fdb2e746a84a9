# Regenerates the node-test report and fails when docs/onnx-node-tests.md differs from it.
execute_process(COMMAND ${NODE_TEST} --markdown ${ROOT} OUTPUT_VARIABLE _now RESULT_VARIABLE _rc)
file(READ ${DOC} _doc)
if(NOT _now STREQUAL _doc)
  message(FATAL_ERROR "docs/onnx-node-tests.md is out of date with what the importer accepts; "
                      "run scripts/gen_node_test_doc.sh and review the change")
endif()
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "some claimed node tests fail (see the Failing section)")
endif()
