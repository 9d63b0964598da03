# Aspen: the two set-up commands are `make run` and `make test`.
# Both install what is missing (Debian 12 packages), build, then run.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
GENERATOR  := -G Ninja
JOBS       ?= $(shell nproc)
# Test processes spend most of their time waiting (fsyncs, raft timers, child
# servers: the release suite used 151 CPU-s in 385 s of test time), so ctest
# runs two per CPU (docs/BENCHMARKS.md, "CI build time").
TEST_JOBS  ?= $(shell echo $$(( $$(nproc) * 2 )))
CMAKE_FLAGS ?=
# A timestamped line at the start of each phase of `make test` (a CI log then
# shows where the time went).
STAMP = @echo "make: $@ starts at $$(date -u +%T) UTC"
# Sanitizer and fuzz builds keep line tables only (-g1): stack traces still
# name file:line, and their compile is ~30% faster than with full -g.
DEBUG_LINES := -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1
# CI (CI=true: a clean clone, no ccache, nobody attaches a debugger) builds the
# release tree with line tables only too: its cold compile takes ~25% less CPU
# (docs/BENCHMARKS.md, "CI build time"). Elsewhere RelWithDebInfo keeps full -g.
ifeq ($(CI),true)
RELEASE_FLAGS := -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
endif

.PHONY: all deps configure build run test unit asan fuzz bench bench-vs-etcd fmt check-fmt clean

all: build

deps:
	@./scripts/install-deps.sh

# The release tree: src/ at -O2 (what `make run` serves and the benchmarks
# measure), tests/ at -O0 (their units compile in 25% less CPU; the code they
# test is src/'s).
$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(RELEASE_FLAGS) \
	  -DASPEN_TEST_CXX_FLAGS=-O0 $(CMAKE_FLAGS)

configure: deps $(BUILD)/build.ninja

build: configure
	$(STAMP)
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./scripts/run.sh $(BUILD)

# Every test: format check, the unit/property/process tests (release build),
# the same tests under ASan+UBSan, then each fuzzer for FUZZ_SECONDS.
test: deps check-fmt unit asan fuzz
	@echo "make test: all suites passed at $$(date -u +%T) UTC"

unit: build
	$(STAMP)
	cd $(BUILD) && ctest --output-on-failure -j $(TEST_JOBS)

# The ASan tree is built with clang (the release tree with GCC, so both
# compilers' warnings gate CI): its cold compile takes about half GCC's CPU.
# src/ is built at -O1, tests/ at -O0 (-57% compile CPU for a test unit, +13%
# test time). It reuses the release tree's GOPATH and Go cache (ASPEN_GO_DIR)
# for tests/goclient's client program, which has nothing to sanitize.
# docs/BENCHMARKS.md, "CI build time".
$(ASAN_BUILD)/build.ninja: | deps
	CC=clang CXX=clang++ cmake -S . -B $(ASAN_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug \
	  -DASPEN_SANITIZE=ON -DASPEN_BENCH=OFF -DCMAKE_CXX_FLAGS=-O1 -DASPEN_TEST_CXX_FLAGS=-O0 \
	  $(DEBUG_LINES) -DASPEN_GO_DIR=$(abspath $(BUILD))/tests/goclient $(CMAKE_FLAGS)

asan: deps $(ASAN_BUILD)/build.ninja
	$(STAMP)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(TEST_JOBS) -LE no-asan

$(FUZZ_BUILD)/build.ninja: | deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
	  -DASPEN_FUZZ=ON -DASPEN_TESTS=OFF -DASPEN_BENCH=OFF $(CMAKE_FLAGS)

fuzz: deps $(FUZZ_BUILD)/build.ninja
	$(STAMP)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	./scripts/run-fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: build
	./scripts/run-bench.sh $(BUILD)

# Aspen against etcd, 1 and 3 nodes, alternating runs; rewrites the generated
# section of docs/BENCHMARKS.md and docs/bench-vs-etcd.png (~20 min).
# BENCH_FLAGS=--quick for a one-minute smoke run that writes no docs.
bench-vs-etcd: configure
	./scripts/bench-vs-etcd.sh --build $(BUILD) $(BENCH_FLAGS)

fmt:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i
	@if command -v gofmt > /dev/null; then git ls-files '*.go' | xargs -r gofmt -w; fi

check-fmt: deps
	$(STAMP)
	@./scripts/check-format.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
