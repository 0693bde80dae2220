# billing's multi-process tests (included by tests/integration/CMakeLists.txt).
smp_test(billing_integration_test
  SRCS billing_integration_test.cc
  DEPS smp_identity_harness smp_billing_proto smp_util smp_status
  LABELS integration
  TIMEOUT 300)
if(TARGET billing_integration_test)
  target_compile_definitions(billing_integration_test PRIVATE
    SMP_BILLING_BINARY="$<TARGET_FILE:billing>")
  add_dependencies(billing_integration_test billing)
endif()
