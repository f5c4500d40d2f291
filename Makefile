# Kuager: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
CARGO ?= cargo
export KUAGER_PY ?= $(CURDIR)/target/tools/py/bin/python

.PHONY: run test bench deps lint crash-long demo fuzz-short fuzz-long

deps:
	@bash packaging/linux/deps.sh

## Until the desktop app lands (issue #4), `make run` starts the CLI quick start.
run: deps
	$(CARGO) build --release -p kuager-cli -p kuager-bench
	@bash packaging/linux/quickstart.sh

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test: deps lint
	$(CARGO) test --workspace --locked
	$(MAKE) fuzz-short

## The cargo-fuzz targets (nightly): a short run in `make test`, `make fuzz-long` for an hour each.
FUZZ_SECONDS ?= 20
fuzz-short:
	cd fuzz && $(CARGO) +nightly fuzz run bundle_parsers -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048
	cd fuzz && $(CARGO) +nightly fuzz run import -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048
fuzz-long:
	$(MAKE) fuzz-short FUZZ_SECONDS=3600

## R8 long mode: 1000 SIGKILL rounds instead of 200.
crash-long: deps
	KUAGER_CRASH_ROUNDS=1000 $(CARGO) test -p vault --test crash --release -- crash_loop --nocapture

bench: deps
	$(CARGO) build --release -p kuager-bench
	target/release/kuager-bench

## A demo vault full of synthetic (kk/ru/en) records: make demo DEMO_VAULT=/tmp/demo
DEMO_VAULT ?= $(CURDIR)/target/demo-vault
demo: deps
	$(CARGO) build --release -p kuager-cli -p kuager-bench
	target/release/kuager-gen --vault "$(DEMO_VAULT)" --people 200 --testimonies 500
