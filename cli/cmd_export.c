/* newsmill export: every article of the results database(s), one record a
 * line on stdout — JSON lines (the stored extraction, as `query article`
 * prints it) or CSV (the article's columns, its entities as one column).
 * Streams: nm_store_query_each hands over one id at a time and each article
 * is read, written and freed before the next, so memory stays constant
 * whatever the size of the databases. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nm_alloc.h"
#include "nm_log.h"
#include "nm_opts.h"
#include "nm_partition.h"
#include "nm_store_query.h"
#include "nm_time.h"

typedef struct export_ctx {
    nm_store_query *store;
    bool csv;
    int64_t n;
    nm_error err;
} export_ctx;

/* The CSV columns: the article's fields, then "entities". */
static const char *const csv_cols[] = {
    "id", "source", "url", "published_unix_ms", "ingested_unix_ms", "language", "content_type",
    "title", "byline", "n_words", "n_sentences", "flesch_reading_ease", "simhash", "summary",
    "body"};
#define N_CSV_COLS (sizeof csv_cols / sizeof csv_cols[0])

/* One CSV field (RFC 4180: quoted when it holds a comma, quote or newline). */
static void csv_field(const char *s, bool last)
{
    if (strpbrk(s, ",\"\r\n")) {
        putchar('"');
        for (; *s; s++) {
            if (*s == '"')
                putchar('"');
            putchar(*s);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
    putchar(last ? '\n' : ',');
}

static void csv_row(json_object *art)
{
    for (size_t i = 0; i < N_CSV_COLS; i++) {
        json_object *v = NULL;
        json_object_object_get_ex(art, csv_cols[i], &v);
        csv_field(v ? json_object_get_string(v) : "", false);
    }
    /* entities: "name (type); ..." by salience, as `query entity` shows them */
    json_object *ents = NULL;
    json_object_object_get_ex(art, "entities", &ents);
    size_t n = ents ? json_object_array_length(ents) : 0, len = 1;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(ents, i), *name, *type;
        if (json_object_object_get_ex(e, "name", &name) && json_object_object_get_ex(e, "type", &type))
            len += strlen(json_object_get_string(name)) + strlen(json_object_get_string(type)) + 5;
    }
    char *cell = nm_xmalloc(len), *w = cell;
    *w = '\0';
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(ents, i), *name, *type;
        if (json_object_object_get_ex(e, "name", &name) && json_object_object_get_ex(e, "type", &type))
            w += sprintf(w, "%s%s (%s)", w == cell ? "" : "; ", json_object_get_string(name),
                         json_object_get_string(type));
    }
    csv_field(cell, true);
    free(cell);
}

static int export_one(void *ctx, const char *id)
{
    export_ctx *x = ctx;
    json_object *art = nm_store_query_article(x->store, id, &x->err);
    if (!art)
        return -1;
    if (x->csv)
        csv_row(art);
    else
        puts(json_object_to_json_string_ext(art, JSON_C_TO_STRING_PLAIN |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(art);
    x->n++;
    if (ferror(stdout)) {
        nm_error_set(&x->err, NM_ERR_IO, "cannot write to stdout");
        return -1;
    }
    return 0;
}

int nm_cmd_export(int argc, char **argv)
{
    const char *db = "", *dir = NULL, *format = "jsonl", *since = NULL,
               *until = NULL, *query = NULL;
    const nm_opt opts[] = {
        {"db", 0, NM_OPT_STRING, &db, "FILE", NM_CLI_DB_HELP, 0, 0},
        {"dir", 0, NM_OPT_STRING, &dir, "DIR[,DIR...]",
         NM_CLI_DIR_HELP, 0, 0},
        {"format", 'f', NM_OPT_STRING, &format, "FORMAT",
         "jsonl (the whole extraction) or csv (article columns + entities)", 0, 0},
        {"since", 0, NM_OPT_STRING, &since, "TIME",
         "only articles ingested since TIME (ISO 8601, Unix seconds, or a duration: 7d)", 0, 0},
        {"until", 0, NM_OPT_STRING, &until, "TIME",
         "only articles ingested before TIME (as --since; partitions after it are not read)", 0,
         0},
        {"query", 'q', NM_OPT_STRING, &query, "TEXT", "only articles matching TEXT (FTS5 syntax)",
         0, 0},
    };
    const nm_opts_program program = {
        "newsmill export", "[OPTIONS]",
        "Writes every article of the results to stdout, one record a line, in\n"
        "ingestion order, in constant memory: JSON lines (pandas.read_json(path,\n"
        "lines=True)) or CSV with a header (pandas.read_csv(path)).",
        opts, sizeof opts / sizeof opts[0], 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? NM_EXIT_OK : NM_EXIT_USAGE;
    export_ctx x = {0};
    nm_store_query_page page = {.limit = 1};
    if (strcmp(format, "jsonl") && strcmp(format, "csv")) {
        fprintf(stderr, "newsmill export: --format must be jsonl or csv, not '%s'\n", format);
        return NM_EXIT_USAGE;
    }
    x.csv = !strcmp(format, "csv");
    if (since && nm_time_parse_point("--since", since, &page.since_unix_ms, &x.err) != 0) {
        fprintf(stderr, "newsmill export: %s\n", x.err.msg);
        return NM_EXIT_USAGE;
    }
    if (until && nm_time_parse_point("--until", until, &page.until_unix_ms, &x.err) != 0) {
        fprintf(stderr, "newsmill export: %s\n", x.err.msg);
        return NM_EXIT_USAGE;
    }
    if (!(x.store = nm_store_query_open(dir ? NULL : db, dir, &x.err))) {
        fprintf(stderr, "newsmill export: %s\n", x.err.msg);
        return NM_EXIT_FAILURE;
    }
    if (x.csv)
        for (size_t i = 0; i <= N_CSV_COLS; i++)
            csv_field(i < N_CSV_COLS ? csv_cols[i] : "entities", i == N_CSV_COLS);
    rc = nm_store_query_each(x.store, query, &page, export_one, &x, &x.err);
    fflush(stdout);
    nm_store_query_close(&x.store);
    if (rc != 0) {
        fprintf(stderr, "newsmill export: %s\n", x.err.msg);
        return x.err.code == NM_ERR_INVALID ? NM_EXIT_USAGE : NM_EXIT_FAILURE;
    }
    nm_log_info("exported articles=%lld format=%s", (long long)x.n, format);
    return NM_EXIT_OK;
}
