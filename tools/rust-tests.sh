#!/usr/bin/env bash
# `make test`'s Rust half: every test of the workspace, with the fuzz targets built behind the
# end-to-end tests.
#
# The fuzz build (nightly, sanitizers, a target folder of its own: 7.5 min on two cores) shares
# nothing with the test build, and it used to start after the last test. The end-to-end tests
# spend much of their 5 minutes waiting (for the app to answer; the idle-lock test a whole
# minute), so the fuzz build runs at the lowest CPU priority while they run and takes only what
# they leave. It is paused (SIGSTOP) during the other tests: the crash tests kill a child tens of
# milliseconds after it starts saving and fsync all the time, and a build beside them (even at
# nice 19: disk writes, caches) left their kills landing too early. It resumes after the last
# test (docs/benchmarks.md "CI time").
#
# The build stays in this session: a new session (setsid) is a new scheduler autogroup on Linux,
# where nice 19 would count for nothing against the tests.
#
# The caller sets the clippy wrapper for the workspace's crates (the Makefile's LINTED); it is
# stable's clippy-driver, so it is taken out of the nightly fuzz build's environment.
# FUZZ_BUILD: the `cargo fuzz build` options of `make fuzz-short` (the Makefile passes them).
set -euo pipefail
set -m # background jobs get a process group of their own, to pause and stop as one
cd "$(dirname "$0")/.."
read -r -a fuzz_build <<< "${FUZZ_BUILD---dev}"

cargo test --workspace --locked --no-run

mkdir -p fuzz/target
log=fuzz/target/behind-the-tests.log
started=$(date +%s)
(cd fuzz && exec env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS \
  nice -n 19 cargo +nightly fuzz build "${fuzz_build[@]}") > "$log" 2>&1 < /dev/null &
fuzz=$!
signal_build() { kill "-$1" -- "-$fuzz" 2>/dev/null || true; }
# A failing test stops the build too (cargo and every rustc it started), paused or not.
trap 'signal_build KILL' EXIT

cargo test --locked -p e2e
signal_build STOP
cargo test --workspace --locked --exclude e2e
signal_build CONT

tests_done=$(date +%s)
if ! wait "$fuzz"; then
  tail -n 40 "$log" >&2
  echo "make test: the fuzz targets did not build (whole output: $log)" >&2
  exit 1
fi
trap - EXIT
echo "fuzz targets built behind the end-to-end tests: $(( $(date +%s) - started )) s in all, $(( $(date +%s) - tests_done )) s after the last test"
