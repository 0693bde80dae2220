# The five services as one product (every service is built). Included from CMakeLists.txt.
smp_test(suite_integration_test
  SRCS ${CMAKE_CURRENT_LIST_DIR}/suite_integration_test.cc
  DEPS smp_identity_harness smp_scheduling_proto smp_compliance_proto smp_billing_proto
       smp_inventory_proto smp_util smp_status
  LABELS integration
  TIMEOUT 300)
if(TARGET suite_integration_test)
  target_compile_definitions(suite_integration_test PRIVATE
    SMP_SCHEDULING_BINARY="$<TARGET_FILE:scheduling>"
    SMP_INVENTORY_BINARY="$<TARGET_FILE:inventory>"
    SMP_COMPLIANCE_BINARY="$<TARGET_FILE:compliance>"
    SMP_BILLING_BINARY="$<TARGET_FILE:billing>")
  add_dependencies(suite_integration_test scheduling inventory compliance billing)
endif()
