// The headers every test binary shares, compiled once per build tree and
// reused by each test unit (cmake/TestPch.cmake). Third-party and generated
// headers only: they change when a package or a .proto changes, so editing
// Aspen's own headers never rebuilds the precompiled header. A test unit still
// includes what it uses; the precompiled copy only saves re-parsing it.
#pragma once

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "etcdserverpb/cluster.grpc.pb.h"
#include "etcdserverpb/kv.grpc.pb.h"
#include "etcdserverpb/lease.grpc.pb.h"
#include "etcdserverpb/maintenance.grpc.pb.h"
#include "etcdserverpb/watch.grpc.pb.h"
