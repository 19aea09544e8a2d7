# pfode: `make run` (set up, build, run an experiment on every core, plot) and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
PYTHON := /usr/bin/python3
CMAKE_ARGS ?=
# make run EXPERIMENT=experiments/convergence-orders.ini [ARGS=--resume]: any experiment file; its
# results go to results/<name>.h5 and the report to results/<name>/.
EXPERIMENT ?= experiments/quickstart.ini
ARGS ?= --force --progress bar
NAME = $(basename $(notdir $(EXPERIMENT)))

.PHONY: all deps configure build run test clean

all: build

deps:
	@./scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) > /dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: configure
	@cmake --build $(BUILD) -j $(JOBS) --target pfode
	@mkdir -p results
	$$(scripts/all-cores.sh ./$(BUILD)/pfode) ./$(BUILD)/pfode run $(EXPERIMENT) -o results/$(NAME).h5 $(ARGS)
	$(PYTHON) analysis/report.py results/$(NAME).h5

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
