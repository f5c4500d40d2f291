#!/usr/bin/env bash
# `make run` until the desktop app lands (issue #4): the command-line quick start.
# Opens (or creates) the default vault and shows what you can do with it.
set -euo pipefail
cd "$(dirname "$0")/../.."
K="$PWD/target/release/kuager"
vault_dir="${KUAGER_VAULT:-${XDG_DATA_HOME:-$HOME/.local/share}/kuager/default}"

cat <<TXT
Kuager — command-line quick start
(The desktop app comes with issue #4; until then \`make run\` starts this.)

The kuager command is built at: $K
Your default vault is: $vault_dir
TXT

if [ ! -f "$vault_dir/vault.json" ]; then
  if [ -t 0 ]; then
    echo
    echo "There is no vault yet. Creating one now: choose a passphrase (asked twice)."
    "$K" init
  else
    echo
    echo "There is no vault yet. Create one with:  $K init"
  fi
fi

cat <<TXT

Try:
  $K add person <<< '{"names":[{"value":"Сенбай Нұрахен","script":"cyrl"},{"value":"Senbay Nurakhen","script":"latn"}]}'
  $K list
  $K search senbai            # finds Сенбай from any spelling
  $K add testimony <<< '{"witness":"<person id>","narrative":"…"}'
  $K attach <record id> interview.ogg --caption "first interview"
  $K history <record id>
  $K verify
  $K --help

A demo vault with synthetic kk/ru/en records:  make demo   (prints its passphrase)
TXT
