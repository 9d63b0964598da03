# aspen_proto_library(NAME PROTOS a.proto b.proto [GRPC] [LIBS ...])
# Compiles .proto files (paths relative to proto/) into a static library. With
# GRPC, also generates gRPC service stubs. Generated headers are included as
# "<path relative to proto/ without .proto>.pb.h".
function(aspen_proto_library name)
  cmake_parse_arguments(P "GRPC" "" "PROTOS;LIBS" ${ARGN})
  set(out ${CMAKE_BINARY_DIR}/proto_gen)
  set(srcs)
  foreach(p IN LISTS P_PROTOS)
    string(REGEX REPLACE "\\.proto$" "" stem ${p})
    set(gen ${out}/${stem}.pb.cc ${out}/${stem}.pb.h)
    set(cmd_args --cpp_out=${out})
    if(P_GRPC)
      list(APPEND gen ${out}/${stem}.grpc.pb.cc ${out}/${stem}.grpc.pb.h)
      list(APPEND cmd_args --grpc_out=${out}
           --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
    endif()
    add_custom_command(
      OUTPUT ${gen}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out}
      COMMAND protobuf::protoc -I ${CMAKE_SOURCE_DIR}/proto ${cmd_args}
              ${CMAKE_SOURCE_DIR}/proto/${p}
      DEPENDS ${CMAKE_SOURCE_DIR}/proto/${p} protobuf::protoc
      COMMENT "protoc ${p}")
    list(APPEND srcs ${gen})
  endforeach()
  add_library(${name} STATIC ${srcs})
  # protoc's .pb.cc files each define the same file-local tables.
  set_target_properties(${name} PROPERTIES UNITY_BUILD OFF)
  target_include_directories(${name} SYSTEM PUBLIC ${out})
  target_link_libraries(${name} PUBLIC protobuf::libprotobuf ${P_LIBS})
  if(P_GRPC)
    target_link_libraries(${name} PUBLIC gRPC::grpc++)
  endif()
endfunction()
