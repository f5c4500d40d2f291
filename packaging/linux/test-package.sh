#!/usr/bin/env bash
# `make test-package`: the .deb that `make package` built, installed on this machine as an IT
# volunteer installs it, used, and removed.
#   1. apt-get installs it (its dependencies resolved by apt, as on any Debian or Ubuntu);
#   2. the installed `kuager --version` says the package's version;
#   3. the installed app starts under Xvfb on a vault the installed `kuager` made, and its
#      unlock screen takes the passphrase typed at it (xdotool: a release build cannot be
#      driven by WebDriver, by design) and unlocks the vault — the vault's own audit log says
#      so; a screenshot is kept in target/package/installed-app.png; and it leaves nothing in
#      that user's home but the vault and ~/.config/kuager;
#   4. apt-get purges it: none of its files is left, and nothing named kuager outside this tree.
# Needs root (or sudo): it installs a package.
source "$(dirname "$0")/common.sh"
deb="$(ls "$root"/target/release/bundle/deb/Kuager_"$version"_*.deb 2>/dev/null)" \
  || fail "no .deb of version $version: run make package first"
name="$(dpkg-deb -f "$deb" Package)"
refuse_to_replace_installed
if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'install ok installed'; then
  echo "test-package: removing the $name already installed"
  $SUDO apt-get purge -y -qq "$name" >/dev/null
fi

started=$(date +%s)
echo "test-package: installing $(basename "$deb")"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
files="$(dpkg -L "$name")"
[ "$(dpkg-query -W -f='${Version}' "$name")" = "$version" ] || fail "the installed package is not $version"
[ "$(command -v kuager)" = /usr/bin/kuager ] || fail "kuager is not /usr/bin/kuager on PATH"
[ "$(kuager --version)" = "kuager $version" ] || fail "kuager --version says '$(kuager --version)', not 'kuager $version'"
man -w kuager >/dev/null 2>&1 || [ -e /usr/share/man/man1/kuager.1.gz ] || fail "no manual page for kuager"
echo "test-package: kuager --version says $version"

bash packaging/linux/try-installed.sh "$root/target/package/installed-app.png"

echo "test-package: removing $name"
$SUDO apt-get purge -y -qq "$name" >/dev/null
left=()
while IFS= read -r f; do
  # Folders the package shared with others (/usr/bin, /usr/share/…) stay, as they should.
  if [ -e "$f" ] && [ ! -d "$f" ]; then left+=("$f"); fi
done <<<"$files"
[ "${#left[@]}" -eq 0 ] || fail "files of the package left after purge: ${left[*]}"
stray="$(find / -xdev \( -path /proc -o -path /sys -o -path "$root" -o -path /var/cache/apt \
  -o -path /var/lib/dpkg -o -path /var/log \) -prune -o -iname '*kuager*' -newermt "@$started" -print 2>/dev/null || true)"
[ -z "$stray" ] || fail "left behind after purge: $stray"
echo "test-package: installed, used and purged in $(( $(date +%s) - started )) s; nothing left"
