// Pack/Unpack cost of typical keys. Run: build/bench/bench_tuple
//   --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "tuple/tuple.h"

namespace {

using aspen::tuple::Tuple;

Tuple ThreeElementKey() {
  return Tuple().Add("users").Add(12345).Add("profile");
}

// A secondary-index key as sm/ writes them: ("idx", name, value, key).
Tuple FiveElementKey() {
  return Tuple()
      .Add("idx")
      .Add("mod_revision")
      .Add(std::int64_t{1234567890123})
      .AddBytes("user/42/profile")
      .Add(-7);
}

void BM_Pack(benchmark::State& state, Tuple t) {
  std::string out;
  for (auto _ : state) {
    out.clear();
    t.PackTo(&out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(std::to_string(out.size()) + " bytes");
}

void BM_PackNewString(benchmark::State& state, Tuple t) {
  for (auto _ : state) {
    std::string out = t.Pack();
    benchmark::DoNotOptimize(out.data());
  }
}

void BM_Unpack(benchmark::State& state, Tuple t) {
  const std::string key = t.Pack();
  for (auto _ : state) {
    auto r = Tuple::Unpack(key);
    if (!r.ok()) state.SkipWithError("unpack failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetLabel(std::to_string(key.size()) + " bytes");
}

BENCHMARK_CAPTURE(BM_Pack, users_12345_profile, ThreeElementKey());
BENCHMARK_CAPTURE(BM_PackNewString, users_12345_profile, ThreeElementKey());
BENCHMARK_CAPTURE(BM_Unpack, users_12345_profile, ThreeElementKey());
BENCHMARK_CAPTURE(BM_Pack, five_element_index_key, FiveElementKey());
BENCHMARK_CAPTURE(BM_PackNewString, five_element_index_key, FiveElementKey());
BENCHMARK_CAPTURE(BM_Unpack, five_element_index_key, FiveElementKey());

}  // namespace

BENCHMARK_MAIN();
