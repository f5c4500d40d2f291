# Sourced by the packaging scripts (package.sh, test-package.sh, test-upgrade.sh): the tree's
# root as the working folder, sudo when not root, `fail` in the script's name, and the version
# being packaged (the workspace's Cargo.toml, its one source).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
fail() { echo "$(basename "$0" .sh): $*" >&2; exit 1; }
version="$(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "kuager-app"))')"
