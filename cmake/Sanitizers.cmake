if(ASPEN_SANITIZE)
  # Every UBSan check but vptr (dynamic-type checks of polymorphic casts and
  # member calls): it alone doubles the tree's compile CPU (GCC 12: 70.7 -> 36.3
  # CPU-s for server.cc), and Aspen never casts its polymorphic types down.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(ASPEN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ASPEN_FUZZ needs clang: configure with CXX=clang++ CC=clang")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
