#pragma once
// Invariant checks for the libFuzzer targets: a broken invariant prints what broke and aborts, so
// libFuzzer reports it as a crash and saves the input (a plain `assert` would vanish under
// NDEBUG).

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
