#!/usr/bin/env bash
# `make check-targets`: `cargo check` of the vault, the `kuager` command and the desktop app for
# the other systems Kuager is meant for, where their toolchain can be had on Debian:
#   x86_64-pc-windows-gnu   the Rust target from rustup, C compilers from MinGW-w64 (apt);
#   *-apple-darwin          not here: the C parts (SQLCipher's OpenSSL, libopus) need Apple's
#                           SDK, which only a Mac provides (packaging/README.md).
# Prints one line per target: checked, or why not.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-pc-windows-gnu
if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi
if ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 >/dev/null
fi
start=$(date +%s)
# Warnings fail the check as they fail the Linux build (only our crates' are shown: cargo caps
# the dependencies' lints). Code behind `cfg(unix)` or `cfg(target_os = "linux")` is seen here.
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
cargo check --locked --target "$target" -p vault -p kuager-cli -p kuager-app 2>&1 | tee "$out"
if grep -q '^warning' "$out"; then
  echo "check-targets: $target has warnings (above): fix them as on Linux" >&2
  exit 1
fi
echo "check-targets: $target checked in $(( $(date +%s) - start )) s"
echo "check-targets: x86_64-apple-darwin, aarch64-apple-darwin not checked: Apple's SDK is not available here"
