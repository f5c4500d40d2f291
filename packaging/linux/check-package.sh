#!/usr/bin/env bash
# Checks a .deb and an .rpm of Kuager as a distribution's tools would, without installing them
# (packaging/linux/test-package.sh installs the .deb):
#   check-package.sh KUAGER.deb KUAGER.rpm VERSION
# Fails, saying what is wrong, on: a desktop entry desktop-file-validate refuses; metainfo
# appstreamcli refuses; a binary with symbols or debug sections; a missing manual page,
# completion or icon size; a dependency list without the libraries the binaries link; a version
# that is not VERSION.
set -euo pipefail
deb="$1" rpm="$2" version="$3"
fail() { echo "check-package: $*" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp/deb"
info="$(dpkg-deb -f "$deb")"

[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "the .deb is version $(dpkg-deb -f "$deb" Version), not $version"
[ "$(rpm -qp --qf '%{VERSION}' "$rpm" 2>/dev/null)" = "$version" ] || fail "the .rpm is not version $version"

# What each package holds: the same files in both (zsh's folder differs by distribution).
want=(
  usr/bin/kuager-app usr/bin/kuager
  usr/share/applications/Kuager.desktop
  usr/share/metainfo/org.kuager.desktop.metainfo.xml
  usr/share/man/man1/kuager.1.gz
  usr/share/bash-completion/completions/kuager
  usr/share/fish/vendor_completions.d/kuager.fish
  usr/share/zsh/vendor-completions/_kuager
)
for size in 16 24 32 48 64 128 256 512; do
  want+=("usr/share/icons/hicolor/${size}x${size}/apps/kuager-app.png")
done
for f in "${want[@]}"; do
  [ -e "$tmp/deb/$f" ] || fail "the .deb has no /$f"
done
rpm_files="$(rpm -qpl "$rpm" 2>/dev/null)"
for f in "${want[@]/usr\/share\/zsh\/vendor-completions/usr/share/zsh/site-functions}"; do
  grep -qx "/$f" <<<"$rpm_files" || fail "the .rpm has no /$f"
done
# Every subcommand has its page.
for page in init add edit export import record verify; do
  [ -e "$tmp/deb/usr/share/man/man1/kuager-$page.1.gz" ] || fail "no manual page for kuager $page"
done
zcat "$tmp/deb/usr/share/man/man1/kuager.1.gz" | grep -q "$version" || fail "kuager.1 does not name version $version"

desktop-file-validate "$tmp/deb/usr/share/applications/Kuager.desktop" \
  || fail "desktop-file-validate refuses the desktop entry"
appstreamcli validate --no-net "$tmp/deb/usr/share/metainfo/org.kuager.desktop.metainfo.xml" >/dev/null \
  || fail "appstreamcli refuses the metainfo"

# Release binaries: stripped, no debug sections, no devtools.
for b in kuager-app kuager; do
  sections="$(readelf -S -W "$tmp/deb/usr/bin/$b")"
  if grep -qE '\.symtab|\.debug_' <<<"$sections"; then fail "/usr/bin/$b is not stripped"; fi
done
"$tmp/deb/usr/bin/kuager" --version | grep -qx "kuager $version" || fail "kuager --version does not say $version"

# Dependencies: the libraries the app links are declared, in both packages.
depends="$(dpkg-deb -f "$deb" Depends)"
for p in libc6 libgtk-3-0 libwebkit2gtk-4.1-0 libasound2 libssl3; do
  grep -q "$p" <<<"$depends" || fail "the .deb does not depend on $p (Depends: $depends)"
done
requires="$(rpm -qpR "$rpm" 2>/dev/null)"
for so in 'libc.so.6' 'libgtk-3.so.0' 'libwebkit2gtk-4.1.so.0' 'libasound.so.2'; do
  grep -q "^$so" <<<"$requires" || fail "the .rpm does not require $so"
done
# Recommended, in each package's names: a microphone through the sound server, video decoders,
# Opus for WebM.
deb_recommends="$(dpkg-deb -f "$deb" Recommends)"
for p in pipewire-alsa gstreamer1.0-libav gstreamer1.0-plugins-bad; do
  grep -q "$p" <<<"$deb_recommends" || fail "the .deb does not recommend $p (Recommends: $deb_recommends)"
done
rpm_recommends="$(rpm -qp --recommends "$rpm" 2>/dev/null)"
for p in pipewire-alsa gstreamer1-plugin-libav gstreamer1-plugins-bad-free; do
  grep -q "$p" <<<"$rpm_recommends" || fail "the .rpm does not recommend $p (Recommends: $rpm_recommends)"
done
echo "check-package: $(basename "$deb") and $(basename "$rpm") are well formed"
echo "$info" | sed -n 's/^\(Package\|Version\|Installed-Size\|Depends\|Recommends\):/  &/p'
