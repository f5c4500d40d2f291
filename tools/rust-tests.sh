#!/usr/bin/env bash
# `make test`'s Rust half: every test of the workspace, with the fuzz targets built behind the
# end-to-end tests.
#
# The fuzz build (nightly, sanitizers, a target folder of its own: 7.5 min on two cores) shares
# nothing with the test build, and it used to start after the last test. The end-to-end tests
# spend much of their 5 minutes waiting (for the app to answer; the idle-lock test a whole
# minute), so the fuzz build runs at the lowest CPU priority while they run and takes only what
# they leave. It is paused (SIGSTOP) during the other tests: the crash tests kill a child tens of
# milliseconds after it starts saving and fsync all the time, and a build beside them (tried at
# equal weight) left their kills landing too early. It resumes after the last
# test (docs/benchmarks.md "CI time"). A pause that fell in the milliseconds in which the build
# holds cargo's package-cache lock (as it starts, long over by then, or as it ends) would leave
# the other tests' cargo waiting for it; not seen, and the build is minutes from either end.
#
# The end-to-end test programs are run as the workspace build made them: `cargo test -p e2e`
# would resolve features for that package alone (without the app's, e.g. serde_json's
# `raw_value`) and compile serde_json, the vault and the tests a second time. Their doc tests
# (none today) run in neither phase.
#
# The build stays in this session: a new session (setsid) is a new scheduler autogroup on Linux,
# where nice 19 would count for nothing against the tests.
#
set -euo pipefail
cd "$(dirname "$0")/.."
read -r -a fuzz_build <<< "${FUZZ_BUILD---dev}"

# Every test program, and the list of the end-to-end ones (package e2e: its unit tests too).
built=target/test-programs.json
cargo test --workspace --locked --no-run --message-format=json-render-diagnostics > "$built"
mapfile -t e2e < <(python3 -c '
import json, sys
found = set()
for line in open(sys.argv[1]):
    m = json.loads(line)
    if (m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]
            and m["manifest_path"].endswith("/tests/e2e/Cargo.toml")):
        found.add(m["executable"])
for exe in sorted(found):
    print(exe)
' "$built")
[ "${#e2e[@]}" -gt 0 ] || { echo "make test: no end-to-end test programs were built" >&2; exit 1; }

mkdir -p fuzz/target
log=fuzz/target/behind-the-tests.log
started=$(date +%s)
set -m # the fuzz build gets a process group of its own, to pause and stop as one
(cd fuzz && exec env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS \
  nice -n 19 cargo +nightly fuzz build "${fuzz_build[@]}") > "$log" 2>&1 < /dev/null &
fuzz=$!
set +m # the tests stay in make's process group (a cancelled run stops them with it)
signal_build() { kill "-$1" -- "-$fuzz" 2>/dev/null || true; }
# A failing test stops the build too (cargo and every rustc it started), paused or not.
trap 'signal_build KILL' EXIT

for test in "${e2e[@]}"; do
  echo "     Running ${test#"$PWD/"} (end to end)"
  (cd tests/e2e && "$test")
done
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
