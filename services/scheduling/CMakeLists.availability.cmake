# Free-slot computation (pure domain logic). Included from services/scheduling/CMakeLists.txt.
smp_library(smp_scheduling_availability
  SRCS ${CMAKE_CURRENT_LIST_DIR}/availability.cc ${CMAKE_CURRENT_LIST_DIR}/local_days.cc
  DEPS absl::time absl::civil_time absl::time_zone)

smp_test(smp_scheduling_availability_test
  SRCS ${CMAKE_CURRENT_LIST_DIR}/availability_test.cc
       ${CMAKE_CURRENT_LIST_DIR}/local_days_test.cc
  DEPS smp_scheduling_availability absl::strings
  LABELS unit)
