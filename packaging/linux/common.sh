# Sourced by the packaging scripts (package.sh, test-package.sh, test-upgrade.sh): the tree's
# root as the working folder, sudo when not root, `fail` in the script's name, and the version
# being packaged (the workspace's Cargo.toml, its one source).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
fail() { echo "$(basename "$0" .sh): $*" >&2; exit 1; }
# The package tests install and purge Kuager's package: on a machine where it is installed for
# use they would take it away (vaults in users' homes stay). They go on only when told to.
refuse_to_replace_installed() {
  if dpkg-query -W -f='${Status}' kuager 2>/dev/null | grep -q 'install ok installed' \
     && [ "${KUAGER_TEST_REPLACES_INSTALLED:-}" != 1 ]; then
    fail "Kuager $(dpkg-query -W -f='${Version}' kuager) is installed here, and this test would" \
      "remove it (the vaults in users' homes stay). Run it again with" \
      "KUAGER_TEST_REPLACES_INSTALLED=1 to go on, or on a build machine."
  fi
}
version="$(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "kuager-app"))')"
