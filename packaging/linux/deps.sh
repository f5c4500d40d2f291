#!/usr/bin/env bash
# Installs what building and testing Kuager needs on Debian/Ubuntu, idempotently.
# Only what is missing is installed; a machine that has everything is left untouched.
set -euo pipefail

need_apt=()
want() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$1"); }

# Build: a C compiler and make for SQLCipher, which links the system's libcrypto (libssl-dev,
# below); cmake for the libopus that recordings are encoded with (built from its own source by
# the opus crate); ALSA's headers for the microphone and speakers (cpal); perl for
# check-targets' vendored OpenSSL (Windows).
for p in build-essential pkg-config perl make file cmake libasound2-dev; do want "$p"; done
# The desktop app (Tauri 2 on WebKitGTK 4.1) and its end-to-end tests under Xvfb
# (WebKitWebDriver from webkit2gtk-driver, driven through tauri-driver).
for p in libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev \
         librsvg2-dev libayatana-appindicator3-dev libxdo-dev libssl-dev \
         xvfb xauth webkit2gtk-driver dbus-x11 fonts-noto-core fonts-noto-cjk strace; do want "$p"; done
# Reference tools we test against (written by others): Go age, minisign, a terminal driver.
for p in age minisign bsdutils python3-venv; do want "$p"; done
# The system file dialog in the coordinator's benchmark and end-to-end test, driven by keys.
want xdotool
# Recordings in the end-to-end tests: speech made with espeak-ng, sox and opusenc, played by the
# app's GStreamer into a PulseAudio null sink whose monitor parecord records.
# Recording tests: the same sound server's null sink as the room a microphone hears, reached
# through ALSA's PulseAudio plugin (libasound2-plugins) as the default input.
for p in espeak-ng sox libsox-fmt-base opus-tools pulseaudio pulseaudio-utils libasound2-plugins \
         gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-pulseaudio; do want "$p"; done
# Video in the end-to-end tests: an MP4 made by ffmpeg (H.264 and AAC, as phones write) and a
# WebM (VP9 and Opus, as browsers record), played by the app's GStreamer, whose H.264 and AAC
# decoders come from gstreamer1.0-libav and whose Opus parser (without which WebKit offers no
# Opus to Media Source Extensions) from gstreamer1.0-plugins-bad.
for p in ffmpeg gstreamer1.0-libav gstreamer1.0-plugins-bad; do want "$p"; done
# Packages (`make package`, packaging/README.md): icons drawn from the SVG, the checks a
# distribution runs on a desktop entry, AppStream metainfo and an .rpm, and ImageMagick's
# `import` for the screenshot of the installed app (`make test-package`).
for p in librsvg2-bin desktop-file-utils appstream rpm imagemagick; do want "$p"; done
# Locking on sleep in the end-to-end tests: a private message bus (dbus-daemon) and a stand-in
# logind in Debian's Python with GObject introspection (tests/e2e/fake_logind.py).
for p in dbus-daemon python3-gi; do want "$p"; done

if [ "${#need_apt[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "deps: installing ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# A second SQLCipher client, independent of ours, for the escape-hatch test (docs/recovery.md):
# Python's sqlcipher3 wheel bundles SQLCipher 4 (Debian's sqlcipher package is still 3.x).
venv="${KUAGER_TOOLS_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/target/tools}/py"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sqlcipher3' 2>/dev/null; then
  echo "deps: installing sqlcipher3 into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'sqlcipher3-binary==0.6.0'
fi

command -v cargo >/dev/null || { echo "deps: cargo not found; install Rust from rustup first" >&2; exit 1; }
for comp in rustfmt clippy; do
  if ! cargo "${comp/rustfmt/fmt}" --version >/dev/null 2>&1; then
    echo "deps: adding the Rust component $comp"
    rustup component add "$comp"
  fi
done
# The tools below are built from crates.io. Built for running a few times, not for speed: no
# optimisation, no link-time optimisation, parallel code generation; their build is most of what
# a fresh machine spends here (cargo-deny: 1.8 min instead of 2.6 optimised, and its check
# takes 8 s instead of 3; docs/benchmarks.md "CI time").
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=0
# Fuzzing (make test runs the cargo-fuzz targets briefly): the nightly toolchain and cargo-fuzz.
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "deps: installing the nightly Rust toolchain (for cargo fuzz)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "deps: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
# The supply-chain check in `make test` (tools/supply-chain.sh).
if ! cargo deny --version >/dev/null 2>&1; then
  echo "deps: installing cargo-deny"
  cargo install cargo-deny --locked --version '^0.20'
fi
# The end-to-end tests drive the real app through tauri-driver (stay on Tauri 2's driver).
if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]; then
  echo "deps: installing tauri-driver 2"
  cargo install tauri-driver --locked --version '^2'
fi
# The UI is built with Node.js (Vite needs 20.19 or newer) and its packages from npm.
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || { echo "deps: Node.js $(node --version) is too old for the UI build: install Node.js 20.19 or newer" >&2; exit 1; }
ui="$(cd "$(dirname "$0")/../.." && pwd)/ui"
if [ ! -d "$ui/node_modules" ] || [ "$ui/package-lock.json" -nt "$ui/node_modules/.package-lock.json" ]; then
  echo "deps: installing the UI's npm packages"
  (cd "$ui" && npm ci --no-audit --no-fund)
fi
echo "deps: ok"
