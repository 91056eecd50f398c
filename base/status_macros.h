#pragma once
// Local stand-ins for Abseil's RETURN_IF_ERROR / ASSIGN_OR_RETURN, which Abseil 20220623 lacks.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RELAYTAP_CONCAT_INNER_(a, b) a##b
#define RELAYTAP_CONCAT_(a, b) RELAYTAP_CONCAT_INNER_(a, b)

#define RELAYTAP_RETURN_IF_ERROR(expr)          \
  do {                                          \
    if (absl::Status _st = (expr); !_st.ok()) { \
      return _st;                               \
    }                                           \
  } while (0)

#define RELAYTAP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(*tmp)

#define RELAYTAP_ASSIGN_OR_RETURN(lhs, expr) \
  RELAYTAP_ASSIGN_OR_RETURN_IMPL_(RELAYTAP_CONCAT_(_statusor_, __LINE__), lhs, expr)
