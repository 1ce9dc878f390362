/* nm_utf8: a table of valid and invalid sequences, decoding and repair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "nm_utf8.h"

static void validation_table(void **state)
{
    (void)state;
    struct {
        const char *what, *bytes;
        size_t len;
        bool valid;
        size_t bad;
    } cases[] = {
        {"ascii", "Ankara", 6, true, 0},
        {"turkish", "Kal\xc4\xb1n", 6, true, 0},
        {"curly quote", "Israel\xe2\x80\x99s", 10, true, 0},
        {"portuguese", "S\xc3\xa3o Paulo", 10, true, 0},
        {"emoji", "\xf0\x9f\x93\xb0", 4, true, 0},
        {"nul is valid", "a\0b", 3, true, 0},
        {"lone continuation", "ab\x80", 3, false, 2},
        {"overlong slash", "\xc0\xaf", 2, false, 0},
        {"overlong 3-byte", "\xe0\x80\xaf", 3, false, 0},
        {"surrogate", "x\xed\xa0\x80", 4, false, 1},
        {"above U+10FFFF", "\xf4\x90\x80\x80", 4, false, 0},
        {"truncated", "abc\xe2\x80", 5, false, 3},
        {"latin-1 byte", "caf\xe9 au lait", 12, false, 3},
        {"long ascii then bad", "0123456789abcdef\xff", 17, false, 16},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t bad = 999;
        bool ok = nm_utf8_valid(cases[i].bytes, cases[i].len, &bad);
        if (ok != cases[i].valid || (!ok && bad != cases[i].bad))
            fail_msg("case '%s': valid=%d bad=%zu", cases[i].what, ok, bad);
    }
}

static void decode_encode_repair(void **state)
{
    (void)state;
    const char *s = "Kal\xc4\xb1n\xff!";
    size_t pos = 0, len = strlen(s);
    uint32_t cps[8];
    size_t n = 0;
    while (pos < len)
        cps[n++] = nm_utf8_next(s, len, &pos);
    assert_int_equal(n, 7);
    assert_int_equal(cps[3], 0x131); /* dotless i */
    assert_int_equal(cps[5], 0xFFFD);
    char buf[4];
    assert_int_equal(nm_utf8_encode(0x131, buf), 2);
    assert_memory_equal(buf, "\xc4\xb1", 2);
    assert_int_equal(nm_utf8_encode(0x1F4F0, buf), 4);
    size_t out_len, repaired;
    char *fixed = nm_utf8_repair(s, len, &out_len, &repaired);
    assert_int_equal(repaired, 1);
    assert_string_equal(fixed, "Kal\xc4\xb1n\xef\xbf\xbd!");
    assert_true(nm_utf8_valid(fixed, out_len, NULL));
    free(fixed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(validation_table),
        cmocka_unit_test(decode_encode_repair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
