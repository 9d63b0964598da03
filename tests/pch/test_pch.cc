// The translation unit that builds tests/pch/test_pch.h's precompiled header
// (cmake/TestPch.cmake); it defines nothing.
