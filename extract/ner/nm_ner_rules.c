#include "nm_ner_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_hash.h"
#include "nm_lexicon.h"
#include "nm_ner.h"

enum {
    C_LOC = 1u << 0,      /* place */
    C_NAT = 1u << 1,      /* nationality or group */
    C_ORG = 1u << 2,      /* organisation name or organisation-ending word */
    C_PER = 1u << 3,      /* first name */
    C_TITLE = 1u << 4,    /* before a person's name */
    C_ORGWORD = 1u << 5,  /* ends organisation names */
    C_MISC = 1u << 6,     /* event, work, product */
    C_MISCWORD = 1u << 7, /* ends event names */
    C_LOCWORD = 1u << 8,  /* ends place names */
    C_NOTNAME = 1u << 9,  /* capitalised but not a name alone */
    C_STOP = 1u << 10,    /* English function word */
    C_PARTICLE = 1u << 11,/* joins a name: de, van, al, bin */
    C_OF = 1u << 12,      /* of, for, the: join after an org/place word */
    C_PLACEPREP = 1u << 13,/* in, at, from: before places */
    C_SAYS = 1u << 14,    /* said, says: after people */
};

struct nm_ner_rules {
    nm_lexicon *lex;
};

#define SET_MAX_BITS 16 /* per-document word sets: at most 65,536 slots */

typedef struct docset {
    uint64_t *keys;
    uint8_t *vals;
    uint32_t n, mask;
} docset;

static void set_put(docset *s, uint64_t key, uint8_t val)
{
    key = key ? key : 1;
    uint32_t mask = s->mask;
    for (uint32_t i = (uint32_t)key & mask;; i = (i + 1) & mask) {
        if (s->keys[i] == key) {
            s->vals[i] = val;
            return;
        }
        if (!s->keys[i]) {
            if (s->n >= mask / 2)
                return; /* full: less evidence, still correct */
            s->keys[i] = key;
            s->vals[i] = val;
            s->n++;
            return;
        }
    }
}

static uint8_t set_get(const docset *s, uint64_t key)
{
    key = key ? key : 1;
    uint32_t mask = s->mask;
    for (uint32_t i = (uint32_t)key & mask;; i = (i + 1) & mask) {
        if (s->keys[i] == key)
            return s->vals[i];
        if (!s->keys[i])
            return 0;
    }
}

nm_ner_rules *nm_ner_rules_new(const char *data_dir, nm_error *err)
{
    nm_ner_rules *r = nm_xcalloc(1, sizeof *r);
    r->lex = nm_lexicon_new();
    static const nm_lexicon_class gaz[] = {
        {"loc", C_LOC}, {"nat", C_NAT}, {"org", C_ORG}, {"per", C_PER},
    };
    static const nm_lexicon_class rules[] = {
        {"title", C_TITLE}, {"orgword", C_ORGWORD}, {"org", C_ORG}, {"miscword", C_MISCWORD},
        {"misc", C_MISC}, {"locword", C_LOCWORD}, {"loc", C_LOC}, {"notname", C_NOTNAME},
        {"nat", C_NAT},
    };
    char path[4096];
    snprintf(path, sizeof path, "%s/ner-gazetteer.txt", data_dir);
    if (nm_lexicon_load(r->lex, path, gaz, sizeof gaz / sizeof gaz[0], 0, err) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/ner-rules.txt", data_dir);
    if (nm_lexicon_load(r->lex, path, rules, sizeof rules / sizeof rules[0], 0, err) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/stopwords/en.txt", data_dir);
    if (nm_lexicon_load(r->lex, path, NULL, 0, C_STOP, err) < 0)
        goto fail;
    static const char *const particles[] = {"de", "del", "della", "di", "da", "do", "dos", "das", "van",
                                            "von", "der", "den", "du", "la", "le", "al", "el", "bin",
                                            "ibn", "ben", "y", "&"};
    for (size_t i = 0; i < sizeof particles / sizeof particles[0]; i++)
        nm_lexicon_add(r->lex, particles[i], strlen(particles[i]), C_PARTICLE);
    static const char *const ofs[] = {"of", "for", "the", "on", "and"};
    for (size_t i = 0; i < sizeof ofs / sizeof ofs[0]; i++)
        nm_lexicon_add(r->lex, ofs[i], strlen(ofs[i]), C_OF);
    static const char *const preps[] = {"in", "at", "from", "near", "to", "across", "outside", "inside",
                                        "around", "into", "towards", "via"};
    for (size_t i = 0; i < sizeof preps / sizeof preps[0]; i++)
        nm_lexicon_add(r->lex, preps[i], strlen(preps[i]), C_PLACEPREP);
    static const char *const says[] = {"said", "says", "told", "added", "wrote", "argued", "insisted",
                                       "explained", "believes", "thinks", "who"};
    for (size_t i = 0; i < sizeof says / sizeof says[0]; i++)
        nm_lexicon_add(r->lex, says[i], strlen(says[i]), C_SAYS);
    return r;
fail:
    nm_error_prefix(err, "rules recogniser");
    nm_ner_rules_destroy(&r);
    return NULL;
}

void nm_ner_rules_destroy(nm_ner_rules **r)
{
    if (!r || !*r)
        return;
    nm_lexicon_destroy(&(*r)->lex);
    free(*r);
    *r = NULL;
}

static inline int is_cap(const nm_token *t)
{
    return t->kind == NM_TOK_WORD && !(t->flags & NM_TF_CLITIC) && (t->flags & NM_TF_UPPER);
}


static int suffix_is(const char *text, const nm_token *t, const char *suf)
{
    size_t n = strlen(suf), len = t->end - t->start;
    return len > n + 2 && !memcmp(text + t->end - n, suf, n);
}

static int group_suffix(const char *text, const nm_token *t)
{
    static const char *const sufs[] = {"ian", "ians", "ese", "ish", "ans", "eans"};
    if (t->flags & NM_TF_ALLCAPS)
        return 0;
    for (size_t i = 0; i < sizeof sufs / sizeof sufs[0]; i++) {
        if (suffix_is(text, t, sufs[i]))
            return 1;
    }
    return 0;
}

static void put_span(uint8_t *labels, size_t s, size_t e, int type /* NM_NER_PER.. */)
{
    labels[s] = (uint8_t)(1 + 2 * type);
    for (size_t k = s + 1; k < e; k++)
        labels[k] = (uint8_t)(2 + 2 * type);
}

typedef struct ctx {
    const nm_ner_rules *r;
    const nm_recognizer_input *in;
    uint8_t *labels;
    uint8_t *weak;     /* per token: label is a guess */
    docset lower;      /* words the document writes in lower case */
    docset known;      /* word -> 1 + type from confident decisions */
    uint32_t *tcls;    /* per token: lexicon classes of the word */
} ctx;

/* Is there a title ("Mr", "chief", "Prime Minister") right before toks[i]? */
static int title_before(const ctx *c, size_t a, size_t i)
{
    const nm_token *toks = c->in->tokens;
    size_t k = i;
    if (k > a && toks[k - 1].kind == NM_TOK_PUNCT && c->in->text[toks[k - 1].start] == '.')
        k--; /* "Mr." */
    for (size_t back = 1; back <= 3 && back <= k - a; back++) {
        uint32_t cl;
        if (nm_lexicon_match(c->r->lex, toks, k - back, k, &cl) == back && (cl & C_TITLE))
            return 1;
    }
    return 0;
}

/* Types a run [s, e) of a body sentence; returns the NM_NER type or -1 for
 * none, and *weak = 1 when it is a guess. */
static int type_run(ctx *c, size_t a, size_t b, size_t s, size_t e, int initial, int *weak)
{
    const nm_ner_rules *r = c->r;
    const nm_token *toks = c->in->tokens;
    const char *text = c->in->text;
    size_t len = e - s;
    *weak = 0;
    uint32_t gc;
    size_t m = nm_lexicon_match(r->lex, toks, s, e, &gc);
    if (m == len && (gc & (C_LOC | C_NAT | C_ORG | C_MISC))) {
        if (gc & C_ORG && !(len == 1 && (gc & C_LOC)))
            return NM_NER_ORG;
        if (gc & C_LOC)
            return NM_NER_LOC;
        if (gc & C_NAT)
            return NM_NER_MISC;
        return NM_NER_MISC;
    }
    uint32_t last = c->tcls[e - 1], first = c->tcls[s];
    if (len >= 2) {
        uint32_t second = c->tcls[s + 1];
        if ((first & (C_ORGWORD | C_ORG)) && (second & C_OF) && !(first & C_LOC))
            return NM_NER_ORG; /* "Bank of England", "University of Leeds" */
        if ((first & C_LOCWORD) && (second & C_OF))
            return NM_NER_LOC; /* "Gulf of Mexico" */
        if (last & C_ORGWORD)
            return NM_NER_ORG;
        if (last & C_MISCWORD)
            return NM_NER_MISC;
        if ((last & C_LOCWORD) && !(first & C_PER))
            return NM_NER_LOC;
        if (first & C_PER)
            return NM_NER_PER;
        if (title_before(c, a, s))
            return NM_NER_PER;
        int caps = 0;
        for (size_t k = s; k < e; k++)
            caps |= (toks[k].flags & NM_TF_ALLCAPS) != 0;
        *weak = 1;
        if (caps || len > 3)
            return NM_NER_ORG;
        return NM_NER_PER;
    }
    /* one word */
    const nm_token *t = &toks[s];
    if ((first & (C_NOTNAME | C_TITLE)) || t->nchars == 1)
        return -1;
    if (!(t->flags & NM_TF_ALLCAPS) && t->end - t->start > 3 && text[t->end - 1] == 's' &&
        (nm_lexicon_word(r->lex, nm_token_hash_lower(text + t->start, t->end - t->start - 1)) & C_NAT))
        return NM_NER_MISC; /* "Israelis", "Chechens" */
    if (initial && ((first & C_STOP) || set_get(&c->lower, t->lhash)))
        return -1;
    if (first & C_PER) { /* a lone first name */
        *weak = 1;
        return NM_NER_PER;
    }
    if (title_before(c, a, s))
        return NM_NER_PER;
    if (group_suffix(text, t)) {
        *weak = 1;
        return NM_NER_MISC;
    }
    if ((t->flags & NM_TF_ALLCAPS) && t->nchars <= 6)
        return NM_NER_ORG;
    *weak = 1;
    if (e < b && (c->tcls[e] & C_SAYS))
        return NM_NER_PER; /* "Chernomyrdin said" */
    if (e < b && toks[e].kind == NM_TOK_NUMBER)
        return NM_NER_ORG; /* a team in a results line: "Pohang 3 Ulsan 2" */
    if (initial)
        return -2; /* unknown sentence-initial word: only the document can tell */
    if (s > a && (c->tcls[s - 1] & C_PLACEPREP))
        return NM_NER_LOC;
    return NM_NER_PER;
}

/* Can toks[k] continue a run that started at s? */
static int continues(const ctx *c, size_t s, size_t k, size_t b)
{
    const nm_token *toks = c->in->tokens;
    if (is_cap(&toks[k]))
        return 1;
    if (k + 1 >= b || !is_cap(&toks[k + 1]) || !(toks[k].flags & NM_TF_SPACE_AFTER))
        return toks[k].kind == NM_TOK_PUNCT && c->in->text[toks[k].start] == '&' && k + 1 < b &&
               is_cap(&toks[k + 1]);
    uint32_t cl = c->tcls[k];
    if ((cl & C_PARTICLE) && !(toks[k].flags & NM_TF_UPPER))
        return 1;
    if (cl & C_OF) {
        /* "of"/"for" after a word that starts organisation or place names */
        uint32_t prev = c->tcls[k - 1];
        if (k > s && (prev & (C_ORGWORD | C_LOCWORD | C_ORG)) && !(prev & C_LOC))
            return c->in->text[toks[k].start] != 'a'; /* not "and" */
        if (k > s + 1 && (c->tcls[k - 2] & (C_ORGWORD | C_LOCWORD)) &&
            (c->tcls[k - 1] & C_OF))
            return 1; /* "Organization of the Petroleum ..." */
    }
    return 0;
}

static void label_body_sentence(ctx *c, size_t a, size_t b)
{
    const nm_token *toks = c->in->tokens;
    size_t first_word = a;
    while (first_word < b && toks[first_word].kind > NM_TOK_NUMBER)
        first_word++;
    size_t i = a;
    while (i < b) {
        if (!is_cap(&toks[i])) {
            i++;
            continue;
        }
        size_t e = i + 1;
        while (e < b && continues(c, i, e, b))
            e++;
        /* a gazetteer phrase may run over words a run would not join ("Trinidad and Tobago") */
        uint32_t gc;
        size_t m = nm_lexicon_match(c->r->lex, toks, i, b, &gc);
        if (m > e - i && (gc & (C_LOC | C_ORG | C_MISC | C_NAT)) && is_cap(&toks[i + m - 1]))
            e = i + m;
        while (e > i + 1 && !is_cap(&toks[e - 1]))
            e--; /* never end on a connector */
        size_t s = i;
        int initial = s == first_word;
        for (int changed = 1; changed && s < e;) {
            changed = 0;
            /* drop leading function words and titles: "The MIT", "President Bush" */
            while (s < e) {
                uint32_t cl = c->tcls[s];
                size_t tm = nm_lexicon_match(c->r->lex, toks, s, e, &gc);
                if (tm && tm < e - s && (gc & C_TITLE)) {
                    s += tm;
                    initial = 0;
                    continue;
                }
                if (e - s > 1 && (cl & (C_STOP | C_NOTNAME | C_TITLE)) &&
                    !(cl & (C_LOC | C_ORG | C_NAT | C_ORGWORD | C_LOCWORD))) {
                    s++;
                    initial = 0;
                    continue;
                }
                break;
            }
            /* a leading nationality is its own entity unless it names an organisation */
            if (e - s > 1 && (c->tcls[s] & C_NAT)) {
                uint32_t last = c->tcls[e - 1];
                m = nm_lexicon_match(c->r->lex, toks, s, e, &gc);
                if (!(last & (C_ORGWORD | C_MISCWORD)) && m != e - s) {
                    put_span(c->labels, s, s + m, NM_NER_MISC);
                    set_put(&c->known, toks[s].lhash, 1 + NM_NER_MISC);
                    s += m ? m : 1;
                    initial = 0;
                    changed = 1;
                }
            }
        }
        if (s >= e) {
            i = e;
            continue;
        }
        int weak;
        int type = type_run(c, a, b, s, e, initial, &weak);
        if (type >= 0) {
            put_span(c->labels, s, e, type);
            for (size_t k = s; k < e; k++) {
                c->weak[k] = (uint8_t)weak;
                if (!weak && !(c->tcls[k] & (C_OF | C_PARTICLE | C_STOP)))
                    set_put(&c->known, toks[k].lhash, (uint8_t)(1 + type));
            }
        } else if (type == -2) {
            c->weak[s] = 2; /* decide from the document */
        }
        i = e;
    }
}

/* Headlines: gazetteer names and words the body typed, nothing else. */
static void label_headline(ctx *c, size_t a, size_t b)
{
    const nm_token *toks = c->in->tokens;
    size_t i = a;
    while (i < b) {
        if (toks[i].kind != NM_TOK_WORD || (toks[i].flags & NM_TF_CLITIC)) {
            i++;
            continue;
        }
        uint32_t gc;
        size_t m = nm_lexicon_match(c->r->lex, toks, i, b, &gc);
        if (m && (gc & (C_LOC | C_ORG | C_NAT | C_MISC)) && !(m == 1 && (gc & C_STOP))) {
            int type = (gc & C_ORG) && !(m == 1 && (gc & C_LOC)) ? NM_NER_ORG
                       : (gc & C_LOC) ? NM_NER_LOC : NM_NER_MISC;
            put_span(c->labels, i, i + m, type);
            i += m;
            continue;
        }
        uint8_t k = set_get(&c->known, toks[i].lhash);
        if (k && !(c->tcls[i] & (C_STOP | C_NOTNAME))) {
            size_t e = i + 1;
            while (e < b && set_get(&c->known, toks[e].lhash) == k && toks[e].kind == NM_TOK_WORD)
                e++;
            put_span(c->labels, i, e, k - 1);
            i = e;
            continue;
        }
        i++;
    }
}

static int is_headline(const ctx *c, size_t s, size_t a, size_t b)
{
    if (c->in->headline && c->in->headline[s])
        return 1;
    const nm_token *toks = c->in->tokens;
    size_t lower = 0, caps = 0, allcaps = 0, numbers = 0;
    for (size_t k = a; k < b; k++) {
        numbers += toks[k].kind == NM_TOK_NUMBER;
        if (toks[k].kind != NM_TOK_WORD || (toks[k].flags & NM_TF_CLITIC))
            continue;
        if (toks[k].flags & NM_TF_LOWER) {
            if (!(c->tcls[k] & C_STOP))
                lower++;
        } else if (toks[k].flags & NM_TF_UPPER) {
            caps++;
            allcaps += (toks[k].flags & NM_TF_ALLCAPS) != 0;
        }
    }
    /* title case without numbers (numbers make it a table row), or mostly capitals */
    return (caps >= 2 && lower == 0 && numbers == 0) || (caps >= 3 && allcaps * 2 > caps + lower);
}

void nm_ner_rules_label(const nm_ner_rules *r, const nm_recognizer_input *in, uint8_t *labels,
                        nm_scratch *scratch)
{
    size_t n = in->n;
    memset(labels, 0, n);
    if (n == 0)
        return;
    size_t words = 0;
    for (size_t k = 0; k < n; k++)
        words += in->tokens[k].kind == NM_TOK_WORD;
    size_t slots = 256;
    while (slots < 2 * words && slots < ((size_t)1 << SET_MAX_BITS))
        slots *= 2;
    size_t need = n * sizeof(uint32_t) + 2 * slots * sizeof(uint64_t) + 2 * slots + n + in->n_sentences + 64;
    unsigned char *mem = nm_scratch_get(scratch, need);
    ctx c = {.r = r, .in = in, .labels = labels};
    c.tcls = (uint32_t *)mem;
    c.lower.keys = (uint64_t *)(mem + ((n * sizeof(uint32_t) + 7) & ~(size_t)7));
    c.known.keys = c.lower.keys + slots;
    c.lower.vals = (uint8_t *)(c.known.keys + slots);
    c.known.vals = c.lower.vals + slots;
    c.lower.mask = c.known.mask = (uint32_t)(slots - 1);
    c.weak = c.known.vals + slots;
    uint8_t *head = c.weak + n;
    memset(c.lower.keys, 0, 2 * slots * sizeof(uint64_t));
    memset(c.weak, 0, n + in->n_sentences);
    const nm_token *toks = in->tokens;
    for (size_t k = 0; k < n; k++) {
        c.tcls[k] = toks[k].kind == NM_TOK_WORD ? nm_lexicon_word(r->lex, toks[k].lhash) : 0;
        if (toks[k].kind == NM_TOK_WORD && (toks[k].flags & NM_TF_LOWER))
            set_put(&c.lower, toks[k].lhash, 1);
    }
    size_t a = 0;
    for (size_t s = 0; s < in->n_sentences; s++) {
        size_t b = in->sent_ends[s];
        head[s] = (uint8_t)is_headline(&c, s, a, b);
        if (!head[s])
            label_body_sentence(&c, a, b);
        a = b;
    }
    /* guesses and unknown sentence starts: what the document says elsewhere */
    for (size_t k = 0; k < n; k++) {
        if (!c.weak[k])
            continue;
        int single = (labels[k] & 1) && (k + 1 >= n || labels[k + 1] != labels[k] + 1);
        if (c.weak[k] == 2 || (single && labels[k])) {
            uint8_t known = set_get(&c.known, toks[k].lhash);
            if (known)
                labels[k] = (uint8_t)(1 + 2 * (known - 1));
        }
    }
    a = 0;
    for (size_t s = 0; s < in->n_sentences; s++) {
        size_t b = in->sent_ends[s];
        if (head[s])
            label_headline(&c, a, b);
        a = b;
    }
}
