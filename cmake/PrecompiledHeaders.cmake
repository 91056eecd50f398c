# Precompiled headers, shared across targets (REUSE_FROM), so that Asio/Beast/SSL, nlohmann_json,
# Abseil and GoogleTest are parsed once per build instead of once per TU (at -O2 the Asio + Beast
# headers alone cost ~5 s per TU even with separate compilation, nlohmann ~4 s, gtest+gmock ~2 s).
#
# Four PCHs, each built once by its own small object library; every target of the project is
# given the smallest one that covers what it links, decided from its link closure (so new targets
# in subdirectories get one without their CMakeLists changing):
#   relaytap_pch_json        nlohmann_json + Abseil status/strings + std  (links nlohmann_json)
#   relaytap_pch_asio        the above + Asio, Asio SSL, Beast HTTP/WebSocket (links Boost::headers)
#   relaytap_pch_test_json   relaytap_pch_json + gtest/gmock  (links GTest::gtest)
#   relaytap_pch_test_asio   relaytap_pch_asio + gtest/gmock  (links GTest::gtest and Boost)
# Targets that link none of these (e.g. relaytap_base) get no PCH: loading one costs ~0.5-1.5 s.
# A target opts out with set_target_properties(t PROPERTIES RELAYTAP_NO_PCH ON).
#
# ccache: PCH hits need `sloppiness = pch_defines,time_macros` (ccache docs, "Precompiled
# headers"); CMake includes the PCH with -include, which ccache supports without -fpch-preprocess.
# relaytap_enable_pch() adds CCACHE_SLOPPINESS to the launcher when the launcher is ccache.

option(RELAYTAP_PCH "Use precompiled headers shared across targets" ON)

set(_relaytap_pch_json
  <algorithm> <chrono> <cstdint> <functional> <map> <memory> <optional> <string>
  <string_view> <utility> <vector>
  <absl/status/status.h> <absl/status/statusor.h> <absl/strings/str_cat.h>
  <nlohmann/json.hpp>)
set(_relaytap_pch_asio ${_relaytap_pch_json}
  <boost/asio.hpp> <boost/asio/ssl.hpp> <boost/asio/experimental/awaitable_operators.hpp>
  <boost/beast/core.hpp> <boost/beast/http.hpp> <boost/beast/ssl.hpp>
  <boost/beast/websocket.hpp> <boost/beast/websocket/ssl.hpp>)
set(_relaytap_pch_gtest <gmock/gmock.h> <gtest/gtest.h>)

# Collects every buildsystem target of `dir` and its subdirectories into `out`.
function(_relaytap_collect_targets dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _relaytap_collect_targets(${sub} sub_targets)
    list(APPEND targets ${sub_targets})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

# Sets `out` to the targets `target` links, directly or through other targets (link closure).
function(_relaytap_link_closure target out)
  set(seen "")
  set(work ${target})
  set(guard 0)
  while(work AND guard LESS 10000)
    math(EXPR guard "${guard} + 1")
    list(POP_FRONT work t)
    # target_link_libraries from another directory wraps entries in ::@(dir) markers.
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" t "${t}")
    if(t MATCHES "^::@" OR t MATCHES "\\$<" OR t IN_LIST seen OR NOT TARGET ${t})
      continue()
    endif()
    list(APPEND seen ${t})
    get_target_property(aliased ${t} ALIASED_TARGET)
    if(aliased)
      list(APPEND work ${aliased})
      continue()
    endif()
    get_target_property(type ${t} TYPE)
    get_target_property(imported ${t} IMPORTED)
    if(NOT imported AND NOT type STREQUAL "INTERFACE_LIBRARY")
      get_target_property(libs ${t} LINK_LIBRARIES)
      if(libs)
        list(APPEND work ${libs})
      endif()
    endif()
    get_target_property(libs ${t} INTERFACE_LINK_LIBRARIES)
    if(libs)
      list(APPEND work ${libs})
    endif()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

function(_relaytap_add_pch_owner name)
  set(src ${CMAKE_BINARY_DIR}/pch/${name}.cc)
  if(NOT EXISTS ${src})
    file(WRITE ${src} "// Builds the precompiled header of ${name} (cmake/PrecompiledHeaders.cmake).\n")
  endif()
  add_library(${name} OBJECT ${src})
  target_link_libraries(${name} PRIVATE ${ARGN} relaytap_warnings)
  set_target_properties(${name} PROPERTIES RELAYTAP_NO_PCH ON)
endfunction()

# True when the target has C++ sources of its own to compile.
function(_relaytap_has_cxx_sources target out)
  get_target_property(sources ${target} SOURCES)
  set(has OFF)
  foreach(s IN LISTS sources)
    if(s MATCHES "\\.(cc|cpp|cxx)$")
      set(has ON)
      break()
    endif()
  endforeach()
  set(${out} ${has} PARENT_SCOPE)
endfunction()

# Call once, at the end of the top-level CMakeLists.txt (after every add_subdirectory).
function(relaytap_enable_pch)
  if(NOT RELAYTAP_PCH)
    return()
  endif()
  _relaytap_collect_targets(${PROJECT_SOURCE_DIR} targets)

  _relaytap_add_pch_owner(relaytap_pch_json nlohmann_json::nlohmann_json absl::status
    absl::statusor absl::strings)
  target_precompile_headers(relaytap_pch_json PRIVATE ${_relaytap_pch_json})
  _relaytap_add_pch_owner(relaytap_pch_asio Boost::headers OpenSSL::SSL
    nlohmann_json::nlohmann_json absl::status absl::statusor absl::strings)
  target_precompile_headers(relaytap_pch_asio PRIVATE ${_relaytap_pch_asio})
  if(TARGET GTest::gtest)
    _relaytap_add_pch_owner(relaytap_pch_test_json GTest::gmock GTest::gtest
      nlohmann_json::nlohmann_json absl::status absl::statusor absl::strings)
    target_precompile_headers(relaytap_pch_test_json PRIVATE ${_relaytap_pch_json}
      ${_relaytap_pch_gtest})
    _relaytap_add_pch_owner(relaytap_pch_test_asio GTest::gmock GTest::gtest Boost::headers
      OpenSSL::SSL nlohmann_json::nlohmann_json absl::status absl::statusor absl::strings)
    target_precompile_headers(relaytap_pch_test_asio PRIVATE ${_relaytap_pch_asio}
      ${_relaytap_pch_gtest})
  endif()

  foreach(t IN LISTS targets)
    get_target_property(type ${t} TYPE)
    get_target_property(no_pch ${t} RELAYTAP_NO_PCH)
    if(no_pch OR NOT type MATCHES "^(EXECUTABLE|STATIC_LIBRARY|SHARED_LIBRARY|OBJECT_LIBRARY)$")
      continue()
    endif()
    _relaytap_has_cxx_sources(${t} has_cxx)
    if(NOT has_cxx)
      continue()
    endif()
    _relaytap_link_closure(${t} closure)
    set(kind "")
    if("Boost::headers" IN_LIST closure)
      set(kind asio)
    elseif("nlohmann_json::nlohmann_json" IN_LIST closure)
      set(kind json)
    endif()
    if("GTest::gtest" IN_LIST closure AND TARGET relaytap_pch_test_json)
      if(kind STREQUAL "")
        set(kind json)
      endif()
      set(kind test_${kind})
    endif()
    if(NOT kind STREQUAL "")
      target_precompile_headers(${t} REUSE_FROM relaytap_pch_${kind})
    endif()
  endforeach()
endfunction()

# ccache only hits on PCH builds with sloppiness pch_defines,time_macros. When the launcher is
# ccache and its configuration lacks them, run it through `cmake -E env CCACHE_SLOPPINESS=...`
# (keeping the sloppiness already configured). Call before the targets are created.
function(relaytap_ccache_pch_sloppiness)
  set(launcher "${CMAKE_CXX_COMPILER_LAUNCHER}")
  if(NOT RELAYTAP_PCH OR NOT launcher MATCHES "(^|/)ccache$")
    return()
  endif()
  execute_process(COMMAND ${launcher} --get-config sloppiness
    OUTPUT_VARIABLE sloppiness OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR (sloppiness MATCHES "pch_defines" AND sloppiness MATCHES "time_macros"))
    return()
  endif()
  string(REPLACE " " "" sloppiness "${sloppiness}")
  if(sloppiness STREQUAL "")
    set(sloppiness "pch_defines,time_macros")
  else()
    set(sloppiness "${sloppiness},pch_defines,time_macros")
  endif()
  message(STATUS "ccache: adding sloppiness pch_defines,time_macros for precompiled headers")
  set(CMAKE_CXX_COMPILER_LAUNCHER
    ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=${sloppiness} ${launcher} PARENT_SCOPE)
endfunction()
