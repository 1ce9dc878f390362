/* newsmill query: the real binary over results databases written by
 * nm_store (hand-made extraction results), one database and several (--dir),
 * JSON and table output, and the ways a query can go wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "nm_store.h"
#include "nm_test.h"
#include "nm_time.h"

typedef struct ent_spec {
    const char *name;
    nm_entity_type type;
} ent_spec;

/* One sentence per ". ", one paragraph; every occurrence of an entity name is
 * a mention. */
static nm_extract_result *make_result(const char *id, const char *title, const char *text,
                                      const ent_spec *ents, size_t n_ents, uint64_t simhash)
{
    nm_arena *arena = nm_arena_new(0);
    nm_extract_result *r = nm_arena_calloc(arena, 1, sizeof *r);
    r->arena = arena;
    r->id = id;
    r->source = "test";
    r->content_type = "text";
    r->title = title;
    r->language = "en";
    r->language_confidence = 1;
    r->text = text;
    r->text_len = strlen(text);
    size_t len = r->text_len;
    r->sentences = nm_arena_calloc(arena, len + 1, sizeof *r->sentences);
    uint32_t start = 0;
    for (uint32_t i = 1; i <= len; i++) {
        if (text[i - 1] == '.' && (i == len || text[i] == ' ')) {
            r->sentences[r->n_sentences++] = (nm_sentence){{start, i}, 0, 3};
            start = i + 1;
        }
    }
    r->n_paragraphs = 1;
    r->paragraphs = nm_arena_calloc(arena, 1, sizeof *r->paragraphs);
    r->paragraphs[0] = (nm_paragraph){{0, (uint32_t)len}, NM_NO_INDEX, 0, (uint32_t)r->n_sentences, 0};
    r->counts.sentences = (uint32_t)r->n_sentences;
    r->counts.paragraphs = 1;
    r->entities = nm_arena_calloc(arena, n_ents + 1, sizeof *r->entities);
    r->mentions = nm_arena_calloc(arena, len + 1, sizeof *r->mentions);
    for (size_t e = 0; e < n_ents; e++) {
        nm_entity *ent = &r->entities[r->n_entities];
        *ent = (nm_entity){ents[e].name, ents[e].type, (uint32_t)r->n_mentions, 0, 0.5};
        size_t nlen = strlen(ents[e].name);
        for (const char *p = strstr(text, ents[e].name); p; p = strstr(p + nlen, ents[e].name)) {
            uint32_t at = (uint32_t)(p - text);
            r->mentions[r->n_mentions++] =
                (nm_mention){(uint32_t)r->n_entities, {at, at + (uint32_t)nlen}, 0};
            ent->n_mentions++;
        }
        if (ent->n_mentions)
            r->n_entities++;
    }
    r->keyphrases = nm_arena_calloc(arena, 1, sizeof *r->keyphrases);
    r->keyphrases[0] = (nm_keyphrase){"water data", "water data", 2.5, 1};
    r->n_keyphrases = 1;
    r->fingerprints.exact = simhash * 31 + 7;
    r->fingerprints.simhash = simhash;
    for (int i = 0; i < NM_MINHASH_SIZE; i++)
        r->fingerprints.minhash[i] = (uint32_t)i * 7 + (uint32_t)(simhash & 0xff);
    return r;
}

static void put(const char *db_path, nm_extract_result *r)
{
    nm_error err;
    nm_store *s = nm_store_open(db_path, NULL, &err);
    if (!s)
        fail_msg("open %s: %s", db_path, err.msg);
    const nm_extract_result *one[] = {r};
    if (nm_store_put_batch(s, one, 1, nm_time_unix_ms(), &err) != 0)
        fail_msg("put %s: %s", r->id, err.msg);
    nm_store_close(&s);
    nm_arena *a = r->arena;
    nm_arena_destroy(&a);
}

static const ent_spec ents_a[] = {{"Deniz Kalın", NM_ENTITY_PERSON},
                                  {"Ankara", NM_ENTITY_PLACE},
                                  {"Hamas", NM_ENTITY_ORGANISATION}};
static const ent_spec ents_b[] = {{"Deniz Kalın", NM_ENTITY_PERSON}, {"Ankara", NM_ENTITY_PLACE}};
static const ent_spec ents_c[] = {{"Marion Fraser", NM_ENTITY_PERSON},
                                  {"Aberdeen", NM_ENTITY_PLACE}};

/* a and b are near duplicates (simhash 2 bits apart); c is far. a and c in
 * results.db, b in results-host2.db. */
static void setup_dbs(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    put(nm_test_path("results.db"),
        make_result("a", "Kalın visits Ankara",
                    "Deniz Kalın met Hamas envoys in Ankara. Kalın spoke about U.S. water data.",
                    ents_a, 3, 0x0123456789abcdefULL));
    put(nm_test_path("results.db"),
        make_result("c", "Wind farm reaches full power",
                    "Marion Fraser said the Aberdeen wind farm is complete. Fraser was pleased.",
                    ents_c, 2, 0xfedcba9876543210ULL));
    put(nm_test_path("results-host2.db"),
        make_result("b", "Kalın in Ankara again",
                    "Deniz Kalın returned to Ankara. Kalın said little.", ents_b, 2,
                    0x0123456789abcdefULL ^ 0x3ULL));
}

/* Runs `newsmill ARGS` (shell words); returns stdout (caller frees) and the
 * exit code. */
static char *run(int *code, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s %s 2>%s", nm_test_bin("newsmill"), args,
             nm_test_path("stderr.txt"));
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (len + 1 == cap)
            out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    int status = pclose(p);
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
}

static char *last_stderr(void)
{
    char *s = nm_test_read_file(nm_test_path("stderr.txt"), NULL);
    return s ? s : strdup("");
}

/* Parses out as a JSON array and returns the "id" of each row joined by ','. */
static char *ids_of(const char *out)
{
    json_object *arr = json_tokener_parse(out);
    if (!arr || !json_object_is_type(arr, json_type_array))
        fail_msg("not a JSON array: %s", out);
    static char ids[1024];
    ids[0] = '\0';
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *id;
        assert_true(json_object_object_get_ex(json_object_array_get_idx(arr, i), "id", &id));
        if (i)
            strcat(ids, ",");
        strcat(ids, json_object_get_string(id));
    }
    json_object_put(arr);
    return ids;
}

static void search(void **state)
{
    (void)state;
    setup_dbs();
    int code;
    char *out = run(&code, "query --db %s --json search Ankara", nm_test_path("results.db"));
    assert_int_equal(code, 0);
    assert_string_equal(ids_of(out), "a");
    free(out);
    /* "U.S." is not FTS5 syntax: the words are searched instead */
    out = run(&code, "query --db %s --json search U.S.", nm_test_path("results.db"));
    assert_int_equal(code, 0);
    assert_string_equal(ids_of(out), "a");
    free(out);
    /* every database of a directory */
    out = run(&code, "query --dir %s --json search Kalın", nm_test_tmpdir());
    assert_int_equal(code, 0);
    assert_true(!strcmp(ids_of(out), "a,b") || !strcmp(ids_of(out), "b,a"));
    assert_non_null(strstr(out, "\"db\":"));
    free(out);
    /* the table marks the match */
    out = run(&code, "query --db %s search water", nm_test_path("results.db"));
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "ID"));
    assert_non_null(strstr(out, "[water]"));
    free(out);
}

static void entity(void **state)
{
    (void)state;
    setup_dbs();
    int code;
    char *out = run(&code, "query --dir %s --json entity Kalın", nm_test_tmpdir());
    assert_int_equal(code, 0);
    assert_true(!strcmp(ids_of(out), "a,b") || !strcmp(ids_of(out), "b,a"));
    free(out);
    out = run(&code, "query --dir %s --json entity Ankara Hamas", nm_test_tmpdir());
    assert_int_equal(code, 0);
    assert_string_equal(ids_of(out), "a");
    free(out);
    out = run(&code, "query --dir %s entity Nobody", nm_test_tmpdir());
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "no results"));
    free(out);
}

static void top(void **state)
{
    (void)state;
    setup_dbs();
    int code;
    char *out = run(&code, "query --dir %s --json top people", nm_test_tmpdir());
    assert_int_equal(code, 0);
    json_object *arr = json_tokener_parse(out);
    assert_non_null(arr);
    assert_int_equal(json_object_array_length(arr), 2);
    json_object *first = json_object_array_get_idx(arr, 0), *v;
    assert_true(json_object_object_get_ex(first, "name", &v));
    assert_string_equal(json_object_get_string(v), "Deniz Kalın");
    assert_true(json_object_object_get_ex(first, "articles", &v));
    assert_int_equal(json_object_get_int(v), 2); /* summed over both databases */
    json_object_put(arr);
    free(out);
    out = run(&code, "query --db %s top places --since 1h", nm_test_path("results.db"));
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "Aberdeen"));
    assert_non_null(strstr(out, "Ankara"));
    free(out);
    /* a window that holds none of them: ingested now, not an hour ago or
     * before, nor after 2099 */
    out = run(&code, "query --db %s --json top places --until 1h", nm_test_path("results.db"));
    assert_int_equal(code, 0);
    assert_null(strstr(out, "Ankara"));
    free(out);
    out = run(&code, "query --dir %s --json entity Ankara --since 2099-01-01", nm_test_tmpdir());
    assert_int_equal(code, 0);
    assert_string_equal(ids_of(out), "");
    free(out);
    out = run(&code, "query --dir %s --json entity Ankara --since 1h --until 2099-01-01T00:00:00Z",
              nm_test_tmpdir());
    assert_int_equal(code, 0);
    assert_string_not_equal(ids_of(out), "");
    free(out);
    out = run(&code, "query --db %s top places --since yesterday", nm_test_path("results.db"));
    assert_int_equal(code, 2);
    free(out);
    char *err = last_stderr();
    assert_non_null(strstr(err, "--since"));
    free(err);
    out = run(&code, "query --db %s top unicorns", nm_test_path("results.db"));
    assert_int_equal(code, 2);
    free(out);
}

static void dups(void **state)
{
    (void)state;
    setup_dbs();
    int code;
    char *out = run(&code, "query --dir %s --json dups a", nm_test_tmpdir());
    assert_int_equal(code, 0);
    assert_string_equal(ids_of(out), "b");
    assert_non_null(strstr(out, "\"distance\":2"));
    free(out);
    out = run(&code, "query --dir %s --json dups c", nm_test_tmpdir());
    assert_int_equal(code, 0);
    assert_string_equal(ids_of(out), "");
    free(out);
    out = run(&code, "query --dir %s dups nosuch", nm_test_tmpdir());
    assert_int_equal(code, 1);
    free(out);
}

static void article(void **state)
{
    (void)state;
    setup_dbs();
    int code;
    char *out = run(&code, "query --db %s --json article a", nm_test_path("results.db"));
    assert_int_equal(code, 0);
    json_object *art = json_tokener_parse(out), *v;
    assert_non_null(art);
    assert_true(json_object_object_get_ex(art, "title", &v));
    assert_string_equal(json_object_get_string(v), "Kalın visits Ankara");
    assert_true(json_object_object_get_ex(art, "sentences", &v));
    assert_int_equal(json_object_array_length(v), 3); /* "U.S. " ends one too */
    json_object *t;
    assert_true(json_object_object_get_ex(json_object_array_get_idx(v, 0), "text", &t));
    assert_string_equal(json_object_get_string(t), "Deniz Kalın met Hamas envoys in Ankara.");
    assert_true(json_object_object_get_ex(art, "entities", &v));
    assert_int_equal(json_object_array_length(v), 3);
    assert_true(json_object_object_get_ex(art, "mentions", &v));
    assert_int_equal(json_object_array_length(v), 3);
    for (size_t i = 0; i < 3; i++) { /* the text cut at the mention's offsets is its entity */
        json_object *m = json_object_array_get_idx(v, i), *e;
        assert_true(json_object_object_get_ex(m, "text", &t));
        assert_true(json_object_object_get_ex(m, "entity", &e));
        assert_string_equal(json_object_get_string(t), json_object_get_string(e));
    }
    assert_true(json_object_object_get_ex(art, "keyphrases", &v));
    json_object_put(art);
    free(out);
    out = run(&code, "query --db %s article zzz", nm_test_path("results.db"));
    assert_int_equal(code, 1);
    free(out);
    char *err = last_stderr();
    assert_non_null(strstr(err, "no article with id 'zzz'"));
    free(err);
}

static void bad_usage(void **state)
{
    (void)state;
    setup_dbs();
    int code;
    char *out = run(&code, "query --db %s/none.db top people", nm_test_tmpdir());
    assert_int_equal(code, 1);
    free(out);
    char *err = last_stderr();
    assert_non_null(strstr(err, "no results database"));
    free(err);
    out = run(&code, "query --db %s frobnicate", nm_test_path("results.db"));
    assert_int_equal(code, 2);
    free(out);
    out = run(&code, "query --dir %s/nowhere search x", nm_test_tmpdir());
    assert_int_equal(code, 1);
    free(out);
    out = run(&code, "query --help");
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "dups ID"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(search), cmocka_unit_test(entity),  cmocka_unit_test(top),
        cmocka_unit_test(dups),   cmocka_unit_test(article), cmocka_unit_test(bad_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
