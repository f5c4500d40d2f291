#!/usr/bin/env bash
# The supply chain, checked in `make test`:
# - cargo deny (deny.toml): licences, sources (crates.io only), banned patterns, and RustSec
#   advisories. Advisories come from a snapshot of the RustSec database when the machine has one
#   beside the project (../shared/advisory-db, as CI machines here do: nothing reaches the
#   database's upstream), else cargo-deny fetches the database; if neither works, this says
#   plainly that advisories were not checked and checks the rest.
# - npm audit of the UI's production dependencies, skipped with a message only when the npm
#   registry does not answer.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every crate of every platform, downloaded, so that cargo deny can run offline.
cargo fetch --locked -q

db_root=target/advisory-db
# cargo-deny's folder for https://github.com/rustsec/advisory-db.
db="$db_root/advisory-db-3157b0e258782691"
snapshot=../shared/advisory-db
advisories=unchecked
if [ -f "$snapshot/SNAPSHOT.txt" ]; then
  # A git repository whose one commit is dated as the snapshot (cargo-deny reads the date to
  # refuse a stale database); rebuilt only when the snapshot changes.
  if ! cmp -s "$snapshot/SNAPSHOT.txt" "$db/SNAPSHOT.txt"; then
    rm -rf "$db" && mkdir -p "$db"
    cp -a "$snapshot/." "$db/"
    date=$(grep -oE '[0-9]{4}-[0-9]{2}-[0-9]{2}' "$snapshot/SNAPSHOT.txt" | head -1)
    (cd "$db" && git init -q && git add -A \
      && GIT_AUTHOR_DATE="${date}T00:00:00Z" GIT_COMMITTER_DATE="${date}T00:00:00Z" \
         git -c user.name=kuager -c user.email=kuager@localhost commit -q -m "RustSec snapshot")
  fi
  echo "supply chain: advisories from the RustSec snapshot ($(head -c 80 "$snapshot/SNAPSHOT.txt" | tr -d '\n')…)"
  advisories=checked
elif cargo deny fetch db >/dev/null 2>&1; then
  echo "supply chain: advisories from the RustSec database, fetched now"
  advisories=checked
fi
if [ "$advisories" = checked ]; then
  cargo deny --offline check
else
  echo "supply chain: ADVISORIES WERE NOT CHECKED: no RustSec snapshot beside the project and the database could not be fetched"
  cargo deny --offline check bans licenses sources
fi

# The UI's production dependencies (what ships inside the app). A report with vulnerabilities
# fails; no report at all (no registry, or one without the audit service) is said and skipped.
report=$(cd ui && npm audit --omit=dev --json 2>/dev/null || true)
verdict=$(printf '%s' "$report" | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    let j; try { j = JSON.parse(s); } catch { j = {}; }
    if (j.metadata && j.metadata.vulnerabilities) console.log("found " + j.metadata.vulnerabilities.total);
    else console.log("none: " + (j.statusCode || j.message || "no answer"));
  });')
case "$verdict" in
  "found 0") echo "supply chain: npm audit of the UI's production dependencies: no known vulnerability" ;;
  found*) (cd ui && npm audit --omit=dev) || true; echo "supply chain: npm audit $verdict vulnerabilities"; exit 1 ;;
  *) echo "supply chain: npm audit SKIPPED: the npm registry gave no audit report (${verdict#none: })" ;;
esac
