#!/usr/bin/env bash
# `make package`: the .deb and .rpm of Kuager, built offline with Tauri's bundler, each holding
# the desktop app and the `kuager` command with its manual pages and shell completions.
#
# Everything installed is made here from one source each (packaging/README.md):
#   version       the workspace's Cargo.toml (the app, the CLI and the packages read it there)
#   icons         packaging/icons/kuager.svg (packaging/icons.sh)
#   desktop entry packaging/linux/kuager.desktop (a template Tauri fills in)
#   metainfo      packaging/linux/metainfo.py, its release notes from CHANGELOG.md
#   man, completions  the CLI's clap definition (`kuager-docs`, src-tauri/cli/src/bin)
#   dependencies  the binaries themselves: dpkg-shlibdeps for the .deb, their ELF needs for the
#                 .rpm (what rpm's own dependency generator would write)
# and each is checked by the tool its users' systems check it with (desktop-file-validate,
# appstreamcli validate --no-net) before the script says it is done.
source "$(dirname "$0")/common.sh"
out="$root/target/package"
rm -rf "$out"
mkdir -p "$out"

# Dates inside the packages (the metainfo's unreleased release, file times) are the last
# commit's, so the same tree gives the same packages.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH="$(git log -1 --format=%ct 2>/dev/null || date +%s)"
fi
export SOURCE_DATE_EPOCH
echo "package: Kuager $version"

bash packaging/icons.sh

# The CLI first: its manual pages and completions come from the binary built from this tree.
cargo build --release --locked -p kuager-cli --bins
target/release/kuager-docs "$out"
gzip -9n "$out"/man/*.1
python3 packaging/linux/metainfo.py "$version" CHANGELOG.md "$out/org.kuager.desktop.metainfo.xml"
appstreamcli validate --no-net "$out/org.kuager.desktop.metainfo.xml" >/dev/null

# The app, built as Tauri builds it for release (its assets embedded), then its packages, whose
# files and dependencies are known only now that the binaries exist.
(cd src-tauri && ../ui/node_modules/.bin/tauri build --ci --no-bundle)
python3 packaging/linux/package-config.py "$root" "$out" > "$out/tauri.package.json"
(cd src-tauri && ../ui/node_modules/.bin/tauri bundle --ci --bundles deb,rpm --config "$out/tauri.package.json")

deb="$(ls target/release/bundle/deb/Kuager_"$version"_*.deb)"
rpm="$(ls target/release/bundle/rpm/Kuager-"$version"-*.rpm)"
bash packaging/linux/check-package.sh "$deb" "$rpm" "$version"
echo "package: $deb"
echo "package: $rpm"
