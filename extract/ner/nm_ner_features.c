/* nm_ner_features: token summaries and feature templates (see the header). */
#include "nm_ner_features.h"

#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_hash.h"
#include "nm_utf8.h"

/* The model file pins FNV-1a 64 (its checksum, and the feature hashes that
 * index its weights): these are nm_hash's FNV-1a, named for that contract. */
uint64_t nm_ner_fnv1a(const void *data, size_t len, uint64_t h)
{
    return nm_hash_fnv1a(data, len, h);
}

static inline uint64_t fnv_byte(uint64_t h, unsigned char c)
{
    return nm_hash_fnv1a_byte(h, c);
}

static inline uint64_t fnv_cp(uint64_t h, uint32_t cp)
{
    if (cp < 0x80)
        return fnv_byte(h, (unsigned char)cp);
    char buf[4];
    size_t n = nm_utf8_encode(cp, buf);
    for (size_t i = 0; i < n; i++)
        h = fnv_byte(h, (unsigned char)buf[i]);
    return h;
}

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Simple case mapping for the scripts news is mostly written in: Latin
 * (ASCII, Latin-1, Latin Extended-A), Greek and Cyrillic; typographic quotes
 * fold to ASCII ("Israel’s" reads like the training data's "Israel 's").
 * Other code points map to themselves. */
static uint32_t fold_quote(uint32_t c)
{
    if (c == 0x2018 || c == 0x2019)
        return '\'';
    if (c == 0x201C || c == 0x201D)
        return '"';
    return c;
}

static uint32_t lower_cp(uint32_t c)
{
    if (c >= 0x2018 && c <= 0x201D)
        return fold_quote(c);
    if (c < 0x80)
        return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 32;
    if (c >= 0x100 && c <= 0x17F) {
        if (c == 0x130)
            return 'i';
        if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F)
            return c;
        if (c == 0x178)
            return 0xFF;
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return (c & 1) ? c + 1 : c;
        return (c & 1) ? c : c + 1;
    }
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
        return c + 32;
    if (c >= 0x410 && c <= 0x42F)
        return c + 32;
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    return c;
}

static int is_lower_letter(uint32_t c)
{
    if (c < 0x80)
        return c >= 'a' && c <= 'z';
    if (c >= 0xDF && c <= 0xFF)
        return c != 0xF7;
    if (c >= 0x100 && c <= 0x17F)
        return lower_cp(c) == c;
    if (c >= 0x3AC && c <= 0x3CE)
        return 1;
    return c >= 0x430 && c <= 0x45F;
}

/* Punctuation and symbols we know (so that they are not taken for letters
 * of a script without case). */
static int is_symbol(uint32_t c)
{
    return (c >= 0x80 && c <= 0xBF) || c == 0xD7 || c == 0xF7 || (c >= 0x2000 && c <= 0x2BFF) ||
           (c >= 0x3000 && c <= 0x303F) || (c >= 0xFE30 && c <= 0xFE6F) ||
           (c >= 0xFF00 && c <= 0xFF0F) || c == 0xFFFD;
}

/* Shape character of a code point. */
static unsigned char shape_char(uint32_t c, int *kind)
{
    /* kind: 0 other, 1 upper, 2 lower, 3 digit, 4 letter without case */
    if (c >= '0' && c <= '9') {
        *kind = 3;
        return 'd';
    }
    if (c < 0x80) {
        if (c >= 'A' && c <= 'Z') {
            *kind = 1;
            return 'X';
        }
        if (c >= 'a' && c <= 'z') {
            *kind = 2;
            return 'x';
        }
        *kind = 0;
        return (unsigned char)c;
    }
    if (is_symbol(c)) {
        *kind = 0;
        switch (c) {
        case 0x2018: case 0x2019: return '\'';
        case 0x201C: case 0x201D: return '"';
        case 0x2013: case 0x2014: return '-';
        default: return '*';
        }
    }
    if (lower_cp(c) != c) {
        *kind = 1;
        return 'X';
    }
    if (is_lower_letter(c)) {
        *kind = 2;
        return 'x';
    }
    *kind = 4;
    return 'l';
}

void nm_ner_token_info(const char *text, size_t len, nm_ner_tokinfo *ti)
{
    memset(ti, 0, sizeof *ti);
    uint64_t form = NM_NER_FNV_BASIS;
    uint64_t lower = NM_NER_FNV_BASIS, shape = NM_NER_FNV_BASIS, sshape = NM_NER_FNV_BASIS;
    uint32_t last[4] = {0, 0, 0, 0}; /* ring of the last 4 lower-case code points */
    size_t ncp = 0, pos = 0;
    unsigned n_upper = 0, n_lower = 0, n_digit = 0, n_nocase = 0;
    int first_kind = -1;
    unsigned char prev_sc = 0;
    unsigned run = 0;
    while (pos < len) {
        /* ASCII inline (what nm_utf8_next returns for it), the rest decoded */
        unsigned char b = (unsigned char)text[pos];
        uint32_t c = b < 0x80 ? (pos++, b) : nm_utf8_next(text, len, &pos);
        int kind;
        unsigned char sc = shape_char(c, &kind);
        switch (kind) {
        case 1: n_upper++; break;
        case 2: n_lower++; break;
        case 3: n_digit++; break;
        case 4: n_nocase++; break;
        default: break;
        }
        if (first_kind < 0 && (kind == 1 || kind == 2 || kind == 4))
            first_kind = kind;
        form = (c >= 0x2018 && c <= 0x201D) ? fnv_cp(form, fold_quote(c)) : fnv_cp(form, c);
        uint32_t lc = kind == 3 ? '0' : lower_cp(c);
        lower = fnv_cp(lower, lc);
        if (ncp < 4)
            ti->pre[ncp] = lower;
        last[ncp & 3] = lc;
        ncp++;
        if (sc == prev_sc) {
            run++;
        } else {
            run = 1;
            sshape = fnv_byte(sshape, sc);
        }
        if (run <= 4)
            shape = fnv_byte(shape, sc);
        prev_sc = sc;
    }
    ti->form = form;
    ti->lower = lower;
    ti->shape = shape;
    ti->sshape = sshape;
    for (size_t k = 0; k < 4; k++) {
        if (k >= ncp) {
            ti->pre[k] = UINT64_C(0x5eed) + k;
            ti->suf[k] = UINT64_C(0x5eed) + 8 + k;
            continue;
        }
        uint64_t h = NM_NER_FNV_BASIS;
        for (size_t j = k + 1; j > 0; j--)
            h = fnv_cp(h, last[(ncp - j) & 3]);
        ti->suf[k] = h;
    }
    unsigned letters = n_upper + n_lower + n_nocase;
    ti->letters = letters > 255 ? 255 : (uint8_t)letters;
    if (letters == 0)
        ti->cap = n_digit ? NM_NER_CAP_DIGIT : NM_NER_CAP_PUNCT;
    else if (n_upper + n_lower == 0)
        ti->cap = NM_NER_CAP_NOCASE;
    else if (n_digit)
        ti->cap = NM_NER_CAP_ALNUM;
    else if (n_upper == 0)
        ti->cap = NM_NER_CAP_LOWER;
    else if (n_lower == 0)
        ti->cap = n_upper >= 2 ? NM_NER_CAP_UPPER : NM_NER_CAP_TITLE;
    else if (first_kind == 1 && n_upper == 1)
        ti->cap = NM_NER_CAP_TITLE;
    else
        ti->cap = NM_NER_CAP_MIXED;
}

uint8_t nm_ner_gaz_get(const nm_ner_gaz *g, uint64_t lower)
{
    if (g->mask == 0)
        return 0;
    uint64_t key = lower | 1;
    for (size_t i = mix64(key) & g->mask;; i = (i + 1) & g->mask) {
        if (g->keys[i] == key)
            return g->vals[i];
        if (g->keys[i] == 0)
            return 0;
    }
}

void nm_ner_gaz_init(nm_ner_gaz *g, size_t expected)
{
    size_t cap = 16;
    while (cap < expected * 2 + 16)
        cap <<= 1;
    g->keys = nm_xcalloc(cap, sizeof *g->keys);
    g->vals = nm_xcalloc(cap, 1);
    g->mask = cap - 1;
    g->n = 0;
}

void nm_ner_gaz_add(nm_ner_gaz *g, uint64_t lower, uint8_t classes)
{
    uint64_t key = lower | 1;
    for (size_t i = mix64(key) & g->mask;; i = (i + 1) & g->mask) {
        if (g->keys[i] == key) {
            g->vals[i] |= classes;
            return;
        }
        if (g->keys[i] == 0) {
            g->keys[i] = key;
            g->vals[i] = classes;
            g->n++;
            return;
        }
    }
}

void nm_ner_gaz_free(nm_ner_gaz *g)
{
    free(g->keys);
    free(g->vals);
    memset(g, 0, sizeof *g);
}

uint8_t nm_ner_doc_get(const nm_ner_doc *doc, uint64_t lower)
{
    if (!doc)
        return 0;
    uint64_t key = (lower & ~UINT64_C(3)) | 4;
    size_t mask = doc->mask ? doc->mask : NM_NER_DOC_SLOTS - 1;
    for (size_t i = (size_t)(mix64(key) & mask);; i = (i + 1) & mask) {
        uint64_t s = doc->slot[i];
        if (s == 0)
            return 0;
        if ((s & ~UINT64_C(3)) == key)
            return (uint8_t)(s & 3);
    }
}

void nm_ner_doc_reset(nm_ner_doc *doc)
{
    memset(doc, 0, sizeof *doc);
    doc->mask = NM_NER_DOC_SLOTS - 1;
}

void nm_ner_doc_reset_for(nm_ner_doc *doc, size_t n)
{
    size_t cap = 64;
    while (cap < n * 4 + 16 && cap < NM_NER_DOC_SLOTS)
        cap <<= 1;
    doc->n = 0;
    doc->mask = (uint32_t)(cap - 1);
    memset(doc->slot, 0, cap * sizeof doc->slot[0]);
}

static void doc_mark(nm_ner_doc *doc, uint64_t lower, unsigned flags)
{
    uint64_t key = (lower & ~UINT64_C(3)) | 4;
    size_t mask = doc->mask ? doc->mask : NM_NER_DOC_SLOTS - 1;
    for (size_t i = (size_t)(mix64(key) & mask);; i = (i + 1) & mask) {
        uint64_t s = doc->slot[i];
        if (s == 0) {
            if (doc->n >= (mask + 1) * 3 / 4)
                return; /* full: keep lookups short, drop new words */
            doc->slot[i] = key | flags;
            doc->n++;
            return;
        }
        if ((s & ~UINT64_C(3)) == key) {
            doc->slot[i] = s | flags;
            return;
        }
    }
}

int nm_ner_sentence_is_headline(const nm_ner_tokinfo *ti, size_t n)
{
    size_t upper = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = ti[i].cap;
        if (c == NM_NER_CAP_UPPER)
            upper++;
        else if ((c == NM_NER_CAP_LOWER || c == NM_NER_CAP_TITLE || c == NM_NER_CAP_MIXED) &&
                 ti[i].letters >= 2)
            return 0;
    }
    return upper >= 2;
}

int nm_ner_sentence_is_title_case(const nm_ner_tokinfo *ti, size_t n)
{
    size_t title = 0, small = 0;
    for (size_t i = 0; i < n; i++) {
        if (ti[i].cap == NM_NER_CAP_TITLE && ti[i].letters >= 2)
            title++;
        else if (ti[i].cap == NM_NER_CAP_LOWER && ti[i].letters > 4)
            return 0; /* a long lower-case word: ordinary prose */
        else if (ti[i].cap == NM_NER_CAP_LOWER)
            small++; /* "in", "of", "with": what makes it a title, not a list of names */
    }
    return title >= 3 && small >= 1;
}

/* Info of the token with its first letter in lower case ("Talks" as
 * "talks"); tokens longer than the buffer keep their info. */
void nm_ner_token_info_lowered(const char *text, size_t len, nm_ner_tokinfo *ti)
{
    char buf[96];
    size_t pos = 0;
    if (len + 4 > sizeof buf) {
        nm_ner_token_info(text, len, ti);
        return;
    }
    uint32_t c = nm_utf8_next(text, len, &pos);
    size_t k = nm_utf8_encode(lower_cp(c), buf);
    memcpy(buf + k, text + pos, len - pos);
    nm_ner_token_info(buf, k + len - pos, ti);
}

void nm_ner_sentence_context(const nm_ner_token *tokens, size_t n, const nm_ner_gaz *gaz,
                             const nm_ner_doc *doc, nm_ner_tokinfo *ti)
{
    for (size_t i = 0; i < n; i++)
        ti[i].doc = nm_ner_doc_get(doc, ti[i].lower);
    if (doc && nm_ner_sentence_is_title_case(ti, n)) {
        for (size_t i = 0; i < n; i++)
            if (ti[i].cap == NM_NER_CAP_TITLE && ti[i].doc == NM_NER_DOC_LOWER) {
                uint8_t flags = ti[i].doc;
                nm_ner_token_info_lowered(tokens[i].text, tokens[i].len, &ti[i]);
                ti[i].doc = flags;
            }
    }
    for (size_t i = 0; i < n; i++)
        ti[i].gaz = nm_ner_gaz_get(gaz, ti[i].lower);
}

void nm_ner_sentence_info(const nm_ner_token *tokens, size_t n, const nm_ner_gaz *gaz,
                          const nm_ner_doc *doc, nm_ner_tokinfo *ti)
{
    for (size_t i = 0; i < n; i++)
        nm_ner_token_info(tokens[i].text, tokens[i].len, &ti[i]);
    nm_ner_sentence_context(tokens, n, gaz, doc, ti);
}

/* Marks the words of a block of a sentence (first = its first token's
 * index in the sentence). With tid, marked[tid[i]] holds the flags already
 * marked for token i's word, and those are not marked again: marking is
 * idempotent (a word the full context dropped stays dropped), so the
 * context is the same either way. */
static void doc_mark_block(nm_ner_doc *doc, const nm_ner_tokinfo *ti, size_t m, size_t first,
                           int headline, const uint32_t *tid, uint8_t *marked)
{
    for (size_t i = 0; i < m; i++) {
        uint8_t c = ti[i].cap;
        unsigned flags = 0;
        if (c == NM_NER_CAP_LOWER)
            flags = NM_NER_DOC_LOWER;
        else if ((c == NM_NER_CAP_TITLE || c == NM_NER_CAP_MIXED) && first + i > 0 && !headline)
            flags = NM_NER_DOC_CAPMID;
        if (!flags)
            continue;
        if (tid) {
            if (marked[tid[i]] & flags)
                continue;
            marked[tid[i]] |= (uint8_t)flags;
        }
        doc_mark(doc, ti[i].lower, flags);
    }
}

static int sentence_is_heading(const nm_ner_tokinfo *ti, size_t n)
{
    return n <= 64 && (nm_ner_sentence_is_headline(ti, n) || nm_ner_sentence_is_title_case(ti, n));
}

void nm_ner_doc_add_info(nm_ner_doc *doc, const nm_ner_tokinfo *ti, size_t n)
{
    doc_mark_block(doc, ti, n, 0, sentence_is_heading(ti, n), NULL, NULL);
}

void nm_ner_doc_add_types(nm_ner_doc *doc, const nm_ner_tokinfo *ti, size_t n,
                          const uint32_t *tid, uint8_t *marked)
{
    doc_mark_block(doc, ti, n, 0, sentence_is_heading(ti, n), tid, marked);
}

void nm_ner_doc_add(nm_ner_doc *doc, const nm_ner_token *tokens, size_t n)
{
    /* Bounded stack: long sentences go by blocks, without the whole-sentence
     * heading tests (a sentence that long is prose, not a heading). */
    enum { BLOCK = 64 };
    nm_ner_tokinfo ti[BLOCK];
    if (n <= BLOCK) {
        for (size_t i = 0; i < n; i++)
            nm_ner_token_info(tokens[i].text, tokens[i].len, &ti[i]);
        nm_ner_doc_add_info(doc, ti, n);
        return;
    }
    for (size_t b = 0; b < n; b += BLOCK) {
        size_t m = n - b < BLOCK ? n - b : BLOCK;
        for (size_t i = 0; i < m; i++)
            nm_ner_token_info(tokens[b + i].text, tokens[b + i].len, &ti[i]);
        doc_mark_block(doc, ti, m, b, 0, NULL, NULL);
    }
}

/* Feature templates: one id each, folded into the value's hash. */
enum {
    T_BIAS, T_FORM, T_LOWER, T_PRE1, T_PRE2, T_PRE3, T_PRE4, T_SUF1, T_SUF2, T_SUF3, T_SUF4,
    T_SHAPE, T_SSHAPE, T_CAP, T_FIRST_LOWER, T_HEAD_LOWER, T_LOWER_M1, T_LOWER_M2,
    T_LOWER_P1, T_LOWER_P2, T_SSHAPE_M1, T_SSHAPE_P1, T_CAP_TRI, T_SSHAPE_TRI, T_BI_M1,
    T_BI_P1, T_GAZ0, T_GAZ_M1, T_GAZ_P1, T_DOC, T_COUNT
};
_Static_assert(T_COUNT == NM_NER_NF, "NM_NER_NF must match the templates");

/* The templates of each group (nm_ner_features.h), every template in
 * exactly one group. */
static const uint8_t group_list[NM_NER_GROUPS][NM_NER_GROUP_MAX] = {
    [NM_NER_G_SELF] = {T_FORM, T_LOWER, T_PRE1, T_PRE2, T_PRE3, T_PRE4, T_SUF1, T_SUF2, T_SUF3,
                       T_SUF4, T_SHAPE, T_SSHAPE, T_GAZ0},
    [NM_NER_G_M1] = {T_LOWER_M1, T_SSHAPE_M1, T_GAZ_M1},
    [NM_NER_G_M2] = {T_LOWER_M2},
    [NM_NER_G_P1] = {T_LOWER_P1, T_SSHAPE_P1, T_GAZ_P1},
    [NM_NER_G_P2] = {T_LOWER_P2},
    [NM_NER_G_POS] = {T_BIAS, T_CAP, T_FIRST_LOWER, T_HEAD_LOWER, T_DOC, T_CAP_TRI,
                      T_SSHAPE_TRI, T_BI_M1, T_BI_P1},
};
const uint8_t nm_ner_group_len[NM_NER_GROUPS] = {13, 3, 1, 3, 1, 9};

static inline uint32_t row_of(unsigned t, uint64_t v, unsigned bits)
{
    uint64_t h = mix64(v ^ ((uint64_t)(t + 1) * UINT64_C(0x9E3779B97F4A7C15)));
    return (uint32_t)(h >> (64 - bits));
}

static inline uint64_t pair(uint64_t a, uint64_t b)
{
    return mix64(a) * 31 + b;
}

const nm_ner_tokinfo *nm_ner_edge(size_t which)
{
    static const nm_ner_tokinfo edges[4] = {
        {.form = 101, .lower = 101, .shape = 101, .sshape = 101, .cap = 8},
        {.form = 102, .lower = 102, .shape = 102, .sshape = 102, .cap = 9},
        {.form = 103, .lower = 103, .shape = 103, .sshape = 103, .cap = 10},
        {.form = 104, .lower = 104, .shape = 104, .sshape = 104, .cap = 11},
    };
    return &edges[which];
}

size_t nm_ner_group_rows(int group, const nm_ner_tokinfo *w, unsigned features, unsigned bits,
                         uint32_t *out)
{
    int win = (features & NM_NER_F_WINDOW) != 0;
    int gaz = (features & NM_NER_F_GAZ) != 0;
    /* In the order of group_list. */
    switch (group) {
    case NM_NER_G_SELF: {
        out[0] = row_of(T_FORM, w->form, bits);
        out[1] = row_of(T_LOWER, w->lower, bits);
        int affix = (features & NM_NER_F_AFFIX) != 0;
        for (unsigned k = 0; k < 4; k++) {
            out[2 + k] = row_of(T_PRE1 + k, affix ? w->pre[k] : 0, bits);
            out[6 + k] = row_of(T_SUF1 + k, affix ? w->suf[k] : 0, bits);
        }
        int shape = (features & NM_NER_F_SHAPE) != 0;
        out[10] = row_of(T_SHAPE, shape ? w->shape : 0, bits);
        out[11] = row_of(T_SSHAPE, shape ? w->sshape : 0, bits);
        out[12] = row_of(T_GAZ0, gaz && w->gaz ? (uint64_t)w->gaz | (uint64_t)w->cap << 8 : 0,
                         bits);
        return 13;
    }
    case NM_NER_G_M1:
        out[0] = row_of(T_LOWER_M1, win ? w->lower : 0, bits);
        out[1] = row_of(T_SSHAPE_M1, win ? w->sshape : 0, bits);
        out[2] = row_of(T_GAZ_M1, gaz ? w->gaz : 0, bits);
        return 3;
    case NM_NER_G_M2:
        out[0] = row_of(T_LOWER_M2, win ? w->lower : 0, bits);
        return 1;
    case NM_NER_G_P1:
        out[0] = row_of(T_LOWER_P1, win ? w->lower : 0, bits);
        out[1] = row_of(T_SSHAPE_P1, win ? w->sshape : 0, bits);
        out[2] = row_of(T_GAZ_P1, gaz ? w->gaz : 0, bits);
        return 3;
    case NM_NER_G_P2:
        out[0] = row_of(T_LOWER_P2, win ? w->lower : 0, bits);
        return 1;
    default:
        return 0;
    }
}

void nm_ner_pos_rows_own(unsigned cap, unsigned doc, uint64_t lower, int first, int headline,
                         unsigned features, unsigned bits, uint32_t *out)
{
    uint64_t fst = (features & NM_NER_F_POS) && first;
    uint64_t head = (uint64_t)headline;
    out[0] = row_of(T_BIAS, 0, bits);
    out[1] = row_of(T_CAP, cap | fst << 4 | head << 5, bits);
    out[2] = row_of(T_FIRST_LOWER, fst ? lower : 0, bits);
    out[3] = row_of(T_HEAD_LOWER, head ? lower : 0, bits);
    int use_doc = (features & NM_NER_F_DOC) != 0;
    out[4] = row_of(T_DOC, use_doc ? (uint64_t)doc | (uint64_t)cap << 2 | fst << 6 | head << 7
                                   : 0, bits);
}

void nm_ner_pos_rows_window(const nm_ner_tokinfo *w, const nm_ner_tokinfo *m1,
                            const nm_ner_tokinfo *p1, int headline, unsigned features,
                            unsigned bits, uint32_t *out)
{
    uint64_t head = (uint64_t)headline;
    int win = (features & NM_NER_F_WINDOW) != 0;
    out[0] = row_of(T_CAP_TRI, win ? (uint64_t)m1->cap | (uint64_t)w->cap << 4 |
                                         (uint64_t)p1->cap << 8 | head << 12
                                   : 0, bits);
    out[1] = row_of(T_SSHAPE_TRI, win ? pair(pair(m1->sshape, w->sshape), p1->sshape) : 0, bits);
    int bi = (features & NM_NER_F_BIGRAM) != 0;
    out[2] = row_of(T_BI_M1, bi ? pair(m1->lower, w->lower) : 0, bits);
    out[3] = row_of(T_BI_P1, bi ? pair(w->lower, p1->lower) : 0, bits);
}

/* Rows of a group, each in its template's place r[t]. */
static void place(int group, const uint32_t *out, uint32_t *r)
{
    for (size_t j = 0; j < nm_ner_group_len[group]; j++)
        r[group_list[group][j]] = out[j];
}

void nm_ner_sentence_rows(const nm_ner_tokinfo *ti, size_t n, unsigned features,
                          unsigned bits, uint32_t *rows)
{
    int headline = (features & NM_NER_F_POS) ? nm_ner_sentence_is_headline(ti, n) : 0;
    for (size_t i = 0; i < n; i++) {
        const nm_ner_tokinfo *w = &ti[i];
        const nm_ner_tokinfo *m2 = i >= 2 ? &ti[i - 2] : nm_ner_edge(0);
        const nm_ner_tokinfo *m1 = i >= 1 ? &ti[i - 1] : nm_ner_edge(1);
        const nm_ner_tokinfo *p1 = i + 1 < n ? &ti[i + 1] : nm_ner_edge(2);
        const nm_ner_tokinfo *p2 = i + 2 < n ? &ti[i + 2] : nm_ner_edge(3);
        uint32_t *r = rows + i * NM_NER_NF, out[NM_NER_GROUP_MAX];
        const nm_ner_tokinfo *of[NM_NER_G_POS] = {w, m1, m2, p1, p2}; /* by group */
        for (int g = 0; g < NM_NER_G_POS; g++) {
            nm_ner_group_rows(g, of[g], features, bits, out);
            place(g, out, r);
        }
        nm_ner_pos_rows_own(w->cap, w->doc, w->lower, i == 0, headline, features, bits, out);
        nm_ner_pos_rows_window(w, m1, p1, headline, features, bits, out + NM_NER_POS_OWN);
        place(NM_NER_G_POS, out, r);
    }
}
