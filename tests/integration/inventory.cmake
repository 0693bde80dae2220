# Multi-process tests of the inventory service. Included from tests/integration/CMakeLists.txt.
smp_test(inventory_integration_test
  SRCS ${CMAKE_CURRENT_LIST_DIR}/inventory_integration_test.cc
  DEPS smp_identity_harness smp_inventory_proto smp_scheduling_proto smp_util smp_status
  LABELS integration
  TIMEOUT 300)
if(TARGET inventory_integration_test)
  target_compile_definitions(inventory_integration_test PRIVATE
    SMP_INVENTORY_BINARY="$<TARGET_FILE:inventory>")
  add_dependencies(inventory_integration_test inventory)
endif()
