/* newsmill query: canned questions over one or several results databases.
 *
 * The questions themselves (SQL, merging rows across databases) are the
 * store's read side, nm_store_query.h; this command parses the arguments and
 * prints the rows: as they are with --json, else as a table. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nm_alloc.h"
#include "nm_opts.h"
#include "nm_partition.h"
#include "nm_store_query.h"
#include "nm_time.h"
#include "nm_utf8.h"

typedef struct query_opts {
    const char *db, *dir;
    const char *since, *until; /* NULL: no bound */
    int64_t limit, offset, max_distance;
    double min_similarity;
    bool json;
} query_opts;

typedef struct query_ctx {
    query_opts o;
    nm_store_query *store;
    nm_store_query_page page;
} query_ctx;

/* A column of the human table: key in the row, header, widest cell. */
typedef struct column {
    const char *key, *header;
    int max_width;
} column;

/* ---- output ------------------------------------------------------------ */

/* Display width of UTF-8 text: code points (good enough for a terminal table). */
static size_t width_of(const char *s, size_t len)
{
    size_t w = 0, pos = 0;
    while (pos < len) {
        nm_utf8_next(s, len, &pos);
        w++;
    }
    return w;
}

/* Cell text: numbers with few decimals, times as ISO dates, newlines as spaces. */
static char *cell(json_object *row, const char *key)
{
    json_object *v;
    char buf[64];
    if (!json_object_object_get_ex(row, key, &v) || !v)
        return nm_xstrdup("-");
    if (strstr(key, "unix_ms") && json_object_is_type(v, json_type_int)) {
        if (json_object_get_int64(v) == 0)
            return nm_xstrdup("-");
        nm_time_format_iso(json_object_get_int64(v), buf, sizeof buf);
        buf[16] = '\0'; /* 2026-11-24T19:59 */
        buf[10] = ' ';
        return nm_xstrdup(buf);
    }
    if (json_object_is_type(v, json_type_double)) {
        snprintf(buf, sizeof buf, "%.2f", json_object_get_double(v));
        return nm_xstrdup(buf);
    }
    char *s = nm_xstrdup(json_object_get_string(v));
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\t' || *p == '\r')
            *p = ' ';
    return s;
}

/* Cuts s to at most max code points, ending with '…' when cut. */
static void clip(char **s, size_t max)
{
    size_t len = strlen(*s), pos = 0, n = 0;
    while (pos < len && n < max - 1) {
        nm_utf8_next(*s, len, &pos);
        n++;
    }
    if (pos >= len || width_of(*s, len) <= max)
        return;
    char *out = nm_xmalloc(pos + 4);
    memcpy(out, *s, pos);
    memcpy(out + pos, "…", 4);
    free(*s);
    *s = out;
}

static void print_table(json_object *rows, const column *cols, size_t n_cols)
{
    size_t n = json_object_array_length(rows);
    if (n == 0) {
        printf("(no results)\n");
        return;
    }
    char ***cells = nm_xcalloc(n, sizeof *cells);
    size_t *w = nm_xcalloc(n_cols, sizeof *w);
    for (size_t c = 0; c < n_cols; c++)
        w[c] = width_of(cols[c].header, strlen(cols[c].header));
    for (size_t r = 0; r < n; r++) {
        cells[r] = nm_xcalloc(n_cols, sizeof **cells);
        for (size_t c = 0; c < n_cols; c++) {
            cells[r][c] = cell(json_object_array_get_idx(rows, r), cols[c].key);
            if (cols[c].max_width)
                clip(&cells[r][c], (size_t)cols[c].max_width);
            size_t cw = width_of(cells[r][c], strlen(cells[r][c]));
            if (cw > w[c])
                w[c] = cw;
        }
    }
    for (size_t c = 0; c < n_cols; c++)
        printf("%s%-*s", c ? "  " : "", c + 1 < n_cols ? (int)w[c] : 0, cols[c].header);
    printf("\n");
    for (size_t r = 0; r < n; r++) {
        for (size_t c = 0; c < n_cols; c++) {
            const char *s = cells[r][c];
            size_t pad = c + 1 < n_cols ? w[c] - width_of(s, strlen(s)) : 0;
            printf("%s%s%*s", c ? "  " : "", s, (int)pad, "");
            free(cells[r][c]);
        }
        printf("\n");
        free(cells[r]);
    }
    free(cells);
    free(w);
}

static void print_json(json_object *obj)
{
    puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Prints the rows (and frees them): one JSON array, or a table with the
 * given columns (plus "db" when with_db and several databases were read). */
static void output_rows(const query_ctx *q, json_object *rows, const column *cols, size_t n_cols,
                        bool with_db)
{
    if (q->o.json) {
        print_json(rows);
    } else {
        column all[16];
        memcpy(all, cols, n_cols * sizeof *cols);
        if (with_db && nm_store_query_databases(q->store) > 1)
            all[n_cols++] = (column){"db", "DB", 30};
        print_table(rows, all, n_cols);
    }
    json_object_put(rows);
}

/* ---- questions ---------------------------------------------------------- */

static int q_search(query_ctx *q, int argc, char **argv, nm_error *err)
{
    if (argc < 1)
        return nm_error_set(err, NM_ERR_INVALID, "search needs TEXT");
    size_t len = 0;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *text = nm_xmalloc(len + 1);
    text[0] = '\0';
    for (int i = 0; i < argc; i++) {
        strcat(text, argv[i]);
        if (i + 1 < argc)
            strcat(text, " ");
    }
    json_object *rows = nm_store_query_search(q->store, text, &q->page, 0, err);
    free(text);
    if (!rows)
        return -1;
    static const column cols[] = {{"id", "ID", 40},
                                  {"title", "TITLE", 50},
                                  {"published_unix_ms", "PUBLISHED", 0},
                                  {"snippet", "MATCH", 70}};
    output_rows(q, rows, cols, 4, true);
    return 0;
}

static int q_entity(query_ctx *q, int argc, char **argv, nm_error *err)
{
    json_object *rows = nm_store_query_entity(q->store, (const char *const *)argv,
                                              argc > 0 ? (size_t)argc : 0, &q->page, err);
    if (!rows)
        return -1;
    static const column cols[] = {{"id", "ID", 40},
                                  {"title", "TITLE", 50},
                                  {"mentions", "MENTIONS", 0},
                                  {"entities", "ENTITIES", 60}};
    output_rows(q, rows, cols, 4, true);
    return 0;
}

static int q_top(query_ctx *q, int argc, char **argv, nm_error *err)
{
    const char *type = argc == 1 ? nm_store_query_entity_type(argv[0]) : NULL;
    if (!type)
        return nm_error_set(err, NM_ERR_INVALID,
                            "top needs one of people, orgs, places, groups, other");
    json_object *rows = nm_store_query_top(q->store, type, &q->page, err);
    if (!rows)
        return -1;
    static const column cols[] = {{"name", "NAME", 40},
                                  {"articles", "ARTICLES", 0},
                                  {"mentions", "MENTIONS", 0}};
    output_rows(q, rows, cols, 3, false); /* merged rows belong to no single db */
    return 0;
}

static int q_dups(query_ctx *q, int argc, char **argv, nm_error *err)
{
    if (argc != 1)
        return nm_error_set(err, NM_ERR_INVALID, "dups needs one article ID");
    json_object *rows = nm_store_query_dups(q->store, argv[0], q->o.max_distance,
                                            q->o.min_similarity, &q->page, err);
    if (!rows)
        return -1;
    static const column cols[] = {{"id", "ID", 40},
                                  {"distance", "SIMHASH DISTANCE", 0},
                                  {"similarity", "MINHASH SIMILARITY", 0},
                                  {"exact", "EXACT", 0},
                                  {"title", "TITLE", 50}};
    output_rows(q, rows, cols, 5, true);
    return 0;
}

static int q_article(query_ctx *q, int argc, char **argv, nm_error *err)
{
    if (argc != 1)
        return nm_error_set(err, NM_ERR_INVALID, "article needs one article ID");
    json_object *art = nm_store_query_article(q->store, argv[0], err);
    if (!art)
        return -1;
    puts(json_object_to_json_string_ext(
        art, JSON_C_TO_STRING_NOSLASHESCAPE |
                 (q->o.json ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY)));
    json_object_put(art);
    return 0;
}

static const struct {
    const char *name;
    int (*run)(query_ctx *q, int argc, char **argv, nm_error *err);
} questions[] = {
    {"search", q_search}, {"entity", q_entity}, {"top", q_top},
    {"dups", q_dups},     {"article", q_article},
};

/* ---- main ---------------------------------------------------------------- */

int nm_cmd_query(int argc, char **argv)
{
    query_opts o = {.db = "", .limit = 10, .max_distance = 3, .min_similarity = 0.5};
    const nm_opt opts[] = {
        {"db", 0, NM_OPT_STRING, &o.db, "FILE", NM_CLI_DB_HELP, 0, 0},
        {"dir", 0, NM_OPT_STRING, &o.dir, "DIR[,DIR...]",
         NM_CLI_DIR_HELP, 0, 0},
        {"limit", 'n', NM_OPT_INT, &o.limit, "N", "at most N rows", 1, NM_STORE_QUERY_MAX_LIMIT},
        {"offset", 0, NM_OPT_INT, &o.offset, "N", "skip the first N rows (the next page)", 0,
         1000000},
        {"since", 0, NM_OPT_STRING, &o.since, "TIME",
         "only articles since TIME (ISO 8601, Unix seconds, or a duration back from now: 1h, "
         "7d): published then for search, ingested then for the others; partitions outside "
         "[--since, --until) are not read",
         0, 0},
        {"until", 0, NM_OPT_STRING, &o.until, "TIME", "only articles before TIME (as --since)", 0,
         0},
        {"max-distance", 0, NM_OPT_INT, &o.max_distance, "BITS",
         "dups: near when SimHashes differ in at most BITS bits ...", 0, 64},
        {"min-similarity", 0, NM_OPT_DOUBLE, &o.min_similarity, "X",
         "dups: ... or when MinHash similarity is at least X", 0, 1},
        {"json", 0, NM_OPT_FLAG, &o.json, NULL, "print JSON (rows as an array)", 0, 0},
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    int first;
    nm_error err;
    const nm_opts_program program = {
        "newsmill query", "[OPTIONS] QUESTION ARGS",
        "Canned questions over the results database(s):\n"
        "  search TEXT                 full-text search (FTS5 syntax: AND, OR, \"phrase\", pre*)\n"
        "  entity NAME [NAME...]       articles mentioning every NAME (substring match)\n"
        "  top people|orgs|places|groups|other   most mentioned entities (--since 1h)\n"
        "  dups ID                     exact and near duplicates of an article\n"
        "  article ID                  the full extraction of an article, as JSON",
        opts, n_opts, -1};
    int rc = nm_opts_run(&program, argc, argv, &first);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? NM_EXIT_OK : NM_EXIT_USAGE;
    if (first >= argc) {
        fprintf(stderr, "newsmill query: which question? search, entity, top, dups, article"
                        " (see newsmill query --help)\n");
        return NM_EXIT_USAGE;
    }
    const char *question = argv[first];
    int (*run)(query_ctx *, int, char **, nm_error *) = NULL;
    for (size_t i = 0; i < sizeof questions / sizeof questions[0]; i++)
        if (!strcmp(question, questions[i].name))
            run = questions[i].run;
    if (!run) {
        fprintf(stderr, "newsmill query: unknown question '%s' (search, entity, top, dups, article)\n",
                question);
        return NM_EXIT_USAGE;
    }
    query_ctx q = {.o = o, .page = {.limit = o.limit, .offset = o.offset}};
    if ((o.since && nm_time_parse_point("--since", o.since, &q.page.since_unix_ms, &err) != 0) ||
        (o.until && nm_time_parse_point("--until", o.until, &q.page.until_unix_ms, &err) != 0)) {
        fprintf(stderr, "newsmill query: %s\n", err.msg);
        return NM_EXIT_USAGE;
    }
    int code = NM_EXIT_OK;
    if (!(q.store = nm_store_query_open(o.db, o.dir, &err))) {
        fprintf(stderr, "newsmill query: %s\n", err.msg);
        code = NM_EXIT_FAILURE;
    } else if (run(&q, argc - first - 1, argv + first + 1, &err) != 0) {
        fprintf(stderr, "newsmill query %s: %s\n", question, err.msg);
        code = err.code == NM_ERR_INVALID ? NM_EXIT_USAGE : NM_EXIT_FAILURE;
    }
    fflush(stdout);
    nm_store_query_close(&q.store);
    return code;
}
