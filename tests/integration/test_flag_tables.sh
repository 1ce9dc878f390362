#!/usr/bin/env bash
# README's flag tables agree with the programs' --help (every flag, its
# default and its meaning): scripts/readme-flags --check.
set -uo pipefail
: "${NM_BIN_DIR:?}" "${NM_SOURCE_DIR:?}"
/usr/bin/python3 "$NM_SOURCE_DIR/scripts/readme-flags" --check "$NM_BIN_DIR"
