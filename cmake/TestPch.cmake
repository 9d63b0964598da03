# One precompiled header for every test binary (ASPEN_TEST_PCH; clang only):
# gtest, rapidcheck, gRPC, JSON and the etcd API's generated
# headers take about half of a test unit's compile at -O0. The header is built
# once per tree by aspen_test_pch and reused by each aspen_test target
# (REUSE_FROM), which share its compile flags: the same -O level, sanitizers
# and warnings (tests/ get ASPEN_TEST_CXX_FLAGS). clang reads a precompiled
# header lazily and the test units of the ASan tree compile in 41% less CPU;
# GCC loads all of it (320 MB) into every unit and gained 3%, so the GCC tree
# goes without. docs/BENCHMARKS.md, "CI build time".
option(ASPEN_TEST_PCH "Precompile the headers shared by the test binaries (clang only)" ON)

function(aspen_add_test_pch)
  if(NOT ASPEN_TEST_PCH OR NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    return()
  endif()
  add_library(aspen_test_pch STATIC ${CMAKE_SOURCE_DIR}/tests/pch/test_pch.cc)
  target_link_libraries(aspen_test_pch PRIVATE aspen_etcd_proto GTest::gtest GTest::gmock
                        rapidcheck rapidcheck_gtest nlohmann_json::nlohmann_json)
  target_precompile_headers(aspen_test_pch PRIVATE ${CMAKE_SOURCE_DIR}/tests/pch/test_pch.h)
  aspen_warnings(aspen_test_pch)
endfunction()

# Makes test target NAME reuse the precompiled header, if there is one. NAME
# must see the same include directories for the generated headers.
function(aspen_use_test_pch name)
  if(TARGET aspen_test_pch)
    target_precompile_headers(${name} REUSE_FROM aspen_test_pch)
    target_link_libraries(${name} PRIVATE aspen_etcd_proto nlohmann_json::nlohmann_json)
  endif()
endfunction()
