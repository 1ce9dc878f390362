/* newsmill extract FILE|- : run extraction on one article, print the JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nm_alloc.h"
#include "nm_extract.h"
#include "nm_opts.h"

static char *read_all(FILE *f, size_t limit, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = nm_xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap > limit) /* one byte over the limit is enough to say so */
                break;
            cap *= 2;
            buf = nm_xrealloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    if (a < b)
        return 0;
    for (size_t i = 0; i < b; i++) {
        char c = s[a - b + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != suf[i])
            return 0;
    }
    return 1;
}

int nm_cmd_extract(int argc, char **argv)
{
    bool html = false, text = false;
    const char *language = NULL, *url = NULL, *id = NULL, *data_dir = NULL;
    const char *recognizer = "model";
    int64_t max_bytes = 64 << 20;
    nm_opt opts[] = {
        {"html", 0, NM_OPT_FLAG, &html, NULL, "the input is HTML (default: guess from name and bytes)", 0, 0},
        {"text", 0, NM_OPT_FLAG, &text, NULL, "the input is plain text", 0, 0},
        {"language", 'l', NM_OPT_STRING, &language, "CODE", "language hint (ISO 639-1), skips detection", 0, 0},
        {"url", 0, NM_OPT_STRING, &url, "URL", "the article's URL", 0, 0},
        {"id", 0, NM_OPT_STRING, &id, "ID", "the article's id", 0, 0},
        {"data-dir", 0, NM_OPT_STRING, &data_dir, "DIR", "gazetteers and word lists (\"\": $NEWSMILL_DATA, else " NM_DATA_REL " from the program's directory)", 0, 0},
        {"recognizer", 'r', NM_OPT_STRING, &recognizer, "KIND", "entity recogniser: model or rules", 0, 0},
        {"max-bytes", 0, NM_OPT_BYTES, &max_bytes, "SIZE", "largest article accepted", 1, 1024.0 * 1024 * 1024},
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    int first = 0;
    nm_error err;
    const nm_opts_program program = {
        "newsmill extract", "[OPTIONS] FILE|-",
        "Extracts one article (title, structure, entities, keyphrases, summary,\n"
        "fingerprints) and prints the result as JSON. FILE '-' reads stdin.\n"
        "Content type: --html/--text, else .html/.htm names are HTML, else guessed.",
        opts, n_opts, -1};
    int rc = nm_opts_run(&program, argc, argv, &first);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? NM_EXIT_OK : NM_EXIT_USAGE;
    if (argc - first != 1 || (html && text)) {
        fprintf(stderr, "newsmill extract: need exactly one FILE (or -), and at most one of --html/--text\n");
        return NM_EXIT_USAGE;
    }
    const char *path = argv[first];
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "newsmill extract: %s: %s\n", path, strerror(errno));
        return NM_EXIT_FAILURE;
    }
    size_t len = 0;
    char *body = read_all(f, (size_t)max_bytes, &len);
    if (f != stdin)
        fclose(f);
    if (!body) {
        fprintf(stderr, "newsmill extract: reading %s failed\n", path);
        return NM_EXIT_FAILURE;
    }
    nm_extractor_config cfg = {.data_dir = data_dir, .max_input_bytes = (size_t)max_bytes,
                               .recognizer = recognizer};
    nm_extractor *ex = nm_extractor_new(&cfg, &err);
    if (!ex) {
        fprintf(stderr, "newsmill extract: %s\n", err.msg);
        free(body);
        return NM_EXIT_FAILURE;
    }
    nm_extract_input in = {.body = body, .len = len, .language_hint = language, .url = url, .id = id};
    in.content_type = html ? NM_CONTENT_HTML : text ? NM_CONTENT_TEXT : NM_CONTENT_GUESS;
    if (in.content_type == NM_CONTENT_GUESS && (has_suffix(path, ".html") || has_suffix(path, ".htm")))
        in.content_type = NM_CONTENT_HTML;
    nm_extract_result *r;
    int status = NM_EXIT_OK;
    if (nm_extract(ex, &in, &r, &err) < 0) {
        fprintf(stderr, "newsmill extract: %s: %s (%s)\n", path, err.msg, nm_errcode_name(err.code));
        status = NM_EXIT_FAILURE;
    } else {
        size_t jlen;
        char *json = nm_extract_to_json(r, &jlen);
        fwrite(json, 1, jlen, stdout);
        fputc('\n', stdout);
        free(json);
        nm_extract_result_free(&r);
    }
    nm_extractor_destroy(&ex);
    free(body);
    return status;
}
