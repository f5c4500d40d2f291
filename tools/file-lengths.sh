#!/usr/bin/env bash
# No source file over 700 lines (docs/architecture.md "Keeping it readable"): a file that long
# holds two concerns. Generated files are exempt (ui/src/lib/types.ts, from the Rust IPC types).
set -euo pipefail
cd "$(dirname "$0")/.."
limit=700
long=$(git ls-files -co --exclude-standard -- '*.rs' '*.ts' '*.svelte' '*.js' '*.css' '*.sh' '*.py' \
  | grep -v -e '^ui/src/lib/types.ts$' -e '/node_modules/' -e '^fuzz/corpus/' \
  | while read -r f; do [ -f "$f" ] && n=$(wc -l <"$f") && [ "$n" -gt "$limit" ] && echo "  $f: $n lines"; done || true)
if [ -n "$long" ]; then
  echo "files over $limit lines (split each by concern):"
  echo "$long"
  exit 1
fi
echo "file lengths: every source file is at most $limit lines"
