function(aspen_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
                         -Wimplicit-fallthrough -Wno-unused-parameter)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 reports false positives through std::variant and std::optional
    # at -O2 (GCC bug 105562 family); clang's -Wuninitialized still runs in the fuzz build.
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
  if(ASPEN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
