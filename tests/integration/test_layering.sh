#!/usr/bin/env bash
# The folder layering the build declares holds (scripts/check-layering): no
# cycle between folders, no #include or symbol use that points up or across
# to a folder not linked, private (internal/) headers stay in their folder,
# and no cycle between the files of a folder without a stated reason.
set -euo pipefail
: "${NM_BUILD_DIR:?}" "${NM_SOURCE_DIR:?}"
command -v nm >/dev/null || { echo "nm (binutils) not found: skipped"; exit 77; }
python3 "$NM_SOURCE_DIR/scripts/check-layering" "$NM_BUILD_DIR"
