#!/usr/bin/env bash
# Every icon of Kuager from its one source, packaging/icons/kuager.svg:
# - src-tauri/icons/WxH.png at each size of the freedesktop icon theme (the .deb and .rpm
#   install them under /usr/share/icons/hicolor), and icon.png (the window's);
# - icon.ico and icon.icns for the Windows and macOS builds (packaging/README.md), by Tauri's
#   own `tauri icon` when the UI's packages are installed.
# The PNGs are checked in (a plain `cargo build` embeds icon.png); `make package` redraws them
# first, so a package always carries the SVG as it is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
svg="$root/packaging/icons/kuager.svg"
dest="$root/src-tauri/icons"
command -v rsvg-convert >/dev/null || { echo "icons: rsvg-convert missing (apt install librsvg2-bin; make deps does)" >&2; exit 1; }
mkdir -p "$dest"
for size in 16 24 32 48 64 128 256 512; do
  rsvg-convert -w "$size" -h "$size" "$svg" -o "$dest/${size}x${size}.png"
done
cp "$dest/512x512.png" "$dest/icon.png"
tauri="$root/ui/node_modules/.bin/tauri"
if [ -x "$tauri" ]; then
  tmp="$(mktemp -d)"
  "$tauri" icon "$svg" -o "$tmp" >/dev/null 2>&1 || { echo "icons: tauri icon failed" >&2; exit 1; }
  # `tauri icon` writes the .icns's entries in a different order each run, the .ico the same
  # bytes: the same .ico means the same drawing, and the checked-in .icns is kept (a package
  # build leaves the tree as it was).
  cmp -s "$tmp/icon.ico" "$dest/icon.ico" || cp "$tmp/icon.ico" "$tmp/icon.icns" "$dest/"
  rm -rf "$tmp"
fi
