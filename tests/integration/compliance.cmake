# Multi-process tests of the compliance service (included from CMakeLists.txt beside this file).
smp_test(compliance_integration_test
  SRCS ${CMAKE_CURRENT_LIST_DIR}/compliance_integration_test.cc
  DEPS smp_identity_harness smp_compliance smp_db smp_util smp_status
  LABELS integration
  TIMEOUT 300)
if(TARGET compliance_integration_test)
  target_compile_definitions(compliance_integration_test PRIVATE
    SMP_COMPLIANCE_BINARY="$<TARGET_FILE:compliance>")
  add_dependencies(compliance_integration_test compliance)
endif()
