#ifndef SMP_COMMON_STATUS_STATUS_MACROS_H_
#define SMP_COMMON_STATUS_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// RETURN_IF_ERROR(expr): evaluates an absl::Status expression and returns it from the enclosing
// function when it is not OK.
// (Names made unique by __COUNTER__, so that the macros nest, e.g. inside a lambda passed to one.)
#define RETURN_IF_ERROR(expr) \
  SMP_RETURN_IF_ERROR_IMPL_(SMP_STATUS_MACROS_CONCAT_(smp_status_, __COUNTER__), expr)

#define SMP_RETURN_IF_ERROR_IMPL_(status, expr) \
  do {                                          \
    ::absl::Status status = (expr);             \
    if (!status.ok()) {                         \
      return status;                            \
    }                                           \
  } while (false)

#define SMP_STATUS_MACROS_CONCAT_INNER_(x, y) x##y
#define SMP_STATUS_MACROS_CONCAT_(x, y) SMP_STATUS_MACROS_CONCAT_INNER_(x, y)

// ASSIGN_OR_RETURN(lhs, expr): evaluates an absl::StatusOr<T> expression; returns its status when
// it is not OK, otherwise moves the value into lhs (which may be a declaration, e.g. `auto x`).
#define ASSIGN_OR_RETURN(lhs, expr) \
  SMP_ASSIGN_OR_RETURN_IMPL_(SMP_STATUS_MACROS_CONCAT_(smp_statusor_, __COUNTER__), lhs, expr)

#define SMP_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                               \
  if (!statusor.ok()) {                                 \
    return std::move(statusor).status();                \
  }                                                     \
  lhs = std::move(statusor).value()

#endif  // SMP_COMMON_STATUS_STATUS_MACROS_H_
