#!/usr/bin/env bash
# Mutation testing of what Kuager's security rests on (docs/mutants.md), for `make mutants`.
#
# Each area is a few source files and the tests that guard them: cargo-mutants changes the code
# one small way at a time (a `>` for a `>=`, a function returning a default, a deleted match
# arm) and expects those tests to fail. A mutant they miss is a change to the security-critical
# code that no test would notice. Hours on two cores, so not part of `make test`.
#
#   make mutants                        every area
#   MUTANTS_AREAS="keys media" make mutants
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=27.1.0
if [[ "$(cargo mutants --version 2>/dev/null)" != "cargo-mutants $VERSION" ]]; then
  cargo install --locked "cargo-mutants@$VERSION"
fi
# A target folder of its own: mutated builds never disturb the normal ones, and the
# dependencies are built once for every run.
export CARGO_TARGET_DIR="$PWD/target/mutants"
OUT="$PWD/target/mutants-out"
mkdir -p "$OUT"

# area name, package, source files, the test targets that guard them
run() {
  local name=$1 pkg=$2 files=$3 tests=$4
  # Code built only for `cargo fuzz` (`cfg(fuzzing)`) is not in the tests' build: a mutant
  # there changes nothing they run.
  local args=(--package "$pkg" --output "$OUT/$name" --no-shuffle --colors never
    --exclude-re 'replace fuzz(_parsers)? with')
  for f in $files; do args+=(--file "$f"); done
  # To both the build and the test run: only these test targets are built.
  for t in $tests; do args+=("--cargo-arg=$t"); done
  echo "== $name: $files"
  # Missed mutants make cargo-mutants exit non-zero; the table below judges.
  cargo mutants "${args[@]}" || true
}

V=src-tauri/vault/src
for area in ${MUTANTS_AREAS:-keys revision bundle purge media}; do
  case $area in
    keys) run keys vault "$V/crypto/keys.rs $V/crypto/passphrase.rs" \
      "--lib --test=keys --test=rotation --test=confirmation --test=strength --test=locked_memory --test=bundle" ;;
    revision) run revision vault "$V/revision.rs" \
      "--lib --test=forged_history --test=hostile_bundles --test=bundle --test=records" ;;
    bundle) run bundle vault "$V/bundle/import/check.rs $V/bundle/import/entries.rs $V/bundle/import/records.rs $V/bundle/import/header.rs $V/bundle/import/decrypt.rs" \
      "--lib --test=hostile_bundles --test=hostile_headers --test=forged_history --test=bundle --test=age_testkit --test=split_bundles --test=import_memory" ;;
    purge) run purge vault "$V/store/purge.rs" \
      "--lib --test=records --test=purge_races --test=integrity --test=bundle" ;;
    media) run media kuager-media "src-tauri/media/src/lib.rs" "--lib" ;;
    *) echo "unknown area $area (keys revision bundle purge media)" >&2; exit 2 ;;
  esac
done

# The table: viable mutants are those that built; caught includes those that timed out.
python3 - "$OUT" ${MUTANTS_AREAS:-keys revision bundle purge media} <<'PY'
import json, sys, os
out, areas = sys.argv[1], sys.argv[2:]
print(f"{'area':10} {'mutants':>8} {'unviable':>9} {'caught':>7} {'timeout':>8} {'missed':>7} {'caught %':>9}")
worst = 100.0
for a in areas:
    p = os.path.join(out, a, "mutants.out", "outcomes.json")
    if not os.path.exists(p):
        print(f"{a:10} (no result)"); worst = 0; continue
    o = json.load(open(p))
    viable = o["caught"] + o["missed"] + o["timeout"]
    pct = 100.0 * (o["caught"] + o["timeout"]) / viable if viable else 100.0
    worst = min(worst, pct)
    print(f"{a:10} {o['total_mutants']:>8} {o['unviable']:>9} {o['caught']:>7} {o['timeout']:>8} {o['missed']:>7} {pct:>8.1f}%")
    missed = os.path.join(out, a, "mutants.out", "missed.txt")
    for line in open(missed).read().splitlines() if os.path.exists(missed) else []:
        print(f"    missed: {line}")
sys.exit(0 if worst >= 90 else 1)
PY
