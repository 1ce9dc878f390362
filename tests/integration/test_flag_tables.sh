#!/usr/bin/env bash
# The flag tables of docs/flags.md agree with the programs' --help (every
# flag, its default and its meaning): scripts/flag-tables --check.
set -uo pipefail
: "${NM_BIN_DIR:?}" "${NM_SOURCE_DIR:?}"
/usr/bin/python3 "$NM_SOURCE_DIR/scripts/flag-tables" --check "$NM_BIN_DIR"
