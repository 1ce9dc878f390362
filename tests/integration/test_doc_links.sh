#!/usr/bin/env bash
# Every relative link of README.md and docs/*.md points to a file that exists
# (and to a heading that exists when it names one): scripts/doc-links. First
# the checker is shown a page with broken links, to prove it sees them.
set -euo pipefail
: "${NM_SOURCE_DIR:?}"
. "$(dirname "$0")/../support/testlib.sh"
check=$NM_SOURCE_DIR/scripts/doc-links

cat >"$tmp/page.md" <<'PAGE'
# A page

## Two words, and `code`

[fine](page.md#two-words-and-code) [fine](#a-page) [a URL](https://example.invalid/x)
[gone](missing.md) [no such heading](#nope) `[code](not-a-link.md)`

```
[fenced](not-a-link-either.md)
```
PAGE
if /usr/bin/python3 "$check" "$tmp/page.md" >"$tmp/check.out" 2>&1; then
    fail "doc-links passed a page with broken links"
fi
grep -q "page.md:6: missing.md: no such file" "$tmp/check.out" || fail "missing file not reported"
grep -q "page.md:6: #nope: no heading #nope" "$tmp/check.out" || fail "missing heading not reported"
[ "$(grep -c 'page.md:' "$tmp/check.out")" -eq 2 ] || fail "reported more than the two broken links"

/usr/bin/python3 "$check"
