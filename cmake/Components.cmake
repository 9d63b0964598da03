# Adds every immediate subfolder of DIR that has a CMakeLists.txt, in sorted
# order. Components refer to each other by target name, so order is free.
function(aspen_add_component_dirs dir)
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${dir} ${dir}/*)
  list(SORT children)
  foreach(child IN LISTS children)
    if(IS_DIRECTORY ${dir}/${child} AND EXISTS ${dir}/${child}/CMakeLists.txt)
      if(child STREQUAL "fuzz")
        continue()
      endif()
      add_subdirectory(${dir}/${child})
    endif()
  endforeach()
endfunction()

# aspen_test(NAME sources... LIBS libs... [TIMEOUT s] [COST s]): one GoogleTest
# binary, registered with CTest as a single test named NAME (tests inside run in
# one process). COST (its usual seconds) makes `ctest -j` start it early even on
# a clean clone, which has no Testing/Temporary/CTestCostData.txt yet.
function(aspen_test name)
  cmake_parse_arguments(T "" "TIMEOUT;COST" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main
                        GTest::gmock rapidcheck rapidcheck_gtest Threads::Threads)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
  aspen_warnings(${name})
  aspen_use_test_pch(${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  add_test(NAME ${name} COMMAND ${name} --gtest_brief=1)
  # RapidCheck properties try 200 cases; 100 in the sanitizer tree, where each
  # case costs several times more and the release tree has run all 200.
  if(ASPEN_SANITIZE)
    set(rc_cases 100)
  else()
    set(rc_cases 200)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT}
                       ENVIRONMENT "RC_PARAMS=max_success=${rc_cases}")
  if(T_COST)
    set_tests_properties(${name} PROPERTIES COST ${T_COST})
  endif()
endfunction()

# aspen_library(NAME sources... LIBS libs...): a component library.
function(aspen_library name)
  cmake_parse_arguments(L "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} STATIC ${L_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${L_LIBS})
  aspen_warnings(${name})
endfunction()
