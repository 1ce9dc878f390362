/*
 * eval-html: how well nm_html_parse finds article bodies, scored like the
 * public article-extraction benchmark (see extract/nm_shingle_score.h).
 *
 *   eval-html [DIR]              DIR/<id>.html + DIR/<id>.json {"articleBody"}
 *   eval-html --cleaneval DIR    DIR/input/<id>.html (<text id=URL> wrapper),
 *                                DIR/GoldStandard/<id>.txt (URL: line, <h> <p> <l>)
 *   eval-html --show ID [DIR]    print what is extracted from one page
 *
 * Prints "page=ID f1=.. precision=.. recall=.." per page, then a line with
 * accuracy and timing (wall and CPU time of nm_html_parse per page), and last "f1=0.XXXX precision=0.XXXX recall=0.XXXX pages=N".
 * The extracted text is every block's text, blocks separated by blank lines.
 */
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nm_alloc.h"
#include "nm_arena.h"
#include "nm_doc.h"
#include "nm_fs.h"
#include "nm_html.h"
#include "nm_error.h"
#include "nm_opts.h"
#include "nm_shingle_score.h"
#include "nm_time.h"
#include "nm_utf8.h"

/* CPU time of this thread: the machine may be shared, wall time is not
 * what parsing costs. */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir ending with suffix, the suffix cut off. */
static char **list_ids(const char *dir, const char *suffix, size_t *n)
{
    DIR *d = opendir(dir);
    *n = 0;
    if (!d)
        return NULL;
    size_t cap = 64, sl = strlen(suffix);
    char **ids = nm_xmalloc(cap * sizeof *ids);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l <= sl || strcmp(de->d_name + l - sl, suffix) != 0)
            continue;
        if (*n == cap)
            ids = nm_xrealloc(ids, (cap *= 2) * sizeof *ids);
        ids[(*n)++] = nm_xstrndup(de->d_name, l - sl);
    }
    closedir(d);
    qsort(ids, *n, sizeof *ids, cmp_str);
    return ids;
}

/* Blocks joined by blank lines; caller frees. */
static char *doc_text(const nm_doc *doc, size_t *len)
{
    size_t n = 0;
    for (size_t i = 0; i < doc->n_blocks; i++)
        n += doc->blocks[i].len + 2;
    char *out = nm_xmalloc(n + 1), *p = out;
    for (size_t i = 0; i < doc->n_blocks; i++) {
        if (i) {
            memcpy(p, "\n\n", 2);
            p += 2;
        }
        memcpy(p, doc->blocks[i].text, doc->blocks[i].len);
        p += doc->blocks[i].len;
    }
    *p = '\0';
    *len = (size_t)(p - out);
    return out;
}

/* The article-extraction benchmark: {"articleBody": "..."}; NULL on error. */
static char *gold_json(const char *path, size_t *len)
{
    size_t n;
    char *raw = nm_fs_read_file(path, &n);
    if (!raw)
        return NULL;
    json_object *root = json_tokener_parse(raw);
    free(raw);
    json_object *body;
    char *out = NULL;
    if (root && json_object_object_get_ex(root, "articleBody", &body) &&
        json_object_is_type(body, json_type_string)) {
        out = nm_xstrdup(json_object_get_string(body));
        *len = strlen(out);
    }
    json_object_put(root);
    return out;
}

/* CleanEval gold: drop the URL: line, the <h>/<p>/<l> markers and comments,
 * decode the entities left in; tokens are what counts. */
static char *gold_cleaneval(const char *path, size_t *len)
{
    size_t n;
    char *raw = nm_fs_read_file(path, &n);
    if (!raw)
        return NULL;
    char *out = nm_xmalloc(n + 1), *o = out;
    const char *p = raw, *end = raw + n;
    while (p < end && (*p == '\n' || *p == '\r' || *p == ' '))
        p++;
    if (strncmp(p, "URL:", 4) == 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    while (p < end) {
        if (*p == '<') {
            if (strncmp(p, "<!--", 4) == 0) {
                const char *e = strstr(p, "-->");
                p = e ? e + 3 : end;
                *o++ = ' ';
                continue;
            }
            if ((p[1] == 'h' || p[1] == 'p' || p[1] == 'l') && p[2] == '>') {
                p += 3;
                *o++ = '\n';
                continue;
            }
        }
        if (*p == '&') {
            const char *semi = memchr(p, ';', (size_t)(end - p) < 10 ? (size_t)(end - p) : 10);
            if (semi) {
                static const struct {
                    const char *name, *text;
                } ents[] = {{"&amp;", "&"},   {"&lt;", "<"},    {"&gt;", ">"},
                            {"&quot;", "\""}, {"&apos;", "'"}, {"&nbsp;", " "}};
                size_t el = (size_t)(semi - p) + 1;
                bool done = false;
                for (size_t k = 0; k < sizeof ents / sizeof ents[0] && !done; k++)
                    if (strlen(ents[k].name) == el && strncmp(p, ents[k].name, el) == 0) {
                        size_t tl = strlen(ents[k].text);
                        memcpy(o, ents[k].text, tl);
                        o += tl;
                        done = true;
                    }
                if (!done && p[1] == '#') {
                    unsigned long cp = p[2] == 'x' || p[2] == 'X' ? strtoul(p + 3, NULL, 16) : strtoul(p + 2, NULL, 10);
                    if (cp > 0 && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF)) {
                        char enc[4];
                        size_t k = nm_utf8_encode((uint32_t)cp, enc);
                        if (k <= el) { /* an entity is never shorter than its bytes */
                            memcpy(o, enc, k);
                            o += k;
                            done = true;
                        }
                    }
                }
                if (done) {
                    p = semi + 1;
                    continue;
                }
            }
        }
        *o++ = *p++;
    }
    *o = '\0';
    *len = (size_t)(o - out);
    free(raw);
    return out;
}

/* Drops the <text id="URL"> ... </text> wrapper of CleanEval inputs. */
static void unwrap_cleaneval(char *html, size_t *len)
{
    char *p = html;
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    if (strncmp(p, "<text", 5) != 0)
        return;
    char *gt = strchr(p, '>');
    if (!gt)
        return;
    memset(p, ' ', (size_t)(gt - p) + 1);
    char *close = NULL;
    for (char *q = strstr(gt, "</text>"); q; q = strstr(q + 1, "</text>"))
        close = q;
    if (close)
        memset(close, ' ', 7);
    (void)len;
}

typedef struct eval_cfg {
    bool cleaneval;
    const char *show;
    const char *dir;
} eval_cfg;

static int run(const eval_cfg *cfg)
{
    char path[4096];
    char sub_in[4096], sub_gold[4096];
    const char *html_suffix = ".html";
    if (cfg->cleaneval) {
        snprintf(sub_in, sizeof sub_in, "%s/input", cfg->dir);
        snprintf(sub_gold, sizeof sub_gold, "%s/GoldStandard", cfg->dir);
    } else {
        snprintf(sub_in, sizeof sub_in, "%s", cfg->dir);
        snprintf(sub_gold, sizeof sub_gold, "%s", cfg->dir);
    }
    size_t n_ids;
    char **ids = list_ids(sub_in, html_suffix, &n_ids);
    if (!ids || n_ids == 0) {
        fprintf(stderr, "eval-html: no *.html pages in %s\n", sub_in);
        free(ids);
        return 1;
    }
    nm_score_total total = {0};
    int64_t parse_ns = 0, cpu_total_ns = 0;
    size_t bytes = 0;
    size_t no_article = 0;
    nm_arena *arena = nm_arena_new(0);
    for (size_t i = 0; i < n_ids; i++) {
        if (cfg->show && strcmp(cfg->show, ids[i]) != 0)
            continue;
        size_t hlen = 0, glen = 0;
        snprintf(path, sizeof path, "%s/%s.html", sub_in, ids[i]);
        char *html = nm_fs_read_file(path, &hlen);
        if (cfg->cleaneval)
            snprintf(path, sizeof path, "%s/%s.txt", sub_gold, ids[i]);
        else
            snprintf(path, sizeof path, "%s/%s.json", sub_gold, ids[i]);
        char *gold = cfg->cleaneval ? gold_cleaneval(path, &glen) : gold_json(path, &glen);
        if (!html || !gold) {
            fprintf(stderr, "eval-html: skipping %s: cannot read page or gold (%s)\n", ids[i], path);
            free(html);
            free(gold);
            continue;
        }
        if (cfg->cleaneval)
            unwrap_cleaneval(html, &hlen);
        nm_doc doc;
        nm_error err;
        int64_t t0 = nm_time_mono_ns(), c0 = cpu_ns();
        int rc = nm_html_parse(arena, html, hlen, &doc, &err);
        parse_ns += nm_time_mono_ns() - t0;
        cpu_total_ns += cpu_ns() - c0;
        bytes += hlen;
        size_t plen = 0;
        char *pred = rc == 0 ? doc_text(&doc, &plen) : nm_xstrdup("");
        if (rc != 0)
            no_article++;
        nm_score_page page;
        nm_shingle_score_page(gold, glen, pred, plen, &page);
        nm_shingle_score_add(&total, &page);
        if (cfg->show) {
            printf("title: %s\nbyline: %s\nsite: %s\nlanguage: %s\npublished_ms: %lld modified_ms: %lld\n",
                   doc.title ? doc.title : "-", doc.byline ? doc.byline : "-",
                   doc.site_name ? doc.site_name : "-", doc.language ? doc.language : "-",
                   (long long)doc.published_unix_ms, (long long)doc.modified_unix_ms);
            for (size_t b = 0; b < doc.n_blocks; b++)
                printf("[%d/%d] %s\n", (int)doc.blocks[b].kind, doc.blocks[b].level, doc.blocks[b].text);
        }
        printf("page=%s f1=%.4f precision=%.4f recall=%.4f%s\n", ids[i], page.f1, page.precision,
               page.recall, rc != 0 ? " no-article" : "");
        free(pred);
        free(gold);
        free(html);
        nm_arena_reset(arena);
    }
    nm_arena_destroy(&arena);
    for (size_t i = 0; i < n_ids; i++)
        free(ids[i]);
    free(ids);
    double p, r, f1, acc;
    nm_shingle_score_result(&total, &p, &r, &f1, &acc);
    double pages = total.pages ? (double)total.pages : 1.0;
    printf("accuracy=%.4f no_article=%zu ms_per_page=%.3f cpu_ms_per_page=%.3f kb_per_page=%.0f "
           "cpu_mb_per_s=%.1f\n",
           acc, no_article, (double)parse_ns / 1e6 / pages, (double)cpu_total_ns / 1e6 / pages,
           (double)bytes / 1024.0 / pages, cpu_total_ns ? (double)bytes / 1048576.0 / ((double)cpu_total_ns / 1e9) : 0.0);
    printf("f1=%.4f precision=%.4f recall=%.4f pages=%zu\n", f1, p, r, total.pages);
    return 0;
}

int main(int argc, char **argv)
{
    eval_cfg cfg = {.dir = NULL};
    bool cleaneval = false;
    const char *show = NULL;
    nm_opt opts[] = {
        {"cleaneval", 0, NM_OPT_FLAG, &cleaneval, NULL,
         "DIR is CleanEval-style (input/*.html, GoldStandard/*.txt)", 0, 0},
        {"show", 0, NM_OPT_STRING, &show, "ID", "print the blocks extracted from page ID", 0, 0},
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    int first;
    nm_error err;
    int rc = nm_opts_parse(opts, n_opts, argc, argv, &first, &err);
    if (rc == NM_OPTS_HELP) {
        nm_opts_usage(stdout, "eval-html", "[--cleaneval] [--show ID] DIR",
                      "Scores nm_html_parse against a benchmark's true article bodies.", opts, n_opts);
        return 0;
    }
    if (rc != 0 || argc - first != 1) {
        fprintf(stderr, "eval-html: %s\n", rc != 0 ? err.msg : "expected one DIR argument");
        return 2;
    }
    cfg.cleaneval = cleaneval;
    cfg.show = show;
    cfg.dir = argv[first];
    return run(&cfg);
}
