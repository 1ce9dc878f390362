/* nm_error, nm_log, nm_time, nm_alloc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nm_alloc.h"
#include "nm_error.h"
#include "nm_log.h"
#include "nm_sbuf.h"
#include "nm_test.h"
#include "nm_time.h"

static void errors_carry_context(void **state)
{
    (void)state;
    nm_error err;
    nm_error_clear(&err);
    assert_int_equal(err.code, NM_OK);
    assert_int_equal(nm_error_set(&err, NM_ERR_DISK_FULL, "writing %s", "spool"), -1);
    assert_int_equal(nm_error_prefix(&err, "submit batch %d", 3), -1);
    assert_string_equal(err.msg, "submit batch 3: writing spool");
    assert_int_equal(err.code, NM_ERR_DISK_FULL);
    assert_string_equal(nm_errcode_name(err.code), "disk-full");
    assert_string_equal(nm_errcode_name((nm_errcode)999), "unknown");
    assert_int_equal(nm_error_set(NULL, NM_ERR_IO, "ignored"), -1);
    for (int c = 0; c < NM_ERRCODE_COUNT; c++)
        assert_string_not_equal(nm_errcode_name((nm_errcode)c), "unknown");
}

static void log_is_one_line_per_event(void **state)
{
    (void)state;
    const char *path = nm_test_path("log.txt");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int saved = dup(2);
    dup2(fd, 2);
    nm_log_init("newsmill-test");
    nm_log_set_level(NM_LOG_INFO);
    nm_log_info("spool opened path=%s", "x.db");
    nm_log_debug("dropped at info level");
    nm_log_warn("multi\nline\nmessage");
    dup2(saved, 2);
    close(saved);
    close(fd);
    char *text = nm_test_read_file(path, NULL);
    int lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);
    assert_non_null(strstr(text, "newsmill-test["));
    assert_non_null(strstr(text, "] info: spool opened path=x.db\n"));
    assert_non_null(strstr(text, "] warn: multi line message\n"));
    assert_null(strstr(text, "dropped"));
    free(text);
    nm_log_level lvl;
    assert_int_equal(nm_log_level_parse("debug", &lvl), 0);
    assert_int_equal(lvl, NM_LOG_DEBUG);
    assert_int_equal(nm_log_level_parse("loud", &lvl), -1);
}

static void time_parsing(void **state)
{
    (void)state;
    struct {
        const char *text;
        int64_t want;
    } ok[] = {
        {"1970-01-01", 0},
        {"2024-05-01T10:00:00Z", 1714557600000},
        {"2024-05-01T12:00:00+02:00", 1714557600000},
        {"2024-05-01 10:00:00.250Z", 1714557600250},
        {"1714557600", 1714557600000},
        {"1714557600000", 1714557600000},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t ms = -1;
        nm_error err;
        if (nm_time_parse(ok[i].text, &ms, &err) != 0 || ms != ok[i].want)
            fail_msg("'%s' -> %lld (%s)", ok[i].text, (long long)ms, err.msg);
    }
    const char *bad[] = {"yesterday", "2024-13-01", "2024-05-01T25:00", "", "12ab"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms;
        nm_error err;
        if (nm_time_parse(bad[i], &ms, &err) != -1 || err.code != NM_ERR_INVALID)
            fail_msg("'%s' was accepted", bad[i]);
    }
    char buf[32];
    assert_string_equal(nm_time_format_iso(1714557600250, buf, sizeof buf), "2024-05-01T10:00:00.250Z");
    int64_t ms;
    assert_int_equal(nm_duration_parse_ms("250ms", &ms, NULL), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(nm_duration_parse_ms("1.5s", &ms, NULL), 0);
    assert_int_equal(ms, 1500);
    assert_int_equal(nm_duration_parse_ms("2h", &ms, NULL), 0);
    assert_int_equal(ms, 7200000);
    assert_int_equal(nm_duration_parse_ms("5 parsecs", &ms, NULL), -1);
    int64_t a = nm_time_mono_ns(), b = nm_time_mono_ns();
    assert_true(b >= a);
    assert_true(nm_time_unix_ms() > 1700000000000);
}

static void sbuf_numbers_and_reset(void **state)
{
    (void)state;
    nm_sbuf b = NM_SBUF_INIT;
    static const uint64_t values[] = {0, 7, 10, 4294967295u, UINT64_MAX};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        nm_sbuf_uint(&b, values[i]);
        nm_sbuf_append(&b, " ", 1);
    }
    assert_string_equal(nm_sbuf_str(&b), "0 7 10 4294967295 18446744073709551615 ");
    nm_sbuf_reset(&b);
    assert_string_equal(nm_sbuf_str(&b), "");
    assert_int_equal(b.len, 0);
    nm_sbuf_uint(&b, 42);
    assert_string_equal(nm_sbuf_str(&b), "42");
    nm_sbuf_free(&b);
}

static void alloc_helpers(void **state)
{
    (void)state;
    char *s = nm_xstrndup("Kalın met", 6);
    assert_string_equal(s, "Kalın");
    free(s);
    assert_null(nm_xstrdup(NULL));
    void *p = nm_xcalloc(0, 0);
    assert_non_null(p);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(errors_carry_context),
        cmocka_unit_test(log_is_one_line_per_event),
        cmocka_unit_test(time_parsing),
        cmocka_unit_test(alloc_helpers),
        cmocka_unit_test(sbuf_numbers_and_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
