# Front end for the CMake build. `make run` and `make test` install what is missing first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build run test check test-asan bench fmt clean

all: build

deps:
	@scripts/install-deps.sh build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/agentd serve $(ARGS)

test: build
	cd $(BUILD) && ctest --output-on-failure

check: build
	$(BUILD)/agentd_unit_tests --gtest_brief=1

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAGENTD_SANITIZE=ON $(CMAKE_ARGS)

test-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure

bench: deps $(BUILD)/CMakeCache.txt
	@scripts/install-deps.sh bench
	cmake -S . -B $(BUILD) -DAGENTD_BUILD_BENCH=ON
	cmake --build $(BUILD) -j $(JOBS) --target agentd agentd_runtime_bench agentd_tools_bench file_tools_bench agentd_fanout_reader agentd_concurrent_driver
	bench/run.sh $(BUILD)/agentd

fmt:
	find src -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
