/* nm_ner: model file, sentence tagger, spans and MISC mapping. See nm_ner.h. */
#include "nm_ner.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_ner_int.h"

#define MAGIC "NMNERMDL"
#define FORMAT_VERSION 2u
#define MIN_BITS 8u
#define MAX_BITS 24u
#define MAX_INFO (64u * 1024u)
#define MAX_GAZ (4u * 1024u * 1024u)

static const char *const label_names[NM_NER_LABELS] = {
    "O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"};
static const char *const type_names[NM_NER_TYPES] = {"PER", "ORG", "LOC", "MISC"};

const char *nm_ner_label_name(uint8_t label)
{
    return label < NM_NER_LABELS ? label_names[label] : NULL;
}

int nm_ner_label_parse(const char *name, size_t len, uint8_t *label)
{
    for (uint8_t l = 0; l < NM_NER_LABELS; l++)
        if (strlen(label_names[l]) == len && memcmp(label_names[l], name, len) == 0) {
            *label = l;
            return 0;
        }
    return -1;
}

const char *nm_ner_type_name(nm_ner_type type)
{
    return (unsigned)type < NM_NER_TYPES ? type_names[type] : "?";
}

/* IOB2: I-X may only follow B-X or I-X. */
static int allowed(int prev, int cur)
{
    if (cur == 0 || (cur & 1))
        return 1; /* O or B-X */
    return prev == cur || prev == cur - 1;
}

static void apply_constraints(nm_ner_model *m)
{
    for (int p = 0; p < NM_NER_LABELS; p++)
        for (int c = 0; c < NM_NER_LABELS; c++)
            if (!allowed(p, c))
                m->trans[p][c] = -INFINITY;
    for (int c = 2; c < NM_NER_LABELS; c += 2)
        m->start[c] = -INFINITY;
}

nm_ner_model *nm_ner_model_build(unsigned bits, unsigned features, const float *weights,
                                 const float start[NM_NER_LABELS],
                                 const float trans[NM_NER_LABELS * NM_NER_LABELS],
                                 const nm_ner_gaz *gaz, const char *info)
{
    nm_ner_model *m = nm_xcalloc(1, sizeof *m);
    m->bits = bits;
    m->features = features;
    size_t n = ((size_t)1 << bits) * NM_NER_LABELS;
    float maxabs = 0;
    for (size_t i = 0; i < n; i++)
        if (fabsf(weights[i]) > maxabs)
            maxabs = fabsf(weights[i]);
    m->scale = maxabs > 0 ? maxabs / 127.0f : 1.0f;
    m->w = nm_ner_table_alloc(n + NM_NER_ROW_PAD);
    for (size_t i = 0; i < n; i++)
        m->w[i] = (int8_t)lrintf(weights[i] / m->scale);
    memcpy(m->start, start, sizeof m->start);
    memcpy(m->trans, trans, sizeof m->trans);
    apply_constraints(m);
    nm_ner_gaz_init(&m->gaz, gaz ? gaz->n : 0);
    if (gaz)
        for (size_t i = 0; gaz->mask && i <= gaz->mask; i++)
            if (gaz->keys[i])
                nm_ner_gaz_add(&m->gaz, gaz->keys[i], gaz->vals[i]);
    m->info = nm_xstrdup(info ? info : "");
    nm_ner_model_prepare(m);
    return m;
}

void nm_ner_model_free(nm_ner_model **mp)
{
    if (!mp || !*mp)
        return;
    nm_ner_model *m = *mp;
    free(m->w);
    nm_ner_gaz_free(&m->gaz);
    free(m->info);
    free(m);
    *mp = NULL;
}

const char *nm_ner_model_info(const nm_ner_model *m)
{
    return m->info;
}

void nm_ner_model_lang(const nm_ner_model *m, char out[8])
{
    const char *p = m->info;
    const char *found = NULL;
    while ((p = strstr(p, "lang=")) != NULL) {
        if (p == m->info || p[-1] == ' ' || p[-1] == ';') {
            found = p + 5;
            break;
        }
        p += 5;
    }
    size_t n = 0;
    if (found)
        while (n < 7 && found[n] >= 'a' && found[n] <= 'z')
            n++;
    if (n == 0) {
        memcpy(out, "en", 3); /* models before languages were stored: English */
        return;
    }
    memcpy(out, found, n);
    out[n] = '\0';
}

/* ---- file format ---- */

typedef struct writer {
    unsigned char *buf;
    size_t len, cap;
} writer;

static void put(writer *w, const void *p, size_t n)
{
    if (w->len + n > w->cap) {
        while (w->len + n > w->cap)
            w->cap = w->cap ? w->cap * 2 : 4096;
        w->buf = nm_xrealloc(w->buf, w->cap);
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void put_u32(writer *w, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put(w, b, 4);
}

static void put_u64(writer *w, uint64_t v)
{
    put_u32(w, (uint32_t)v);
    put_u32(w, (uint32_t)(v >> 32));
}

static void put_f32(writer *w, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(w, v);
}

int nm_ner_model_save(const nm_ner_model *m, const char *path, nm_error *err)
{
    writer w = {0};
    put(&w, MAGIC, 8);
    put_u32(&w, FORMAT_VERSION);
    put_u32(&w, NM_NER_LABELS);
    put_u32(&w, m->bits);
    put_u32(&w, m->features);
    put_f32(&w, m->scale);
    uint32_t info_len = (uint32_t)strlen(m->info);
    put_u32(&w, info_len);
    put(&w, m->info, info_len);
    for (int c = 0; c < NM_NER_LABELS; c++)
        put_f32(&w, isinf(m->start[c]) ? 0.0f : m->start[c]);
    for (int p = 0; p < NM_NER_LABELS; p++)
        for (int c = 0; c < NM_NER_LABELS; c++)
            put_f32(&w, isinf(m->trans[p][c]) ? 0.0f : m->trans[p][c]);
    put_u32(&w, (uint32_t)m->gaz.n);
    for (size_t i = 0; m->gaz.mask && i <= m->gaz.mask; i++)
        if (m->gaz.keys[i]) {
            put_u64(&w, m->gaz.keys[i]);
            put(&w, &m->gaz.vals[i], 1);
        }
    size_t n = ((size_t)1 << m->bits) * NM_NER_LABELS;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)m->w[i];
        put(&w, &b, 1);
    }
    put_u64(&w, nm_ner_fnv1a(w.buf, w.len, NM_NER_FNV_BASIS));

    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int rc = 0;
    if (!f) {
        rc = nm_error_set(err, NM_ERR_IO, "writing NER model %s: %s", tmp, strerror(errno));
    } else {
        size_t wrote = fwrite(w.buf, 1, w.len, f);
        int closed = fclose(f);
        if (wrote != w.len || closed != 0)
            rc = nm_error_set(err, NM_ERR_IO, "writing NER model %s: %s", tmp, strerror(errno));
        else if (rename(tmp, path) != 0)
            rc = nm_error_set(err, NM_ERR_IO, "renaming %s to %s: %s", tmp, path,
                              strerror(errno));
        if (rc != 0)
            remove(tmp);
    }
    free(w.buf);
    return rc;
}

typedef struct reader {
    const unsigned char *p;
    size_t len, off;
} reader;

static int get(reader *r, void *out, size_t n)
{
    if (r->len - r->off < n)
        return -1;
    memcpy(out, r->p + r->off, n);
    r->off += n;
    return 0;
}

static int get_u32(reader *r, uint32_t *v)
{
    unsigned char b[4];
    if (get(r, b, 4) != 0)
        return -1;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

static int get_u64(reader *r, uint64_t *v)
{
    uint32_t lo, hi;
    if (get_u32(r, &lo) != 0 || get_u32(r, &hi) != 0)
        return -1;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

static int get_f32(reader *r, float *f)
{
    uint32_t v;
    if (get_u32(r, &v) != 0)
        return -1;
    memcpy(f, &v, 4);
    return isfinite(*f) ? 0 : -1;
}

int nm_ner_model_load_bytes(const void *data, size_t len, const char *name,
                            nm_ner_model **out, nm_error *err)
{
    *out = NULL;
    reader r = {data, len, 0};
    char magic[8];
    if (len < 8 || get(&r, magic, 8) != 0 || memcmp(magic, MAGIC, 8) != 0)
        return nm_error_set(err, NM_ERR_MALFORMED,
                            "NER model %s: not a newsmill NER model (bad magic)", name);
    if (len < 8 + 8 + 8)
        return nm_error_set(err, NM_ERR_MALFORMED, "NER model %s: truncated (%zu bytes)", name,
                            len);
    uint64_t want = 0;
    reader tail = {(const unsigned char *)data + len - 8, 8, 0};
    get_u64(&tail, &want);
    uint32_t version, labels, bits, features, info_len;
    float scale;
    get_u32(&r, &version);
    if (version != FORMAT_VERSION)
        return nm_error_set(err, NM_ERR_VERSION,
                            "NER model %s: format version %u, this build reads version %u",
                            name, version, FORMAT_VERSION);
    if (nm_ner_fnv1a(data, len - 8, NM_NER_FNV_BASIS) != want)
        return nm_error_set(err, NM_ERR_MALFORMED,
                            "NER model %s: checksum mismatch (corrupt or truncated file)", name);
    r.len = len - 8; /* the checksum is not part of the body */
    if (get_u32(&r, &labels) != 0 || get_u32(&r, &bits) != 0 || get_u32(&r, &features) != 0 ||
        get_f32(&r, &scale) != 0 || get_u32(&r, &info_len) != 0)
        return nm_error_set(err, NM_ERR_MALFORMED, "NER model %s: truncated header", name);
    if (labels != NM_NER_LABELS || bits < MIN_BITS || bits > MAX_BITS ||
        (features & ~(unsigned)NM_NER_F_ALL) || info_len > MAX_INFO || !(scale > 0))
        return nm_error_set(err, NM_ERR_MALFORMED,
                            "NER model %s: bad header (labels=%u bits=%u features=%#x)", name,
                            labels, bits, features);
    nm_ner_model *m = nm_xcalloc(1, sizeof *m);
    m->bits = bits;
    m->features = features;
    m->scale = scale;
    m->info = nm_xmalloc(info_len + 1);
    int bad = get(&r, m->info, info_len);
    m->info[bad ? 0 : info_len] = '\0';
    for (int c = 0; !bad && c < NM_NER_LABELS; c++)
        bad = get_f32(&r, &m->start[c]);
    for (int p = 0; !bad && p < NM_NER_LABELS; p++)
        for (int c = 0; !bad && c < NM_NER_LABELS; c++)
            bad = get_f32(&r, &m->trans[p][c]);
    uint32_t n_gaz = 0;
    if (!bad)
        bad = get_u32(&r, &n_gaz) != 0 || n_gaz > MAX_GAZ || (size_t)n_gaz * 9 > r.len - r.off;
    if (!bad) {
        nm_ner_gaz_init(&m->gaz, n_gaz);
        for (uint32_t i = 0; !bad && i < n_gaz; i++) {
            uint64_t key;
            uint8_t val;
            bad = get_u64(&r, &key) != 0 || get(&r, &val, 1) != 0;
            if (!bad)
                nm_ner_gaz_add(&m->gaz, key, val);
        }
    }
    size_t n = ((size_t)1 << bits) * NM_NER_LABELS;
    if (!bad && r.len - r.off != n)
        bad = 1;
    if (bad) {
        nm_ner_model_free(&m);
        return nm_error_set(err, NM_ERR_MALFORMED,
                            "NER model %s: sections do not match the file size", name);
    }
    m->w = nm_ner_table_alloc(n + NM_NER_ROW_PAD);
    const unsigned char *p = r.p + r.off;
    for (size_t i = 0; i < n; i++)
        m->w[i] = (int8_t)p[i];
    apply_constraints(m);
    nm_ner_model_prepare(m);
    *out = m;
    return 0;
}

int nm_ner_model_load(const char *path, nm_ner_model **out, nm_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return nm_error_set(err, NM_ERR_IO, "NER model %s: %s", path, strerror(errno));
    size_t cap = 1 << 20, len = 0;
    unsigned char *buf = nm_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            if (cap >= (size_t)1 << 30)
                break;
            cap *= 2;
            buf = nm_xrealloc(buf, cap);
        }
    }
    int rd_err = ferror(f);
    fclose(f);
    int rc;
    if (rd_err)
        rc = nm_error_set(err, NM_ERR_IO, "NER model %s: read error", path);
    else
        rc = nm_ner_model_load_bytes(buf, len, path, out, err);
    free(buf);
    return rc;
}

/* ---- tagging ---- */

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static inline void prefetch_rows(const nm_ner_model *m, const uint32_t *r)
{
    for (size_t k = 0; k < NM_NER_NF; k++) {
        const int8_t *w = m->w + (size_t)r[k] * NM_NER_LABELS;
        __builtin_prefetch(w);
        __builtin_prefetch(w + NM_NER_LABELS - 1); /* a row may straddle two lines */
    }
}

/* The sentence tagger: every feature row of every token looked up. The
 * document tagger (nm_ner_doc.c) gets the same sums with fewer lookups;
 * this one is the reference it is tested against. rows, e, score and back
 * have room for n tokens. */
static void decode(const nm_ner_model *m, const nm_ner_tokinfo *ti, size_t n, uint8_t *labels,
                   uint32_t *rows, int16_t *e, float *score, uint8_t *back)
{
    nm_ner_sentence_rows(ti, n, m->features, m->bits, rows);

    /* The weight rows are random reads in a table of megabytes: ask for the
     * rows of the tokens ahead while adding up the current one. */
    enum { AHEAD = 4 };
    for (size_t i = 0; i < n && i < AHEAD; i++)
        prefetch_rows(m, rows + i * NM_NER_NF);
    for (size_t i = 0; i < n; i++) {
        if (i + AHEAD < n)
            prefetch_rows(m, rows + (i + AHEAD) * NM_NER_NF);
        int16_t *ei = e + i * NM_NER_LANES;
        memset(ei, 0, NM_NER_LANES * sizeof *ei);
        const uint32_t *r = rows + i * NM_NER_NF;
        for (size_t k = 0; k < NM_NER_NF; k++)
            nm_ner_add_row(ei, m, r[k]);
    }
    nm_ner_viterbi(m, e, n, labels, score, back);
}

static size_t sentence_work_size(size_t n)
{
    return align8(n * NM_NER_NF * sizeof(uint32_t)) + align8(n * NM_NER_LANES * sizeof(int16_t)) +
           align8(n * NM_NER_LABELS * sizeof(float)) + align8(n * NM_NER_LABELS);
}

size_t nm_ner_scratch_size(size_t n)
{
    return align8(n * sizeof(nm_ner_tokinfo)) + sentence_work_size(n) + 8;
}

void nm_ner_tag(const nm_ner_model *m, const nm_ner_doc *doc, const nm_ner_token *tokens,
                size_t n, uint8_t *labels, void *scratch, size_t scratch_size)
{
    if (n == 0)
        return;
    size_t need = nm_ner_scratch_size(n);
    void *own = NULL;
    if (!scratch || scratch_size < need)
        scratch = own = nm_xmalloc(need);
    unsigned char *p = scratch;
    nm_ner_tokinfo *ti = (nm_ner_tokinfo *)p;
    p += align8(n * sizeof *ti);
    uint32_t *rows = (uint32_t *)p;
    p += align8(n * NM_NER_NF * sizeof *rows);
    int16_t *e = (int16_t *)p;
    p += align8(n * NM_NER_LANES * sizeof *e);
    float *score = (float *)p;
    p += align8(n * NM_NER_LABELS * sizeof *score);
    nm_ner_sentence_info(tokens, n, &m->gaz, doc, ti);
    decode(m, ti, n, labels, rows, e, score, p);
    free(own);
}

bool nm_ner_next_span(const uint8_t *labels, size_t n, size_t *pos, size_t *start,
                      size_t *end, nm_ner_type *type)
{
    size_t i = *pos;
    while (i < n && (labels[i] == NM_NER_O || labels[i] >= NM_NER_LABELS))
        i++;
    if (i >= n) {
        *pos = n;
        return false;
    }
    int t = (labels[i] - 1) / 2;
    size_t j = i + 1;
    while (j < n && labels[j] < NM_NER_LABELS && labels[j] != NM_NER_O && !(labels[j] & 1) &&
           (labels[j] - 1) / 2 == t)
        j++;
    *start = i;
    *end = j;
    *type = (nm_ner_type)t;
    *pos = j;
    return true;
}

bool nm_ner_misc_is_group(const nm_ner_model *m, const nm_ner_token *tokens, size_t n)
{
    if (n == 0 || n > 3)
        return false;
    const nm_ner_token *t = &tokens[n - 1];
    nm_ner_tokinfo ti;
    nm_ner_token_info(t->text, t->len, &ti);
    if (nm_ner_gaz_get(&m->gaz, ti.lower) & NM_NER_GAZ_NAT)
        return true;
    if (t->len > 3 && (t->text[t->len - 1] == 's' || t->text[t->len - 1] == 'S')) {
        nm_ner_token_info(t->text, t->len - 1, &ti);
        return (nm_ner_gaz_get(&m->gaz, ti.lower) & NM_NER_GAZ_NAT) != 0;
    }
    return false;
}
