# Helpers that give every project target the same flags.

# smp_library(<target> SRCS ... DEPS ...)
function(smp_library target)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(${target} STATIC ${ARG_SRCS})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${target} PRIVATE ${SMP_WARNINGS})
  target_link_libraries(${target} PUBLIC ${ARG_DEPS})
endfunction()

# The state file of the run's shared PostgreSQL server (common/db/CMakeLists.txt starts it as the
# ctest fixture `postgresql_server`; common/db/testing/postgres_server.h reads it).
set(SMP_POSTGRES_FIXTURE_STATE "${PROJECT_BINARY_DIR}/postgresql-server.state")

# smp_set_discovered_tests(<target> <counter> LABELS ... [POSTGRESQL])
# Sets properties on the tests that the <counter>-th gtest_discover_tests of <target> found:
# LABELS, and with POSTGRESQL the run's shared server (the fixture, and the environment that
# names it and the backend). gtest_discover_tests (CMake 3.25) cannot give a test a list value
# (two labels), so a script ctest reads after the discovered lists sets them.
function(smp_set_discovered_tests target counter)
  cmake_parse_arguments(ARG "POSTGRESQL" "" "LABELS" ${ARGN})
  set(props "LABELS \"${ARG_LABELS}\"")
  if(ARG_POSTGRESQL)
    string(APPEND props " FIXTURES_REQUIRED postgresql_server ENVIRONMENT "
           "\"SMP_TEST_BACKEND=postgresql;SMP_TEST_POSTGRES_SERVER=${SMP_POSTGRES_FIXTURE_STATE}\"")
  endif()
  set(script "${CMAKE_CURRENT_BINARY_DIR}/${target}[${counter}]_properties.cmake")
  set(discovered "${CMAKE_CURRENT_BINARY_DIR}/${target}[${counter}]_tests.cmake")
  file(WRITE "${script}"
"if(EXISTS \"${discovered}\")
  file(STRINGS \"${discovered}\" discovered_tests REGEX \"^add_test\")
  foreach(line IN LISTS discovered_tests)
    if(line MATCHES \"^add_test\\\\(\\\\[=\\\\[([^]]+)\\\\]=\\\\]\")
      set_tests_properties(\"\${CMAKE_MATCH_1}\" PROPERTIES ${props})
    endif()
  endforeach()
endif()
")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${script}")
endfunction()

# smp_test(<target> SRCS ... DEPS ... [LABELS ...] [TIMEOUT s] [BOTH_BACKENDS])
# One gtest binary, registered with CTest test by test.
#
# BOTH_BACKENDS: the binary's tests open their databases by the backend SMP_TEST_BACKEND names
# (common/db/testing/test_database.h: services' test environments, tests/integration's
# ServiceProcess), and every test is registered twice: `<target>.<Suite>.<Test>` with LABELS plus
# `sqlite`, and `<target>.<Suite>.<Test>/postgresql` with SMP_TEST_BACKEND=postgresql and LABELS
# (but `unit`, so `ctest -L unit` stays server-less) plus `postgresql`.
function(smp_test target)
  if(NOT SMP_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "BOTH_BACKENDS" "TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
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
  if(NOT ARG_BOTH_BACKENDS)
    return()
  endif()
  target_link_libraries(${target} PRIVATE smp_db_testing)
  gtest_discover_tests(${target}
    TEST_PREFIX "${target}."
    TEST_SUFFIX "/postgresql"
    PROPERTIES TIMEOUT ${ARG_TIMEOUT}
    DISCOVERY_TIMEOUT 30)
  set(postgresql_labels ${ARG_LABELS} postgresql)
  list(REMOVE_ITEM postgresql_labels unit)
  smp_set_discovered_tests(${target} 1 LABELS ${ARG_LABELS} sqlite)
  smp_set_discovered_tests(${target} 2 LABELS ${postgresql_labels} POSTGRESQL)
endfunction()
