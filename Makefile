# Kuager: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
CARGO ?= cargo
export KUAGER_PY ?= $(CURDIR)/target/tools/py/bin/python

.PHONY: run test bench deps lint format-check supply-chain crash-long mutants demo fuzz-short fuzz-long ui ui-test types app cli screenshots deb package test-package test-upgrade icons check-targets

deps:
	@bash packaging/linux/deps.sh

## The desktop app on the default vault (KUAGER_VAULT=DIR for another one). Needs a display.
run: deps ui
	$(CARGO) build --release --locked -p kuager-app -p kuager-cli
	target/release/kuager-app

## The command-line quick start (a terminal walk-through of the `kuager` command).
cli: deps
	$(CARGO) build --release -p kuager-cli -p kuager-bench
	@bash packaging/linux/quickstart.sh

## The UI, built into ui/dist (embedded into the app at compile time).
ui:
	cd ui && npx vite build --logLevel warn

## UI checks: strict TypeScript/Svelte diagnostics and the Vitest unit tests.
ui-test:
	cd ui && npx svelte-check --tsconfig ./tsconfig.json --fail-on-warnings --output machine | tail -1
	cd ui && npx vitest run

## Regenerates ui/src/lib/types.ts from the Rust IPC types (a test fails when it drifts).
types:
	KUAGER_WRITE_TYPES=1 $(CARGO) test -p kuager-app --test lockdown typescript_types

## PNGs of the main screens in kk, ru and en, from the real app under Xvfb, into docs/screenshots
## (SHOTS=caseworker, SHOTS=coordinator, SHOTS=evidence or SHOTS=recording for one set).
screenshots: deps ui
	$(CARGO) build --locked -p kuager-app
	$(CARGO) run --locked -p e2e --bin screenshots -- docs/screenshots $(SHOTS)

## Formatting, clippy (functions of at most 120 lines: clippy.toml), the vault's one-way layers
## (src-tauri/vault/tests/layers.rs) and no source file over 700 lines.
lint: ui format-check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	$(CARGO) test -p vault --test layers --locked -q

## The cheap half of `lint`: formatting and file lengths.
format-check:
	$(CARGO) fmt --all --check
	@bash tools/file-lengths.sh

## The supply chain: cargo deny (licences, sources, RustSec advisories; deny.toml) and npm audit
## of the UI's production dependencies (tools/supply-chain.sh says what it could not check).
supply-chain: deps
	@bash tools/supply-chain.sh

## Every test: UI, Rust (vault, CLI, app), end to end in the real app under Xvfb, fuzzing.
## (cargo test builds the app's binary too: the end-to-end tests drive target/debug/kuager-app.)
## Clippy lints our crates in the same build (`LINTED`): one compile instead of a second,
## check-only pass over every dependency (docs/benchmarks.md "CI time"). The vault's layers
## test is one of the workspace's tests. The fuzz targets build at the lowest priority behind the
## end-to-end tests (tools/rust-tests.sh), so `fuzz-short` only runs them.
test: deps format-check ui ui-test supply-chain
	@rustup which clippy-driver >/dev/null || { echo "make test: clippy is missing (rustup component add clippy)" >&2; exit 1; }
	$(LINTED) FUZZ_BUILD='$(FUZZ_BUILD)' bash tools/rust-tests.sh
	$(MAKE) fuzz-short

## clippy-driver as the compiler of the workspace's own crates (dependencies are built by rustc
## as always, so they are shared with every other build): it compiles them exactly as rustc does
## and fails the build on any clippy or rustc warning, as `cargo clippy -- -D warnings` would.
LINTED = RUSTC_WORKSPACE_WRAPPER="$$(rustup which clippy-driver)" \
	CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__

## The cargo-fuzz targets (nightly): a short run in `make test`, `make fuzz-long` for an hour each.
## The short run builds in the fuzz crate's dev profile (opt-level 1, debug assertions on: minutes
## faster to build on two cores, about as fast to run; fuzz/Cargo.toml); the long one in release.
FUZZ_SECONDS ?= 20
FUZZ_BUILD ?= --dev
## Nightly's own compiler, whatever wrapper the caller's environment names (`LINTED`'s stable
## clippy-driver cannot drive nightly's sanitizer options).
FUZZ_RUN = cd fuzz && env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS $(CARGO) +nightly fuzz run $(FUZZ_BUILD)
fuzz-short:
	fuzz/seeds.sh
	$(FUZZ_RUN) bundle_parsers -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048
	$(FUZZ_RUN) import -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048
	$(FUZZ_RUN) outside -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10
	$(FUZZ_RUN) recording -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10
	$(FUZZ_RUN) video -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10
fuzz-long:
	$(MAKE) fuzz-short FUZZ_SECONDS=3600 FUZZ_BUILD=

## Mutation testing of keys, revision ids, bundle verification, purge and the media scheme
## (docs/mutants.md; hours; MUTANTS_AREAS="keys media" for some). Installs cargo-mutants.
mutants: deps
	@bash tools/mutants.sh

## R8 long mode: 1000 SIGKILL rounds instead of 200.
crash-long: deps
	KUAGER_CRASH_ROUNDS=1000 $(CARGO) test -p vault --test crash --release -- crash_loop --nocapture

bench: deps ui
	$(CARGO) build -p kuager-app -p kuager-hello
	$(CARGO) build --release -p kuager-bench -p kuager-cli
	target/release/kuager-bench

## The .deb and .rpm (packaging/README.md): the app and the `kuager` command, its manual pages
## and completions, desktop entry, icons and metainfo; checked with desktop-file-validate and
## appstreamcli. Offline. target/release/bundle/{deb,rpm}/
package: deps ui
	@bash packaging/linux/package.sh
deb: package

## Installs the .deb on this machine, starts the installed app under Xvfb, purges it (needs
## root or sudo; a release build, so not part of `make test`: docs/benchmarks.md).
test-package: package
	@bash packaging/linux/test-package.sh

## An upgrade keeps every vault: the previous release's package (packaging/previous-release,
## built once into target/upgrade/) installed, used, then upgraded to this one (root or sudo).
test-upgrade: package
	@bash packaging/linux/test-upgrade.sh

## Redraws every icon from packaging/icons/kuager.svg.
icons: deps
	@bash packaging/icons.sh

## `cargo check` of the vault, the CLI and the app for Windows (x86_64-pc-windows-gnu, with
## MinGW from apt), as far as the toolchain can be had here (packaging/README.md).
check-targets: deps
	@bash packaging/check-targets.sh

## A demo vault full of synthetic (kk/ru/en) records: make demo DEMO_VAULT=/tmp/demo
DEMO_VAULT ?= $(CURDIR)/target/demo-vault
demo: deps
	$(CARGO) build --release -p kuager-cli -p kuager-bench
	target/release/kuager-gen --vault "$(DEMO_VAULT)" --people 200 --testimonies 500
