/* nm_store_snippet: FTS5's snippet() for one column, tokenizing once and
 * only as far as needed (see nm_store_snippet.h). The choice of the window
 * and the marking follow SQLite's fts5_aux.c (fts5SnippetFunction,
 * fts5SnippetScore, fts5SentenceFinderCb, fts5HighlightCb, fts5CInstIter)
 * step by step, so that the text is the same. */
#include "nm_store_snippet.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"

#define MAX_TOKENS 64

/* A token's bytes in the column text. */
typedef struct span {
    int start, end;
} span;

/* The tokens of the column text, up to limit, and the sentence starts
 * among them (token numbers). */
typedef struct scan {
    const char *doc;
    int limit;
    span *toks;
    int n_toks, cap_toks;
    int *firsts;
    int n_firsts, cap_firsts;
} scan;

static void push_int(int **v, int *n, int *cap, int x)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *v = nm_xrealloc(*v, (size_t)*cap * sizeof **v);
    }
    (*v)[(*n)++] = x;
}

/* A token: its offsets, and whether a sentence starts with it (the first
 * token, or one after whitespace that follows '.' or ':'). Stops the
 * tokenizer (SQLITE_DONE) past the limit. */
static int on_token(void *ctx, int tflags, const char *token, int n_token, int start, int end)
{
    (void)token;
    (void)n_token;
    scan *s = ctx;
    if (tflags & FTS5_TOKEN_COLOCATED)
        return SQLITE_OK;
    if (s->n_toks >= s->limit)
        return SQLITE_DONE;
    int pos = s->n_toks;
    if (pos > 0) {
        int i;
        char c = 0;
        for (i = start - 1; i >= 0; i--) {
            c = s->doc[i];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                break;
        }
        if (i != start - 1 && (c == '.' || c == ':'))
            push_int(&s->firsts, &s->n_firsts, &s->cap_firsts, pos);
    } else {
        push_int(&s->firsts, &s->n_firsts, &s->cap_firsts, 0);
    }
    if (s->n_toks == s->cap_toks) {
        s->cap_toks = s->cap_toks ? s->cap_toks * 2 : 256;
        s->toks = nm_xrealloc(s->toks, (size_t)s->cap_toks * sizeof *s->toks);
    }
    s->toks[s->n_toks++] = (span){start, end};
    return SQLITE_OK;
}

/* A phrase instance in the column: phrase number and first token. */
typedef struct inst {
    int phrase, off;
} inst;

/* The score of the window of n_token tokens from pos (1000 per phrase seen,
 * 1 per repeat) and, when adj is not NULL, the window's start moved to
 * centre its matches (fts5SnippetScore). */
static int window_score(const inst *in, int n_in, const int *phrase_size, unsigned char *seen,
                        size_t n_phrase, int doc_size, int pos, int n_token, int *adj)
{
    memset(seen, 0, n_phrase);
    int score = 0, first = -1, last = 0;
    for (int i = 0; i < n_in; i++) {
        if (in[i].off >= pos && in[i].off < pos + n_token) {
            score += seen[in[i].phrase] ? 1 : 1000;
            seen[in[i].phrase] = 1;
            if (first < 0)
                first = in[i].off;
            last = in[i].off + phrase_size[in[i].phrase];
        }
    }
    if (adj) {
        long long a = first - (n_token - (last - first)) / 2;
        if (a + n_token > doc_size)
            a = doc_size - n_token;
        if (a < 0)
            a = 0;
        *adj = (int)a;
    }
    return score;
}

/* Coalesced runs of instances (overlapping ones merged), in order:
 * fts5CInstIter. */
typedef struct runs {
    const inst *in;
    int n_in, next;
    const int *phrase_size;
    int start, end; /* the current run's tokens, or -1 */
} runs;

static void runs_next(runs *r)
{
    r->start = r->end = -1;
    while (r->next < r->n_in) {
        const inst *i = &r->in[r->next];
        int end = i->off - 1 + r->phrase_size[i->phrase];
        if (r->start < 0) {
            r->start = i->off;
            r->end = end;
        } else if (i->off <= r->end) {
            if (end > r->end)
                r->end = end;
        } else {
            break;
        }
        r->next++;
    }
}

typedef struct out {
    char *buf;
    size_t len, cap;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        o->cap = (o->len + n + 1) * 2;
        o->buf = nm_xrealloc(o->buf, o->cap);
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

/* The window snippet() picks (fts5SnippetFunction): for each instance in
 * order, the window around it, then the window from the start of its
 * sentence (a bonus of 100, 120 at the text's start); the first best wins.
 * Returns its first token, or -1 when an instance that may still win lies
 * past the tokens in s (and s is not complete).
 *
 * Why bound[] may stop the loop: instances are in text order, so the
 * sentence window of instance i starts either where an earlier candidate
 * did (same score: it cannot win again), or at in[i-1] (that window plus
 * its bonus), or past in[i-1] (then it holds no instance before in[i], so
 * it scores at most the window at in[i], plus 100). Hence no candidate from
 * instance i on beats bound[i-1], the most of window(k) + bonus over
 * k >= i - 1; once the best reaches it, the rest cannot win (ties keep
 * the first). */
static int choose_window(const inst *in, int n_in, const int *phrase_size, unsigned char *seen,
                         size_t n_phrase, int doc_size, int n_token, const scan *s,
                         const int *bound, bool complete)
{
    int best_score = 0, best_start = 0;
    for (int i = 0; i < n_in; i++) {
        if (i > 0 && best_score >= bound[i - 1])
            break;
        int adj, io = in[i].off;
        if (!complete && io + n_token > s->limit)
            return -1;
        int score = window_score(in, n_in, phrase_size, seen, n_phrase, doc_size, io, n_token,
                                 &adj);
        if (score > best_score) {
            best_score = score;
            best_start = adj;
        }
        if (s->n_firsts && doc_size > n_token) { /* or from the sentence's start */
            int j;
            for (j = 0; j < s->n_firsts - 1; j++)
                if (s->firsts[j + 1] > io)
                    break;
            if (s->firsts[j] < io) {
                score = window_score(in, n_in, phrase_size, seen, n_phrase, doc_size,
                                     s->firsts[j], n_token, NULL) +
                        (s->firsts[j] == 0 ? 120 : 100);
                if (score > best_score) {
                    best_score = score;
                    best_start = s->firsts[j];
                }
            }
        }
    }
    return best_start;
}

static const char *arg_text(sqlite3_value *v)
{
    const char *t = (const char *)sqlite3_value_text(v);
    return t ? t : "";
}

static void nm_snippet(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                       int n_val, sqlite3_value **val)
{
    if (n_val != 5) {
        sqlite3_result_error(ctx, "nm_snippet: wrong number of arguments", -1);
        return;
    }
    int col = sqlite3_value_int(val[0]);
    const char *open = arg_text(val[1]), *close = arg_text(val[2]), *ellipsis = arg_text(val[3]);
    int n_token = sqlite3_value_int(val[4]);
    n_token = n_token < 1 ? 1 : n_token > MAX_TOKENS ? MAX_TOKENS : n_token;
    if (col < 0 || col >= api->xColumnCount(fts)) {
        sqlite3_result_error(ctx, "nm_snippet: the column must be one of the table's", -1);
        return;
    }
    int n_phrase = api->xPhraseCount(fts), n_inst = 0, rc = api->xInstCount(fts, &n_inst);
    const char *doc = NULL;
    int n_doc = 0, doc_size = 0;
    if (rc == SQLITE_OK)
        rc = api->xColumnText(fts, col, &doc, &n_doc);
    if (rc == SQLITE_OK)
        rc = api->xColumnSize(fts, col, &doc_size);
    if (rc != SQLITE_OK) {
        sqlite3_result_error_code(ctx, rc);
        return;
    }
    if (!doc) {
        sqlite3_result_null(ctx);
        return;
    }
    int *phrase_size = nm_xcalloc((size_t)n_phrase + 1, sizeof *phrase_size);
    unsigned char *seen = nm_xcalloc((size_t)n_phrase + 1, 1);
    inst *in = nm_xcalloc((size_t)n_inst + 1, sizeof *in);
    for (int p = 0; p < n_phrase; p++)
        phrase_size[p] = api->xPhraseSize(fts, p);
    int n_in = 0, last_off = -1;
    for (int i = 0; i < n_inst && rc == SQLITE_OK; i++) {
        int p, c, off;
        rc = api->xInst(fts, i, &p, &c, &off);
        if (rc == SQLITE_OK && c == col) {
            in[n_in++] = (inst){p, off};
            if (off > last_off)
                last_off = off;
        }
    }
    /* Which instances can still win: bound[i] is the most any candidate
     * from instance i on can score (see choose_window), so that the text
     * is tokenized only as far as the candidates that matter. */
    int *bound = nm_xcalloc((size_t)n_in + 1, sizeof *bound);
    bool sorted = true;
    for (int i = 1; i < n_in; i++)
        sorted = sorted && in[i].off >= in[i - 1].off;
    for (int i = n_in - 1; i >= 0; i--) {
        int adj, plain = window_score(in, n_in, phrase_size, seen, (size_t)n_phrase, doc_size,
                                      in[i].off, n_token, &adj);
        int top = plain + (in[i].off == 0 ? 120 : 100);
        if (i + 1 < n_in && bound[i + 1] > top)
            top = bound[i + 1];
        bound[i] = top; /* the most of window + bonus over k >= i */
    }
    for (int i = 0; i < n_in && !sorted; i++)
        bound[i] = INT_MAX; /* the reasoning needs text order: no stopping early */
    /* First the text up to a little past the first match; all of what can
     * matter (last_off + n_token) when that is not enough. */
    int full = (last_off > 0 ? last_off : 0) + n_token;
    int first_try = (n_in ? in[0].off : 0) + 8 * n_token;
    scan s = {.doc = doc, .limit = first_try < full ? first_try : full};
    int best_start = -1;
    while (rc == SQLITE_OK && best_start < 0) {
        s.n_toks = s.n_firsts = 0;
        rc = api->xTokenize(fts, doc, n_doc, &s, on_token);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
        bool complete = s.n_toks < s.limit || s.limit >= full;
        if (rc == SQLITE_OK)
            best_start = choose_window(in, n_in, phrase_size, seen, (size_t)n_phrase, doc_size,
                                       n_token, &s, bound, complete);
        s.limit = full;
    }
    free(bound);
    out o = {0};
    put(&o, "", 0);
    if (rc == SQLITE_OK) {
        int range_start = best_start, range_end = best_start + n_token - 1, at = 0;
        runs r = {in, n_in, 0, phrase_size, -1, -1};
        runs_next(&r);
        if (best_start > 0)
            put(&o, ellipsis, strlen(ellipsis));
        while (r.start >= 0 && r.start < best_start)
            runs_next(&r);
        for (int pos = range_start; pos <= range_end && pos < s.n_toks; pos++) {
            span t = s.toks[pos];
            if (range_start && pos == range_start)
                at = t.start;
            if (pos == r.start) {
                put(&o, doc + at, (size_t)(t.start - at));
                put(&o, open, strlen(open));
                at = t.start;
            }
            if (pos == r.end) {
                if (r.start < range_start)
                    put(&o, open, strlen(open));
                put(&o, doc + at, (size_t)(t.end - at));
                put(&o, close, strlen(close));
                at = t.end;
                runs_next(&r);
            }
            if (pos == range_end) {
                put(&o, doc + at, (size_t)(t.end - at));
                at = t.end;
                if (pos >= r.start && pos < r.end)
                    put(&o, close, strlen(close));
            }
        }
        if (range_end >= doc_size - 1)
            put(&o, doc + at, (size_t)(n_doc - at));
        else
            put(&o, ellipsis, strlen(ellipsis));
    }
    if (rc == SQLITE_OK)
        sqlite3_result_text(ctx, o.buf, (int)o.len, free);
    else {
        free(o.buf);
        sqlite3_result_error_code(ctx, rc);
    }
    free(s.toks);
    free(s.firsts);
    free(in);
    free(seen);
    free(phrase_size);
}

int nm_store_snippet_register(sqlite3 *db, nm_error *err)
{
    fts5_api *fts5 = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_pointer(st, 1, (void *)&fts5, "fts5_api_ptr", NULL);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (!fts5 || fts5->iVersion < 2)
        return nm_error_set(err, NM_ERR_DB, "this SQLite has no FTS5");
    if (fts5->xCreateFunction(fts5, "nm_snippet", NULL, nm_snippet, NULL) != SQLITE_OK)
        return nm_error_set(err, NM_ERR_DB, "cannot register nm_snippet: %s", sqlite3_errmsg(db));
    return 0;
}
