# Reads ctest's Testing/Temporary/LastTest.log (every test's full output) and
# prints one line per skip: "TEST<TAB>CASE<TAB>WHY".
#   - a test case that cmocka skipped ("[  SKIPPED ] CASE"), with the reason
#     nm_test_skip printed ("NM-SKIP: CASE: WHY");
#   - a part of a test case that did not run ("NM-SKIP: WHAT: WHY" alone,
#     from nm_test_skip_part);
#   - a whole test that ctest reports as skipped (exit 77): pass their names
#     in -v skipped="NAME NAME..."; CASE is "*", WHY the line its output gave
#     ("NM-SKIP: *: WHY" from nm_test_skip_program, or "SKIP: WHY" from a
#     shell test).
# A test run twice (ctest --repeat) is read from its last run.
# Used by scripts/test; see tests/support/nm_test.h.
function forget(name,   k) {
    for (k in cases) if (index(k, name SUBSEP) == 1) delete cases[k]
    for (k in why) if (index(k, name SUBSEP) == 1) delete why[k]
    delete program_why[name]
}
/^[0-9]+\/[0-9]+ Testing: / { name = $3; forget(name); names[name] = 1; next }
name == "" { next }
/^<end of output>$/ { name = ""; next }
/^\[  SKIPPED \] [^ ]+$/ { cases[name, $4] = 1; next }
/^NM-SKIP: / {
    rest = substr($0, 10); c = substr(rest, 1, index(rest, ": ") - 1)
    w = substr(rest, length(c) + 3)
    if (c == "*") program_why[name] = w; else why[name, c] = w
    next
}
/^SKIP/ { if (!(name in program_why)) program_why[name] = $0; next }
END {
    n = split(skipped, whole, " ")
    for (i = 1; i <= n; i++) {
        w = (whole[i] in program_why) ? program_why[whole[i]] : "(its output gave no reason)"
        printf "%s\t*\t%s\n", whole[i], w
        is_whole[whole[i]] = 1
    }
    for (k in cases) {
        split(k, part, SUBSEP)
        if (part[1] in is_whole) continue
        w = (k in why) ? why[k] : "(no reason printed: use nm_test_skip)"
        printf "%s\t%s\t%s\n", part[1], part[2], w
    }
    for (k in why) { # a part of a case that did not run (nm_test_skip_part)
        split(k, part, SUBSEP)
        if (part[1] in is_whole || k in cases) continue
        printf "%s\t%s\t%s\n", part[1], part[2], why[k]
    }
}
