/* nm_opts: parsing, defaults in --help, config files, and clear errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_opts.h"
#include "nm_test.h"

typedef struct config {
    const char *endpoint;
    int64_t credit, max_bytes, lease_ms;
    double ratio;
    bool verbose;
} config;

static size_t make_opts(config *c, nm_opt *o)
{
    nm_opt opts[] = {
        {"endpoint", 'e', NM_OPT_STRING, &c->endpoint, "ENDPOINT", "queue endpoint", 0, 0},
        {"credit", 'c', NM_OPT_INT, &c->credit, "N", "articles in flight", 1, 10000},
        {"max-bytes", 0, NM_OPT_BYTES, &c->max_bytes, "SIZE", "largest article", 0, 0},
        {"lease", 0, NM_OPT_DURATION, &c->lease_ms, "DURATION", "lease length", 0, 0},
        {"ratio", 0, NM_OPT_DOUBLE, &c->ratio, "X", "a ratio", 0, 1},
        {"verbose", 'v', NM_OPT_FLAG, &c->verbose, NULL, "log more", 0, 0},
    };
    memcpy(o, opts, sizeof opts);
    return sizeof opts / sizeof opts[0];
}

static config defaults(void)
{
    return (config){"tcp://127.0.0.1:5556", 64, 16 << 20, 30000, 0.5, false};
}

static void parses_everything(void **state)
{
    (void)state;
    config c = defaults();
    nm_opt o[8];
    size_t n = make_opts(&c, o);
    char *argv[] = {"prog", "--endpoint=tcp://h:1", "in.txt", "-c", "8", "--max-bytes", "2M",
                    "--lease", "5s", "-v", "--ratio", "0.25", "--", "--not-an-option", NULL};
    int first = 0;
    nm_error err;
    assert_int_equal(nm_opts_parse(o, n, 14, argv, &first, &err), 0);
    assert_string_equal(c.endpoint, "tcp://h:1");
    assert_int_equal(c.credit, 8);
    assert_int_equal(c.max_bytes, 2 << 20);
    assert_int_equal(c.lease_ms, 5000);
    assert_true(c.verbose);
    assert_true(c.ratio == 0.25);
    assert_int_equal(first, 12);
    assert_string_equal(argv[12], "in.txt");
    assert_string_equal(argv[13], "--not-an-option");
}

static void rejects_bad_flags(void **state)
{
    (void)state;
    struct {
        char *args[3];
        const char *needle;
    } cases[] = {
        {{"--nope", NULL}, "unknown option '--nope'"},
        {{"-x", NULL}, "unknown option '-x'"},
        {{"--credit", "many"}, "--credit needs an integer"},
        {{"--credit", "0"}, "--credit must be between 1 and 10000"},
        {{"--credit", NULL}, "--credit needs a value"},
        {{"--max-bytes", "12Q"}, "unknown unit"},
        {{"--lease", "soon"}, "--lease"},
        {{"--ratio", "2"}, "--ratio must be between"},
        {{"--verbose=maybe", NULL}, "true or false"},
        {{"--config", "/nonexistent/newsmill.conf"}, "--config /nonexistent"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        config c = defaults();
        nm_opt o[8];
        size_t n = make_opts(&c, o);
        char *argv[4] = {"prog", cases[i].args[0], cases[i].args[1], NULL};
        int argc = cases[i].args[1] ? 3 : 2;
        nm_error err;
        nm_error_clear(&err);
        int rc = nm_opts_parse(o, n, argc, argv, NULL, &err);
        if (rc != -1 || err.code != NM_ERR_INVALID || !strstr(err.msg, cases[i].needle))
            fail_msg("case %zu (%s): rc=%d msg='%s'", i, cases[i].args[0], rc, err.msg);
    }
}

static void help_shows_defaults(void **state)
{
    (void)state;
    config c = defaults();
    nm_opt o[8];
    size_t n = make_opts(&c, o);
    char *argv[] = {"prog", "--credit", "bogus", "--help", NULL};
    assert_int_equal(nm_opts_parse(o, n, 4, argv, NULL, NULL), NM_OPTS_HELP);
    const char *path = nm_test_path("usage.txt");
    FILE *f = fopen(path, "w");
    nm_opts_usage(f, "prog", "[OPTIONS] FILE", "Does things.", o, n);
    fclose(f);
    char *text = nm_test_read_file(path, NULL);
    assert_non_null(strstr(text, "usage: prog [OPTIONS] FILE"));
    assert_non_null(strstr(text, "(default: tcp://127.0.0.1:5556)"));
    assert_non_null(strstr(text, "(default: 64)"));
    assert_non_null(strstr(text, "(default: 16M)"));
    assert_non_null(strstr(text, "(default: 30s)"));
    assert_non_null(strstr(text, "--config FILE"));
    free(text);
}

static void config_file_then_command_line(void **state)
{
    (void)state;
    const char *path = nm_test_path("newsmill.conf");
    const char *conf = "# a comment\nendpoint = tcp://conf:9\ncredit = 9\nverbose\n";
    nm_test_write_file(path, conf, strlen(conf));
    config c = defaults();
    nm_opt o[8];
    size_t n = make_opts(&c, o);
    char *argv[] = {"prog", "--credit", "3", "--config", (char *)path, NULL};
    nm_error err;
    assert_int_equal(nm_opts_parse(o, n, 5, argv, NULL, &err), 0);
    assert_string_equal(c.endpoint, "tcp://conf:9");
    assert_int_equal(c.credit, 3); /* command line wins */
    assert_true(c.verbose);

    const char *bad = "credit = 5\nsurprise = 1\n";
    nm_test_write_file(path, bad, strlen(bad));
    c = defaults();
    n = make_opts(&c, o);
    char *argv2[] = {"prog", "--config", (char *)path, NULL};
    assert_int_equal(nm_opts_parse(o, n, 3, argv2, NULL, &err), -1);
    assert_non_null(strstr(err.msg, ":2: unknown option 'surprise'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_everything),
        cmocka_unit_test(rejects_bad_flags),
        cmocka_unit_test(help_shows_defaults),
        cmocka_unit_test(config_file_then_command_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
