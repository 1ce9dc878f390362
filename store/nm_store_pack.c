/*
 * nm_store_pack: the packed columns of schema version 5 and the SQL
 * functions that read them (see "PACKED COLUMNS" in results_schema.sql).
 *
 *   article_rows.body_zstd      the body, one zstd frame (content size set)
 *   article_rows.sentences_packed  per sentence: zigzag(paragraph - previous
 *                               paragraph), zigzag(start - previous end),
 *                               end - start, n_words, summary_rank (0 none)
 *   article_entities.mentions_packed
 *                               per mention: idx, zigzag(start - previous
 *                               start), end - start, sentence + 1 (0 none)
 *   article_rows.keyphrases_packed  per keyphrase, best first: length and bytes
 *                               of the phrase, 0 if the stem is the phrase
 *                               else its length + 1 and bytes, the score (8
 *                               bytes, IEEE double little-endian), n_occurrences
 *
 * Every number is a LEB128 varint after a first byte PACK_FORMAT. The
 * views (articles.body, .summary, .sentences_json, .keyphrases_json, and
 * sentences, mentions) call nm_unzstd(), nm_summary(), nm_sentences_json(),
 * nm_mentions_json() and nm_keyphrases_json(), which print exactly the JSON
 * that version 4 stored (the view keyphrases reads each score with
 * nm_keyphrase_score(), the exact double); the migration to version 5 packs
 * with nm_zstd(), nm_pack_sentences(), nm_pack_mentions() and the aggregate
 * nm_pack_keyphrases().
 */
#include "nm_store_sqlite.h" /* first: nm_store's SQLite or the extension's */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "nm_alloc.h"
#include "nm_store_int.h"

#define PACK_FORMAT 1
#define ZSTD_LEVEL 1 /* 2-3 compress these bodies under 1% better at 1.5x the CPU */

/* ---- varints ---------------------------------------------------------- */

static void put_varint(nm_sbuf *b, uint64_t v)
{
    char tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (char)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (char)v;
    nm_sbuf_append(b, tmp, n);
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Reads one varint at *p (< end); false when the data ends or runs over. */
static bool get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        unsigned char c = *(*p)++;
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = r;
            return true;
        }
    }
    return false;
}

/* ---- writing ---------------------------------------------------------- */

void nm_store_pack_sentences(nm_sbuf *out, const nm_extract_result *r, const uint32_t *ranks)
{
    nm_sbuf_reset(out);
    nm_sbuf_append(out, (const char[]){PACK_FORMAT}, 1);
    int64_t prev_par = 0, prev_end = 0;
    for (size_t i = 0; i < r->n_sentences; i++) {
        const nm_sentence *x = &r->sentences[i];
        put_varint(out, zigzag((int64_t)x->paragraph - prev_par));
        put_varint(out, zigzag((int64_t)x->span.start - prev_end));
        put_varint(out, x->span.end - x->span.start);
        put_varint(out, x->n_words);
        put_varint(out, ranks[i]);
        prev_par = x->paragraph;
        prev_end = (int64_t)x->span.end;
    }
}

void nm_store_pack_mentions_begin(nm_sbuf *out)
{
    nm_sbuf_reset(out);
    nm_sbuf_append(out, (const char[]){PACK_FORMAT}, 1);
}

void nm_store_pack_mention(nm_sbuf *out, size_t idx, const nm_mention *x, int64_t *prev_start)
{
    put_varint(out, idx);
    put_varint(out, zigzag((int64_t)x->span.start - *prev_start));
    put_varint(out, x->span.end - x->span.start);
    put_varint(out, x->sentence == NM_NO_INDEX ? 0 : (uint64_t)x->sentence + 1);
    *prev_start = (int64_t)x->span.start;
}

static void put_double(nm_sbuf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    char tmp[8];
    for (int i = 0; i < 8; i++)
        tmp[i] = (char)(u >> (8 * i));
    nm_sbuf_append(b, tmp, 8);
}

static void put_keyphrase(nm_sbuf *out, const char *phrase, size_t phrase_len, const char *stem,
                          size_t stem_len, double score, uint64_t count)
{
    put_varint(out, phrase_len);
    nm_sbuf_append(out, phrase, phrase_len);
    bool same = stem_len == phrase_len && !memcmp(stem, phrase, phrase_len);
    put_varint(out, same ? 0 : stem_len + 1);
    if (!same)
        nm_sbuf_append(out, stem, stem_len);
    put_double(out, score);
    put_varint(out, count);
}

void nm_store_pack_keyphrases(nm_sbuf *out, const nm_extract_result *r)
{
    nm_sbuf_reset(out);
    nm_sbuf_append(out, (const char[]){PACK_FORMAT}, 1);
    for (size_t i = 0; i < r->n_keyphrases; i++) {
        const nm_keyphrase *x = &r->keyphrases[i];
        const char *stem = x->stem ? x->stem : x->text;
        put_keyphrase(out, x->text, strlen(x->text), stem, strlen(stem), x->score, x->count);
    }
}

/* One keyphrase of a packed value: the pointers index the value. */
typedef struct {
    const unsigned char *phrase, *stem;
    uint64_t phrase_len, stem_len, count;
    double score;
} packed_keyphrase;

/* Reads the keyphrase at *p; false at the end or on malformed data. */
static bool get_keyphrase(const unsigned char **p, const unsigned char *end, packed_keyphrase *k)
{
    uint64_t stem;
    if (!get_varint(p, end, &k->phrase_len) || k->phrase_len > (uint64_t)(end - *p))
        return false;
    k->phrase = *p;
    *p += k->phrase_len;
    if (!get_varint(p, end, &stem) || (stem && stem - 1 > (uint64_t)(end - *p)))
        return false;
    k->stem = stem ? *p : k->phrase;
    k->stem_len = stem ? stem - 1 : k->phrase_len;
    *p += stem ? stem - 1 : 0;
    if (end - *p < 8)
        return false;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)(*p)[i] << (8 * i);
    memcpy(&k->score, &u, sizeof u);
    *p += 8;
    return get_varint(p, end, &k->count);
}

/* The start and end of a packed keyphrases value after its format byte;
 * false if it is malformed (x'' is an empty list). */
static bool keyphrases_range(sqlite3_value *v, const unsigned char **p, const unsigned char **end)
{
    *p = sqlite3_value_blob(v);
    *end = *p + sqlite3_value_bytes(v);
    if (*p == *end)
        return true;
    return *(*p)++ == PACK_FORMAT;
}

int nm_store_zstd(nm_store *s, const char *text, size_t len, const void **out, size_t *out_len)
{
    if (!s->zctx && !(s->zctx = ZSTD_createCCtx()))
        return -1;
    size_t cap = ZSTD_compressBound(len);
    if (cap > s->zbuf_cap) {
        s->zbuf_cap = cap * 2;
        s->zbuf = nm_xrealloc(s->zbuf, s->zbuf_cap);
    }
    size_t n = ZSTD_compressCCtx(s->zctx, s->zbuf, s->zbuf_cap, text, len, ZSTD_LEVEL);
    if (ZSTD_isError(n))
        return -1;
    *out = s->zbuf;
    *out_len = n;
    return 0;
}

void nm_store_zstd_free(nm_store *s)
{
    ZSTD_freeCCtx(s->zctx);
    free(s->zbuf);
    s->zctx = NULL;
    s->zbuf = NULL;
    s->zbuf_cap = 0;
}

/* ---- SQL functions ---------------------------------------------------- */

/* Per connection: a decompression context and a buffer (the functions are
 * registered with it as user data; SQLite frees it with the connection). */
typedef struct {
    ZSTD_DCtx *dctx;
    ZSTD_CCtx *cctx;
    char *buf;
    size_t cap;
    nm_sbuf out;
} pack_ctx;

static void pack_ctx_free(void *p)
{
    pack_ctx *c = p;
    ZSTD_freeDCtx(c->dctx);
    ZSTD_freeCCtx(c->cctx);
    free(c->buf);
    nm_sbuf_free(&c->out);
    free(c);
}

/* Decompresses a body_zstd value into c->buf; its length, or -1. */
static int64_t unzstd(pack_ctx *c, const void *z, size_t len)
{
    unsigned long long size = ZSTD_getFrameContentSize(z, len);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1u << 30))
        return -1;
    if (size + 1 > c->cap) {
        c->cap = (size_t)size + 1 > 4096 ? (size_t)size + 1 : 4096;
        c->buf = nm_xrealloc(c->buf, c->cap);
    }
    if (!c->dctx && !(c->dctx = ZSTD_createDCtx()))
        return -1;
    size_t n = ZSTD_decompressDCtx(c->dctx, c->buf, c->cap, z, len);
    if (ZSTD_isError(n) || n != size)
        return -1;
    return (int64_t)n;
}

/* nm_unzstd(blob): the text of a zstd frame; NULL for NULL. */
static void fn_unzstd(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    const void *z = sqlite3_value_blob(argv[0]);
    size_t len = (size_t)sqlite3_value_bytes(argv[0]);
    if (len == 0) { /* x'': a row the migration could not fill */
        sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
        return;
    }
    int64_t n = unzstd(sqlite3_user_data(ctx), z, len);
    if (n < 0) {
        sqlite3_result_error(ctx, "nm_unzstd: not a zstd frame of this database", -1);
        return;
    }
    sqlite3_result_text(ctx, ((pack_ctx *)sqlite3_user_data(ctx))->buf, (int)n, SQLITE_TRANSIENT);
}

/* nm_zstd(text): a zstd frame of the text (the migration to version 5). */
static void fn_zstd(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    pack_ctx *c = sqlite3_user_data(ctx);
    const char *text = (const char *)sqlite3_value_text(argv[0]);
    size_t len = (size_t)sqlite3_value_bytes(argv[0]);
    size_t cap = ZSTD_compressBound(len);
    if (!c->cctx && !(c->cctx = ZSTD_createCCtx())) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    char *out = nm_xmalloc(cap);
    size_t n = ZSTD_compressCCtx(c->cctx, out, cap, text ? text : "", len, ZSTD_LEVEL);
    if (ZSTD_isError(n)) {
        free(out);
        sqlite3_result_error(ctx, ZSTD_getErrorName(n), -1);
        return;
    }
    sqlite3_result_blob(ctx, out, (int)n, free);
}

/* The numbers of a packed value after its format byte; false if malformed. */
static bool unpack(sqlite3_value *v, uint64_t *nums, size_t max, size_t per, size_t *n)
{
    const unsigned char *p = sqlite3_value_blob(v);
    const unsigned char *end = p + sqlite3_value_bytes(v);
    *n = 0;
    if (p == end)
        return true; /* x'': nothing (a row the migration could not fill) */
    if (*p++ != PACK_FORMAT)
        return false;
    while (p < end) {
        if (*n >= max || !get_varint(&p, end, &nums[(*n)++]))
            return false;
    }
    return *n % per == 0;
}

/* Both JSON printers take at most this many numbers (larger values are
 * printed from the heap). */
#define STACK_NUMS 1024

static uint64_t *nums_for(sqlite3_value *v, uint64_t *stack, size_t *max)
{
    size_t need = (size_t)sqlite3_value_bytes(v); /* a number takes >= 1 byte */
    if (need <= STACK_NUMS) {
        *max = STACK_NUMS;
        return stack;
    }
    *max = need;
    return nm_xmalloc(need * sizeof *stack);
}

/* nm_sentences_json(sentences_packed): version 4's sentences_json. */
static void fn_sentences_json(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    pack_ctx *c = sqlite3_user_data(ctx);
    uint64_t stack[STACK_NUMS];
    size_t max, n;
    uint64_t *v = nums_for(argv[0], stack, &max);
    if (!unpack(argv[0], v, max, 5, &n)) {
        if (v != stack)
            free(v);
        sqlite3_result_error(ctx, "nm_sentences_json: malformed sentences_packed", -1);
        return;
    }
    nm_sbuf *j = &c->out;
    nm_sbuf_reset(j);
    nm_sbuf_append(j, "[", 1);
    int64_t par = 0, end = 0;
    for (size_t i = 0; i < n; i += 5) {
        par += unzigzag(v[i]);
        int64_t start = end + unzigzag(v[i + 1]);
        end = start + (int64_t)v[i + 2];
        nm_sbuf_printf(j, "%s[%lld,%lld,%lld,%llu", i ? ",": "", (long long)par, (long long)start,
                       (long long)end, (unsigned long long)v[i + 3]);
        if (v[i + 4])
            nm_sbuf_printf(j, ",%llu", (unsigned long long)v[i + 4]);
        nm_sbuf_append(j, "]", 1);
    }
    nm_sbuf_append(j, "]", 1);
    if (v != stack)
        free(v);
    sqlite3_result_text(ctx, j->data, (int)j->len, SQLITE_TRANSIENT);
}

/* nm_mentions_json(mentions_packed): version 4's mentions_json. */
static void fn_mentions_json(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    pack_ctx *c = sqlite3_user_data(ctx);
    uint64_t stack[STACK_NUMS];
    size_t max, n;
    uint64_t *v = nums_for(argv[0], stack, &max);
    if (!unpack(argv[0], v, max, 4, &n)) {
        if (v != stack)
            free(v);
        sqlite3_result_error(ctx, "nm_mentions_json: malformed mentions_packed", -1);
        return;
    }
    nm_sbuf *j = &c->out;
    nm_sbuf_reset(j);
    nm_sbuf_append(j, "[", 1);
    int64_t start = 0;
    for (size_t i = 0; i < n; i += 4) {
        start += unzigzag(v[i + 1]);
        nm_sbuf_printf(j, "%s[%llu,%lld,%lld,", i ? "," : "", (unsigned long long)v[i],
                       (long long)start, (long long)(start + (int64_t)v[i + 2]));
        if (v[i + 3])
            nm_sbuf_printf(j, "%llu]", (unsigned long long)(v[i + 3] - 1));
        else
            nm_sbuf_append(j, "null]", 5);
    }
    nm_sbuf_append(j, "]", 1);
    if (v != stack)
        free(v);
    sqlite3_result_text(ctx, j->data, (int)j->len, SQLITE_TRANSIENT);
}

/* nm_summary(body, sentences_packed): the summary sentences of body in
 * summary_rank order, joined by spaces (what version 4 stored as summary). */
static void fn_summary(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    pack_ctx *c = sqlite3_user_data(ctx);
    const char *body = (const char *)sqlite3_value_text(argv[0]);
    size_t body_len = (size_t)sqlite3_value_bytes(argv[0]);
    uint64_t stack[STACK_NUMS];
    size_t max, n;
    uint64_t *v = nums_for(argv[1], stack, &max);
    if (!unpack(argv[1], v, max, 5, &n)) {
        if (v != stack)
            free(v);
        sqlite3_result_error(ctx, "nm_summary: malformed sentences_packed", -1);
        return;
    }
    /* turn each sentence's numbers into (start, end, rank) in place */
    int64_t end = 0;
    size_t n_ranked = 0;
    for (size_t i = 0; i < n; i += 5) {
        int64_t start = end + unzigzag(v[i + 1]);
        end = start + (int64_t)v[i + 2];
        v[i] = (uint64_t)start;
        v[i + 1] = (uint64_t)end;
        n_ranked += v[i + 4] != 0;
    }
    nm_sbuf *j = &c->out;
    nm_sbuf_reset(j);
    for (uint64_t rank = 1; rank <= n_ranked; rank++) {
        for (size_t i = 0; i < n; i += 5) {
            if (v[i + 4] != rank)
                continue;
            if (v[i] <= v[i + 1] && v[i + 1] <= body_len) {
                if (j->len)
                    nm_sbuf_append(j, " ", 1);
                nm_sbuf_append(j, body + v[i], (size_t)(v[i + 1] - v[i]));
            }
            break;
        }
    }
    if (v != stack)
        free(v);
    sqlite3_result_text(ctx, j->len ? j->data : "", (int)j->len, SQLITE_TRANSIENT);
}

/* Collects into nums (int64s) the members of a JSON array of arrays of
 * integers or null (read as null_as), INT64_MIN after each inner array;
 * false on anything else. */
static bool json_numbers(const char *s, nm_sbuf *nums, int64_t null_as)
{
    nm_sbuf_reset(nums);
    int depth = 0;
    for (const char *p = s; *p;) {
        if (*p == '[') {
            depth++, p++;
        } else if (*p == ']') {
            depth--, p++;
            if (depth == 1) { /* an inner array ends: a separator marker */
                int64_t mark = INT64_MIN;
                nm_sbuf_append(nums, (const char *)&mark, sizeof mark);
            }
        } else if (*p == ',' || *p == ' ' || *p == '\n') {
            p++;
        } else if (!strncmp(p, "null", 4)) {
            nm_sbuf_append(nums, (const char *)&null_as, sizeof null_as);
            p += 4;
        } else {
            char *e;
            int64_t x = strtoll(p, &e, 10);
            if (e == p)
                return false;
            nm_sbuf_append(nums, (const char *)&x, sizeof x);
            p = e;
        }
        if (depth < 0 || depth > 2)
            return false;
    }
    return depth == 0;
}

/* nm_pack_sentences(sentences_json) and nm_pack_mentions(mentions_json):
 * version 4's JSON columns packed (the migration to version 5). */
static void fn_pack(sqlite3_context *ctx, sqlite3_value *json, bool sentences)
{
    pack_ctx *c = sqlite3_user_data(ctx);
    const char *s = (const char *)sqlite3_value_text(json);
    nm_sbuf nums = {0};
    if (!json_numbers(s ? s : "[]", &nums, -1)) {
        nm_sbuf_free(&nums);
        sqlite3_result_error(ctx, "nm_pack: not an array of number arrays", -1);
        return;
    }
    const int64_t *x = (const int64_t *)nums.data;
    size_t n = nums.len / sizeof *x;
    nm_sbuf *out = &c->out;
    nm_sbuf_reset(out);
    nm_sbuf_append(out, (const char[]){PACK_FORMAT}, 1);
    int64_t prev_a = 0, prev_b = 0, row[5];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != INT64_MIN) {
            if (k < 5)
                row[k] = x[i];
            k++;
            continue;
        }
        if (sentences) { /* [paragraph, start, end, n_words(, rank)] */
            if (k != 4 && k != 5)
                goto bad;
            put_varint(out, zigzag(row[0] - prev_a));
            put_varint(out, zigzag(row[1] - prev_b));
            put_varint(out, (uint64_t)(row[2] - row[1]));
            put_varint(out, (uint64_t)row[3]);
            put_varint(out, k == 5 ? (uint64_t)row[4] : 0);
            prev_a = row[0];
            prev_b = row[2];
        } else { /* [idx, start, end, sentence or null] */
            if (k != 4)
                goto bad;
            put_varint(out, (uint64_t)row[0]);
            put_varint(out, zigzag(row[1] - prev_a));
            put_varint(out, (uint64_t)(row[2] - row[1]));
            put_varint(out, row[3] < 0 ? 0 : (uint64_t)row[3] + 1);
            prev_a = row[1];
        }
        k = 0;
    }
    nm_sbuf_free(&nums);
    sqlite3_result_blob(ctx, out->data, (int)out->len, SQLITE_TRANSIENT);
    return;
bad:
    nm_sbuf_free(&nums);
    sqlite3_result_error(ctx, "nm_pack: an inner array of the wrong size", -1);
}

static void fn_pack_sentences(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    fn_pack(ctx, argv[0], true);
}

static void fn_pack_mentions(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    fn_pack(ctx, argv[0], false);
}

/* nm_keyphrases_json(keyphrases_packed): [[phrase, stem, score,
 * n_occurrences], ...] best first, for the view keyphrases. */
static void fn_keyphrases_json(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    pack_ctx *c = sqlite3_user_data(ctx);
    const unsigned char *p, *end;
    nm_sbuf *j = &c->out;
    nm_sbuf_reset(j);
    nm_sbuf_append(j, "[", 1);
    bool ok = keyphrases_range(argv[0], &p, &end);
    packed_keyphrase k;
    for (bool first = true; ok && p < end; first = false) {
        if (!(ok = get_keyphrase(&p, end, &k)))
            break;
        nm_sbuf_append(j, first ? "[" : ",[", first ? 1 : 2);
        nm_sbuf_json_str_n(j, (const char *)k.phrase, k.phrase_len);
        nm_sbuf_append(j, ",", 1);
        nm_sbuf_json_str_n(j, (const char *)k.stem, k.stem_len);
        nm_sbuf_printf(j, ",%.17g,%llu]", k.score, (unsigned long long)k.count);
    }
    if (!ok) {
        sqlite3_result_error(ctx, "nm_keyphrases_json: malformed keyphrases_packed", -1);
        return;
    }
    nm_sbuf_append(j, "]", 1);
    sqlite3_result_text(ctx, j->data, (int)j->len, SQLITE_TRANSIENT);
}

/* nm_keyphrase_score(keyphrases_packed, i): the score of keyphrase i (from
 * 0) as stored, exactly (JSON text would round-trip through SQLite's own
 * float parser). */
static void fn_keyphrase_score(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const unsigned char *p, *end;
    int64_t want = sqlite3_value_int64(argv[1]);
    packed_keyphrase k;
    if (!keyphrases_range(argv[0], &p, &end))
        goto bad;
    for (int64_t i = 0; p < end; i++) {
        if (!get_keyphrase(&p, end, &k))
            goto bad;
        if (i == want) {
            sqlite3_result_double(ctx, k.score);
            return;
        }
    }
    sqlite3_result_null(ctx);
    return;
bad:
    sqlite3_result_error(ctx, "nm_keyphrase_score: malformed keyphrases_packed", -1);
}

/* nm_pack_keyphrases(phrase, stem, score, n_occurrences), an aggregate over
 * an article's keyphrases rows in rank order (the migration to version 5). */
static void fn_pack_keyphrases_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    nm_sbuf *out = sqlite3_aggregate_context(ctx, sizeof *out);
    if (!out) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (!out->len)
        nm_sbuf_append(out, (const char[]){PACK_FORMAT}, 1);
    const char *phrase = (const char *)sqlite3_value_text(argv[0]);
    size_t phrase_len = (size_t)sqlite3_value_bytes(argv[0]);
    const char *stem = (const char *)sqlite3_value_text(argv[1]);
    size_t stem_len = (size_t)sqlite3_value_bytes(argv[1]);
    put_keyphrase(out, phrase ? phrase : "", phrase_len, stem ? stem : "", stem_len,
                  sqlite3_value_double(argv[2]), (uint64_t)sqlite3_value_int64(argv[3]));
}

static void fn_pack_keyphrases_final(sqlite3_context *ctx)
{
    nm_sbuf *out = sqlite3_aggregate_context(ctx, 0);
    if (!out || !out->len) {
        sqlite3_result_zeroblob(ctx, 0);
        return;
    }
    sqlite3_result_blob(ctx, out->data, (int)out->len, SQLITE_TRANSIENT);
    nm_sbuf_free(out);
}

int nm_store_register_pack_functions(sqlite3 *db)
{
    static const struct {
        const char *name;
        int argc;
        void (*fn)(sqlite3_context *, int, sqlite3_value **);
    } fns[] = {
        {"nm_unzstd", 1, fn_unzstd},
        {"nm_sentences_json", 1, fn_sentences_json},
        {"nm_mentions_json", 1, fn_mentions_json},
        {"nm_summary", 2, fn_summary},
        {"nm_zstd", 1, fn_zstd},
        {"nm_pack_sentences", 1, fn_pack_sentences},
        {"nm_pack_mentions", 1, fn_pack_mentions},
        {"nm_keyphrases_json", 1, fn_keyphrases_json},
        {"nm_keyphrase_score", 2, fn_keyphrase_score},
    };
    pack_ctx *c = nm_xcalloc(1, sizeof *c);
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        /* the last registration owns c: SQLite frees it with the connection */
        int rc = sqlite3_create_function_v2(db, fns[i].name, fns[i].argc, flags, c, fns[i].fn,
                                            NULL, NULL,
                                            i + 1 == sizeof fns / sizeof fns[0] ? pack_ctx_free
                                                                                : NULL);
        if (rc != SQLITE_OK) {
            if (i + 1 < sizeof fns / sizeof fns[0])
                pack_ctx_free(c);
            return rc;
        }
    }
    int rc = sqlite3_create_function_v2(db, "nm_pack_keyphrases", 4, flags, NULL, NULL,
                                        fn_pack_keyphrases_step, fn_pack_keyphrases_final, NULL);
    return rc;
}
