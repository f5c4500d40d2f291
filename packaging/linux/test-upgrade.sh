#!/usr/bin/env bash
# `make test-upgrade`: an upgrade keeps every vault. The package of the previous release
# (packaging/previous-release: its tag and commit) is built from its own source, as that
# release's `make deb` built it, and installed; its `kuager` makes a vault with people, a
# testimony, an attachment, a bundle already sent and a person added since (a pending export),
# and a draft written by that release's own vault code (packaging/linux/upgrade/fixture.rs).
# Then the package `make package` built from this tree is installed over it, and everything is
# found: the records, the attachment (verify checks every file's hash), the draft and the copy
# of the database kept before its schema update (packaging/linux/upgrade/check.rs), the pending
# export (the next `export --since-last` carries the person added after the last bundle, read
# back with Go age and tar).
# Needs root (or sudo); builds the previous release once (its worktree in target/upgrade/).
source "$(dirname "$0")/common.sh"
started=$(date +%s)

read -r tag sha < <(grep -v '^#' packaging/previous-release | head -1)
git cat-file -e "$sha^{commit}" 2>/dev/null \
  || fail "the previous release $tag ($sha) is not in this clone's history: fetch it (git fetch --unshallow)"
old="$root/target/upgrade/$tag"
if [ ! -e "$old/.git" ]; then
  git worktree add --detach "$old" "$sha" >/dev/null
fi

# The previous release's .deb, built once, by its own Makefile. Its build shares this tree's
# target folder: the crates both releases use are compiled once (the two workspaces' own crates
# are told apart by their paths), which saves most of a cold release build.
[ -e "$old/target" ] || ln -s "$root/target" "$old/target"
old_version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$old/Cargo.toml" | head -1)"
old_deb="$root/target/release/bundle/deb/Kuager_${old_version}_amd64.deb"
if [ ! -e "$old_deb" ]; then
  echo "test-upgrade: building $tag's package (once; kept in target/release/bundle/deb/)"
  (cd "$old" && make deb)
  # Its binaries took this tree's names in the shared folder: removed, so that this tree's next
  # build links its own again rather than taking them for up to date.
  rm -f "$root/target/release/kuager-app" "$root/target/release/kuager"
fi
[ -e "$old_deb" ] || fail "$tag's build made no $old_deb"
# Its vault code writes the draft: the fixture is built in its worktree, against it.
mkdir -p "$old/src-tauri/bench/examples"
cp packaging/linux/upgrade/fixture.rs "$old/src-tauri/bench/examples/upgrade_fixture.rs"
(cd "$old" && cargo build -q --release --locked -p kuager-bench --example upgrade_fixture)
fixture="$old/target/release/examples/upgrade_fixture"

new_deb="$(ls "$root"/target/release/bundle/deb/Kuager_"$version"_*.deb 2>/dev/null)" \
  || fail "no .deb of version $version: run make package first"
[ "$old_version" != "$version" ] || fail "the previous release is version $version too"
cargo build -q --release --locked -p kuager-bench --example upgrade-check
check="$root/target/release/examples/upgrade-check"

# A user of the previous release.
sandbox="$(mktemp -d)"
trap 'rm -rf "$sandbox"' EXIT
home="$sandbox/home"
mkdir -p "$home" "$sandbox/tmp"
printf 'upgrade juniper harbour seventy nine\n' > "$sandbox/pass"
as_user() {
  env -i PATH=/usr/bin:/bin HOME="$home" TMPDIR="$sandbox/tmp" LANG=C.UTF-8 \
    KUAGER_PASSPHRASE_FILE="$sandbox/pass" "$@"
}
vault="$home/.local/share/kuager/default"
age-keygen -o "$sandbox/coordinator.txt" 2>/dev/null
coordinator="$(grep -o 'age1[0-9a-z]*' "$sandbox/coordinator.txt" | head -1)"

refuse_to_replace_installed
$SUDO apt-get purge -y -qq kuager >/dev/null 2>&1 || true
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$old_deb" >/dev/null
[ "$(/usr/bin/kuager --version)" = "kuager $old_version" ] || fail "the previous release did not install"
echo "test-upgrade: $tag ($old_version) installed"

as_user kuager init >/dev/null
as_user kuager recipients add "$coordinator" --label coordinators >/dev/null
witness="$(echo '{"names":[{"value":"Сенбай Нұрахен"}]}' | as_user kuager add person | tail -1)"
testimony="$(printf '{"witness":"%s","narrative":"Told in Almaty in 2019."}' "$witness" \
  | as_user kuager add testimony | tail -1)"
head -c 200000 /dev/urandom > "$sandbox/scan.bin"
as_user kuager attach "$testimony" "$sandbox/scan.bin" >/dev/null
sha_scan="$(sha256sum "$sandbox/scan.bin" | cut -d' ' -f1)"
as_user kuager export -o "$sandbox/first.age" >/dev/null
later="$(echo '{"names":[{"value":"Айгерім Қасымова"}]}' | as_user kuager add person | tail -1)"
draft="Unsaved words of a witness, kept while typing"
KUAGER_PASSPHRASE_FILE="$sandbox/pass" "$fixture" "$vault" "$testimony" "$draft"

# The upgrade.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$new_deb" >/dev/null
[ "$(/usr/bin/kuager --version)" = "kuager $version" ] || fail "the new package did not install over $old_version"
echo "test-upgrade: upgraded to $version"

as_user kuager verify >/dev/null || fail "verify failed after the upgrade"
list="$(as_user kuager list)"
for want in "Сенбай Нұрахен" "Айгерім Қасымова"; do
  grep -q "$want" <<<"$list" || fail "$want is missing after the upgrade"
done
as_user kuager show "$testimony" | grep -q "Told in Almaty" || fail "the testimony changed"
as_user kuager show "$testimony" --json | grep -q "$sha_scan" || fail "the attachment's fingerprint is not $sha_scan"
KUAGER_PASSPHRASE_FILE="$sandbox/pass" "$check" "$vault" "$testimony" "$draft"
# The pending export: what was added after the last bundle goes in the next.
as_user kuager export --since-last -o "$sandbox/next.age" >/dev/null
age -d -i "$sandbox/coordinator.txt" -o "$sandbox/next.tar" "$sandbox/next.age"
mkdir "$sandbox/next"
tar -xf "$sandbox/next.tar" -C "$sandbox/next"
grep -rq "$later" "$sandbox/next" || fail "the person added after the last bundle is not in the next"
if grep -rq "$witness" "$sandbox/next"; then fail "the next bundle carries what the last one sent"; fi
echo "test-upgrade: records, attachment, draft, backup and the pending export kept"

$SUDO apt-get purge -y -qq kuager >/dev/null
echo "test-upgrade: $old_version → $version kept everything ($(( $(date +%s) - started )) s)"
