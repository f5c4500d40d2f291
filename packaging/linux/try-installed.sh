#!/usr/bin/env bash
# The installed Kuager used as a caseworker would, in a home of its own under Xvfb
# (packaging/linux/test-package.sh): /usr/bin/kuager makes a vault and adds a person;
# /usr/bin/kuager-app starts on it, shows its unlock screen, and the passphrase typed into that
# screen unlocks the vault (counted in the vault's audit log); then nothing but the vault and
# ~/.config/kuager is in the home.
#   try-installed.sh SCREENSHOT.png
set -euo pipefail
shot="$1"
fail() { echo "try-installed: $*" >&2; exit 1; }
sandbox="$(mktemp -d)"
app_pid=""
xvfb_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill -- -"$app_pid" 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$sandbox"
}
trap cleanup EXIT
home="$sandbox/home"
mkdir -p "$home" "$sandbox/tmp" "$sandbox/run"
chmod 700 "$sandbox/run"
pass="installed juniper harbour seventy nine"
printf '%s\n' "$pass" > "$sandbox/pass"
# Xvfb takes the first free display and writes its number once it accepts connections.
Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 3>"$sandbox/display" &
xvfb_pid=$!
for _ in $(seq 100); do [ -s "$sandbox/display" ] && break; kill -0 "$xvfb_pid" 2>/dev/null || break; sleep 0.1; done
[ -s "$sandbox/display" ] || { echo "try-installed: Xvfb did not start" >&2; exit 1; }
display=":$(tr -dc 0-9 < "$sandbox/display")"
user_env=(env -i PATH=/usr/bin:/bin HOME="$home" TMPDIR="$sandbox/tmp" XDG_RUNTIME_DIR="$sandbox/run"
  DISPLAY="$display" LANG=C.UTF-8 NO_AT_BRIDGE=1 WEBKIT_DISABLE_COMPOSITING_MODE=1
  KUAGER_PASSPHRASE_FILE="$sandbox/pass")
as_user() { "${user_env[@]}" "$@"; }
as_user /usr/bin/kuager init >/dev/null
echo '{"names":[{"value":"Сенбай Нұрахен"}]}' | as_user /usr/bin/kuager add person >/dev/null
unlocks() { as_user /usr/bin/kuager audit | grep -c 'vault unlocked' || true; }
before=$(unlocks)

# With a session bus of its own, as on a desktop (without one, GLib would start one and leave
# its address file in the home).
# In a process group of its own, so that stopping it stops the bus and the app's WebKit too.
setsid "${user_env[@]}" dbus-run-session -- /usr/bin/kuager-app >"$sandbox/app.log" 2>&1 &
app_pid=$!
win="$(DISPLAY="$display" timeout 60 xdotool search --sync --onlyvisible --name '^Kuager$' | head -1)" \
  || fail "the installed app showed no window in 60 s: $(tail -5 "$sandbox/app.log")"
# The unlock screen's passphrase field has the focus as it appears.
sleep 4
DISPLAY="$display" xdotool windowactivate --sync "$win" 2>/dev/null || true
DISPLAY="$display" xdotool type --delay 20 "$pass"
DISPLAY="$display" xdotool key Return
sleep 6
DISPLAY="$display" /usr/bin/import -window root "$shot" 2>/dev/null || true
kill -- -"$app_pid"
wait "$app_pid" 2>/dev/null || true
app_pid=""
after=$(unlocks)
# One more for the app's unlock, one for the `kuager audit` that counted them.
[ "$after" -eq $(( before + 2 )) ] \
  || fail "the passphrase typed at the installed app's unlock screen did not unlock the vault (unlocks: $before, then $after; screenshot: $shot)"
echo "try-installed: the installed app showed its unlock screen and unlocked the vault (screenshot: $shot)"

stray="$(cd "$home" && find . -type f ! -path './.local/share/kuager/*' ! -path './.config/kuager/*')"
[ -z "$stray" ] || fail "the installed app left files outside the vault and ~/.config/kuager: $stray"
echo "try-installed: nothing in the home but the vault and ~/.config/kuager"
