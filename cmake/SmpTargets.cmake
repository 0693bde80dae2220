# Helpers that give every project target the same flags.

# smp_library(<target> SRCS ... DEPS ...)
function(smp_library target)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(${target} STATIC ${ARG_SRCS})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${target} PRIVATE ${SMP_WARNINGS})
  target_link_libraries(${target} PUBLIC ${ARG_DEPS})
endfunction()

# smp_test(<target> SRCS ... DEPS ... [LABELS ...])
# One gtest binary, registered with CTest test by test.
function(smp_test target)
  if(NOT SMP_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${target} ${ARG_SRCS})
  target_compile_options(${target} PRIVATE ${SMP_WARNINGS})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  # Each test is named "<target>.<Suite>.<Test>", so `ctest -R billing` selects a target's tests.
  gtest_discover_tests(${target}
    TEST_PREFIX "${target}."
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    DISCOVERY_TIMEOUT 30)
endfunction()
