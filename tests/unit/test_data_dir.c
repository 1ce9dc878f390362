/* nm_default_data_dir: NM_DATA_REL from the running program's directory,
 * written without "..": this test runs from build/tests, so it is
 * build/share/newsmill, the build tree's link to the source tree's data/;
 * an extractor made with no data_dir and no $NEWSMILL_DATA loads from there,
 * and $NEWSMILL_DATA, when set, wins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_extract.h"

static void default_is_beside_the_build_bin(void **state)
{
    const char *build = getenv("NM_BUILD_DIR"); /* set by ctest */
    assert_non_null(build);
    char want[PATH_MAX], buf[PATH_MAX];
    char *real_build = realpath(build, NULL);
    assert_non_null(real_build);
    snprintf(want, sizeof want, "%s/share/newsmill", real_build);
    free(real_build);
    assert_string_equal(nm_default_data_dir(buf, sizeof buf), want);
    assert_null(strstr(buf, ".."));
    char en[PATH_MAX + 32];
    snprintf(en, sizeof en, "%s/stopwords/en.txt", buf);
    struct stat st;
    assert_int_equal(stat(en, &st), 0);
}

static void extractor_uses_it_and_the_variable_wins(void **state)
{
    unsetenv("NEWSMILL_DATA");
    nm_extractor_config cfg = {0};
    nm_error err;
    nm_extractor *ex = nm_extractor_new(&cfg, &err);
    assert_non_null(ex);
    nm_extractor_destroy(&ex);

    setenv("NEWSMILL_DATA", "/nonexistent/newsmill-data", 1);
    ex = nm_extractor_new(&cfg, &err);
    assert_null(ex);
    assert_non_null(strstr(err.msg, "/nonexistent/newsmill-data"));
    unsetenv("NEWSMILL_DATA");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_is_beside_the_build_bin),
        cmocka_unit_test(extractor_uses_it_and_the_variable_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
