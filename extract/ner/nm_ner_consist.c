/*
 * nm_ner_consist: document-level label consistency (nm_ner_consistent, see
 * nm_ner.h).
 *
 * Datelines first (an entity in capitals opening a sentence, then a dash and
 * small letters: a place). A span none of whose words starts with a capital, and some with a small
 * letter ("centro da cidade"), is dropped first. The other spans of a
 * document go into an open-addressing table keyed by their
 * token strings (hash of the bytes of each token, in order), counting the
 * types each string was given. Then (1) a span whose string was given
 * another type more often takes that type, and (2) a run of O tokens that
 * spells a labelled string, starts with a capital and is not followed by a
 * continuation gets the string's commonest type, longest string first.
 * One pass over the labels collects the spans; then one pass over them and
 * one over the tokens (at most MAX_LEN lookups each); no allocation beyond
 * the caller's scratch.
 */
#include <string.h>

#include <utf8proc.h>

#include "nm_ner.h"

#define MAX_LEN 8 /* tokens of the longest string looked for in (2) */

typedef struct entry {
    uint64_t key; /* 0 = empty */
    uint16_t count[NM_NER_TYPES];
    uint8_t len;
    uint8_t surname; /* the last word of a person's name of 2+ words */
} entry;

static uint64_t tok_hash(const nm_ner_token *t)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < t->len; i++) {
        h ^= (unsigned char)t->text[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t chain(uint64_t h, uint64_t tok)
{
    h ^= tok + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h ? h : 1;
}

static size_t table_cap(size_t spans)
{
    size_t cap = 16;
    while (cap < spans * 2)
        cap <<= 1;
    return cap;
}

typedef struct span {
    uint64_t hash;
    uint32_t a, b;
    uint8_t type;
} span;

size_t nm_ner_consistent_scratch_size(size_t n)
{
    return table_cap(2 * n) * sizeof(entry) + n * sizeof(span);
}

static uint64_t string_hash(const nm_ner_token *tokens, size_t a, size_t b)
{
    uint64_t h = 0;
    for (size_t k = a; k < b; k++)
        h = chain(h, tok_hash(&tokens[k]));
    return h;
}

static entry *find(entry *tab, size_t mask, uint64_t key, int add)
{
    for (size_t i = (size_t)(key ^ (key >> 29)) & mask;; i = (i + 1) & mask) {
        if (tab[i].key == key)
            return &tab[i];
        if (!tab[i].key) {
            if (!add)
                return NULL;
            tab[i].key = key;
            return &tab[i];
        }
    }
}

static int best_type(const entry *e)
{
    if (e->surname)
        return NM_NER_PER;
    int best = 0;
    for (int t = 1; t < NM_NER_TYPES; t++)
        if (e->count[t] > e->count[best])
            best = t;
    return best;
}

/* The case of a token's first letter: 1 upper or title, -1 lower, 0 none
 * (digits, punctuation, scripts without case). */
static int first_case(const nm_ner_token *t)
{
    if (!t->len)
        return 0;
    unsigned char c = (unsigned char)t->text[0];
    if (c < 0x80)
        return c >= 'A' && c <= 'Z' ? 1 : c >= 'a' && c <= 'z' ? -1 : 0;
    utf8proc_int32_t cp;
    if (utf8proc_iterate((const utf8proc_uint8_t *)t->text, (utf8proc_ssize_t)t->len, &cp) < 0)
        return 0;
    utf8proc_category_t cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT ? 1
           : cat == UTF8PROC_CATEGORY_LL                              ? -1
                                                                      : 0;
}

static int capitalised(const nm_ner_token *t)
{
    return first_case(t) > 0;
}

static void set_span(uint8_t *labels, size_t a, size_t b, int type)
{
    for (size_t k = a; k < b; k++)
        labels[k] = (uint8_t)(1 + 2 * type + (k > a));
}

/* The capital letters of a word in capitals ("ABERDEEN", "U.S."), 0 when it
 * has a small letter or a digit. */
static size_t caps_letters(const nm_ner_token *t)
{
    size_t letters = 0;
    for (size_t i = 0; i < t->len; i++) {
        unsigned char c = (unsigned char)t->text[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            return 0;
        if (c >= 0x80) { /* accented letters and other scripts: by category */
            utf8proc_int32_t cp;
            utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)t->text + i,
                                                  (utf8proc_ssize_t)(t->len - i), &cp);
            if (k <= 0)
                return 0;
            utf8proc_category_t cat = utf8proc_category(cp);
            if (cat == UTF8PROC_CATEGORY_LL)
                return 0;
            letters += cat == UTF8PROC_CATEGORY_LU;
            i += (size_t)k - 1;
        } else {
            letters += c >= 'A' && c <= 'Z';
        }
    }
    return letters;
}

static bool is_dash(const nm_ner_token *t)
{
    return (t->len == 1 && t->text[0] == '-') || (t->len == 2 && memcmp(t->text, "--", 2) == 0) ||
           (t->len == 3 && (memcmp(t->text, "\xe2\x80\x94", 3) == 0 || memcmp(t->text, "\xe2\x80\x93", 3) == 0));
}

/* (D) datelines: an entity in capitals that opens a sentence, followed in
 * that sentence by a dash and then text in small letters within three tokens ("ABERDEEN — A
 * 40-turbine wind farm", "BRITAIN - Gilts struggled") is a place. Headline
 * slugs ("RUGBY UNION - CAMPESE ...") are followed by capitals and are left,
 * and so are acronyms of up to three letters and codes with digits ("FDP –
 * ...", "MTV - ...", "BR-101 - ...": organisations more often than not). */
static void datelines(const nm_ner_token *tokens, size_t n, const uint32_t *sent_ends, size_t n_sentences,
                      uint8_t *labels)
{
    for (size_t s = 0; s <= n_sentences; s++) {
        size_t a = s == 0 ? 0 : sent_ends[s - 1], end = s < n_sentences && sent_ends[s] < n ? sent_ends[s] : n;
        if (a >= end || labels[a] == NM_NER_O || labels[a] == NM_NER_B_LOC || !(labels[a] & 1))
            continue;
        size_t b = a + 1;
        while (b < end && labels[b] != NM_NER_O && !(labels[b] & 1))
            b++; /* the span's I- tokens */
        size_t letters = 0;
        bool caps = true;
        for (size_t k = a; k < b && caps; k++) {
            size_t l = caps_letters(&tokens[k]);
            caps = l > 0;
            letters += l;
        }
        if (!caps || letters < 4 || b >= end || !is_dash(&tokens[b]))
            continue;
        for (size_t k = b + 1; k < end && k <= b + 3; k++) {
            bool small = false;
            for (size_t i = 0; i < tokens[k].len && !small; i++)
                small = tokens[k].text[i] >= 'a' && tokens[k].text[i] <= 'z';
            if (small) {
                set_span(labels, a, b, NM_NER_LOC);
                break;
            }
        }
    }
}

void nm_ner_consistent(const nm_ner_token *tokens, size_t n, const uint32_t *sent_ends,
                       size_t n_sentences, uint8_t *labels, void *scratch)
{
    /* the spans (after the largest table the scratch holds), then the
     * table sized by them */
    span *sp = (span *)((entry *)scratch + table_cap(2 * n));
    datelines(tokens, n, sent_ends, n_sentences, labels);
    size_t n_spans = 0, pos = 0, a, b, longest = 0;
    nm_ner_type type;
    while (nm_ner_next_span(labels, n, &pos, &a, &b, &type)) {
        /* (0) no name without a capital: words with case, all lower */
        int upper = 0, lower = 0;
        for (size_t k = a; k < b && !upper; k++) {
            int c = first_case(&tokens[k]);
            upper |= c > 0;
            lower |= c < 0;
        }
        if (lower && !upper) {
            memset(labels + a, NM_NER_O, b - a);
            continue;
        }
        if (b - a <= MAX_LEN) {
            sp[n_spans++] = (span){.a = (uint32_t)a, .b = (uint32_t)b, .type = (uint8_t)type};
            if (b - a > longest)
                longest = b - a;
        }
    }
    if (!n_spans)
        return;
    size_t cap = table_cap(2 * n_spans), mask = cap - 1; /* spans and surnames */
    entry *tab = scratch;
    memset(tab, 0, cap * sizeof *tab);
    for (size_t j = 0; j < n_spans; j++) {
        sp[j].hash = string_hash(tokens, sp[j].a, sp[j].b);
        entry *e = find(tab, mask, sp[j].hash, 1);
        e->len = (uint8_t)(sp[j].b - sp[j].a);
        if (e->count[sp[j].type] < UINT16_MAX)
            e->count[sp[j].type]++;
        if (sp[j].type == NM_NER_PER && sp[j].b - sp[j].a >= 2) {
            e = find(tab, mask, chain(0, tok_hash(&tokens[sp[j].b - 1])), 1);
            e->len = 1;
            e->surname = 1;
        }
    }
    /* (1) one type per string: the commonest */
    for (size_t j = 0; j < n_spans; j++) {
        const entry *e = find(tab, mask, sp[j].hash, 0);
        int best = best_type(e);
        if (best != sp[j].type && (e->surname || e->count[best] > e->count[sp[j].type]))
            set_span(labels, sp[j].a, sp[j].b, best);
    }
    /* (2) unlabelled repeats of a labelled string, within a sentence */
    size_t s0 = 0;
    for (size_t s = 0; s <= n_sentences; s++) {
        size_t s1 = s < n_sentences ? sent_ends[s] : n;
        if (s1 > n)
            s1 = n;
        for (size_t i = s0; i < s1;) {
            size_t hit = 0;
            const entry *he = NULL;
            if (labels[i] == NM_NER_O && capitalised(&tokens[i])) {
                uint64_t h = 0;
                for (size_t k = i; k < s1 && k - i < longest && labels[k] == NM_NER_O; k++) {
                    h = chain(h, tok_hash(&tokens[k]));
                    const entry *e = find(tab, mask, h, 0);
                    if (e && e->len == k + 1 - i &&
                        (k + 1 >= s1 || labels[k + 1] == NM_NER_O || (labels[k + 1] & 1))) {
                        hit = k + 1 - i; /* keep the longest */
                        he = e;
                    }
                }
            }
            if (hit) {
                set_span(labels, i, i + hit, best_type(he));
                i += hit;
            } else {
                i++;
            }
        }
        s0 = s1;
        if (s0 >= n)
            break;
    }
}
