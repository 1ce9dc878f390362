/* nm_input: what `newsmill submit` reads — a tree of files (ids, order,
 * skipped and hidden files, symlinked directories), explicit files, JSON-lines
 * files, and every bad input reported once while the rest goes on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_input.h"
#include "nm_jsonl.h"
#include "nm_test.h"

static void put_file(const char *rel, const char *text)
{
    nm_test_write_file(nm_test_path(rel), text, strlen(text));
}

/* Reads everything; returns "id/type " per article and "!class " per error. */
static char *read_all(const char *const *paths, size_t n, size_t max_file)
{
    nm_input_config cfg = {"unit", max_file, 0};
    nm_input *in = nm_input_new(paths, n, &cfg);
    static char log[4096];
    log[0] = '\0';
    for (;;) {
        Newsmill__Article *a;
        nm_error err;
        int rc = nm_input_next(in, &a, &err);
        if (rc == 0 && !a)
            break;
        char item[512];
        if (rc == 0) {
            /* ids are relative: strip the temporary directory's own name */
            const char *id = a->id;
            const char *tmp = strrchr(nm_test_tmpdir(), '/') + 1;
            if (!strncmp(id, tmp, strlen(tmp)))
                id += strlen(tmp) + 1;
            snprintf(item, sizeof item, "%s/%d ", id, (int)a->content_type);
            if (a->url[0]) { /* a file article (JSON lines bring their own fields) */
                assert_string_equal(a->source, "unit");
                assert_true(!strncmp(a->url, "file:///", 8));
            }
        } else {
            snprintf(item, sizeof item, "!%s ", nm_input_error_class(in));
        }
        strcat(log, item);
        nm_jsonl_article_free(&a);
    }
    nm_input_destroy(&in);
    assert_null(in);
    return log;
}

static void tree(void **state)
{
    (void)state;
    mkdir(nm_test_path("in"), 0755);
    mkdir(nm_test_path("in/b"), 0755);
    mkdir(nm_test_path("in/.git"), 0755);
    put_file("in/a.txt", "A\n\nText.");
    put_file("in/b/c.HTML", "<p>C</p>");
    put_file("in/b/d.htm", "<p>D</p>");
    put_file("in/notes.pdf", "%PDF");
    put_file("in/.git/x.txt", "hidden");
    put_file("in/empty.txt", " \n\n ");
    put_file("in/lines.jsonl", "{\"id\":\"j1\",\"body\":\"x\"}\nbad\n{\"id\":\"j2\",\"body\":\"y\"}\n");
    put_file("outside.txt", "O\n\nText.");
    assert_int_equal(symlink(nm_test_path("in/b"), nm_test_path("in/link")), 0);
    const char *paths[] = {nm_test_path("in")};
    char *log = read_all(paths, 1, 0);
    assert_string_equal(log, "in/a.txt/1 in/b/c.HTML/2 in/b/d.htm/2 !empty file j1/0 "
                             "!malformed JSON line j2/0 ");

    nm_input_config cfg = {NULL, 0, 0};
    nm_input *in = nm_input_new(paths, 1, &cfg);
    assert_int_equal(nm_input_skipped(in), 1); /* notes.pdf; hidden and linked dirs not counted */
    assert_int_equal(nm_input_file_count(in), 4);
    assert_false(nm_input_total_known(in)); /* a .jsonl: the total is known only after reading */
    nm_input_destroy(&in);
}

static void explicit_files(void **state)
{
    (void)state;
    put_file("one.txt", "One\n\nText.");
    put_file("two.md", "# Two\n\nGuessed.");
    put_file("big.txt", "0123456789abcdef0123456789abcdef");
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(nm_test_tmpdir()), 0);
    const char *paths[] = {"./one.txt", "two.md", "missing.txt", "big.txt", "one.txt"};
    char *log = read_all(paths, 5, 16);
    assert_string_equal(log, "one.txt/1 two.md/0 !not found !file too large one.txt/1 ");
    const char *dot[] = {"."};
    nm_input *in = nm_input_new(dot, 1, NULL);
    Newsmill__Article *a;
    nm_error err;
    while (nm_input_next(in, &a, &err) == 0 && a) {
        /* "." is named after the directory itself */
        assert_int_equal(strncmp(a->id, strrchr(nm_test_tmpdir(), '/') + 1,
                                 strlen(strrchr(nm_test_tmpdir(), '/') + 1)),
                         0);
        assert_string_equal(a->source, "file");
        nm_jsonl_article_free(&a);
    }
    nm_input_destroy(&in);
    assert_int_equal(chdir(cwd), 0);
}

static void unreadable(void **state)
{
    (void)state;
    if (geteuid() == 0) {
        nm_test_skip("root reads a file of mode 000");
    }
    put_file("secret.txt", "S\n\nText.");
    chmod(nm_test_path("secret.txt"), 0);
    const char *paths[] = {nm_test_path("secret.txt")};
    assert_string_equal(read_all(paths, 1, 0), "!permission denied ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tree),
        cmocka_unit_test(explicit_files),
        cmocka_unit_test(unreadable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
