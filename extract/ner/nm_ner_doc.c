/*
 * nm_ner_doc: the document tagger (nm_ner_tag_document, see nm_ner.h).
 *
 * Same labels as nm_ner_tag per sentence, for a fraction of the work. Of a
 * token's NM_NER_NF feature rows, 21 depend on one token summary alone: its
 * own form, affixes, shapes and gazetteer classes, and what its neighbours
 * contribute as "the word before/after" (nm_ner_features.h, the groups).
 * An article repeats its words, so the document is first cut into word
 * types (tokens with the same bytes) and each type's five partial sums
 * (self, as left neighbour at 1 and 2, as right neighbour at 1 and 2) are
 * added up once, or found in the memo (words kept from earlier documents
 * by the thread); a token then costs five vector adds, one precomputed sum
 * for the rows that read only its capitalisation and document flags, and
 * the four rows that read it with its neighbours. Integer sums do not
 * depend on the order of the additions, so the emissions, and hence the
 * labels, are exactly those of the sentence tagger (test_ner and the
 * fuzz_ner target check this). Lanes 9-15 of the sums hold whatever the
 * 16-byte row reads bring (nm_ner_add_row); nothing reads them.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nm_alloc.h"
#include "nm_ner_int.h"

/* Groups summed per word type (NM_NER_G_SELF .. NM_NER_G_P2), and their
 * rows; the other NM_NER_POS_ROWS (NM_NER_G_POS) are per token. */
#define TYPE_GROUPS NM_NER_G_POS
#define TYPE_ROWS (NM_NER_NF - NM_NER_POS_ROWS)

typedef struct wtype {
    int16_t sum[TYPE_GROUPS][NM_NER_LANES]; /* per group; valid when ready */
    nm_ner_tokinfo ti; /* gaz filled in, doc not; from the memo only what tokens need */
    const char *text;
    const struct memo_entry *src; /* where the sums come from, if the memo had them */
    uint64_t hash; /* bytes_hash of text */
    uint32_t len;
    uint8_t ready; /* sums computed */
    uint8_t doc_known, doc;
} wtype;

static size_t align64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

static size_t table_cap(size_t n)
{
    size_t cap = 64;
    while (cap < n * 2)
        cap <<= 1;
    return cap;
}

/* Word types: at most one per token, plus one per token read in lower case
 * in a title-case heading. */
size_t nm_ner_document_scratch_size(size_t n, size_t longest)
{
    return align64(sizeof(nm_ner_doc)) + align64(n * sizeof(nm_ner_tokinfo)) +
           2 * align64(n * sizeof(uint32_t)) + align64(n * sizeof(uint64_t)) +
           align64(2 * n * sizeof(wtype)) +
           align64(n * TYPE_ROWS * sizeof(uint32_t)) +
           align64(table_cap(n) * sizeof(uint32_t)) +
           align64(longest * NM_NER_LANES * sizeof(int16_t)) +
           align64(longest * NM_NER_LABELS * sizeof(float)) + align64(longest * NM_NER_LABELS) +
           align64(n) + 64;
}

/* A hash of a token's bytes (any hash does: equal bytes, equal hash). The
 * tail is read with whole loads, not a variable-length copy, which would
 * stall on the store it reads back. */
static inline uint64_t bytes_hash(const char *s, size_t len)
{
    uint64_t h = (uint64_t)len * UINT64_C(0x9E3779B97F4A7C15);
    while (len > 8) {
        uint64_t x;
        memcpy(&x, s, 8);
        h = (h ^ x) * UINT64_C(0xbf58476d1ce4e5b9);
        h ^= h >> 29;
        s += 8;
        len -= 8;
    }
    uint64_t x;
    if (len >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + len - 4, 4);
        x = (uint64_t)hi << 32 | lo;
    } else if (len > 0) {
        x = (uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[len / 2] << 8 |
            (uint64_t)(unsigned char)s[len - 1] << 16;
    } else {
        x = 0;
    }
    h = (h ^ x) * UINT64_C(0x94d049bb133111eb);
    return h ^ (h >> 31);
}

static void type_init(wtype *t, const nm_ner_model *m, const char *text, size_t len)
{
    t->text = text;
    t->len = (uint32_t)len;
    t->ready = 0;
    t->doc_known = 0;
    nm_ner_token_info(text, len, &t->ti);
    t->ti.gaz = nm_ner_gaz_get(&m->gaz, t->ti.lower);
}

/* The weight rows are random reads in a table of megabytes: the rows of a
 * few items ahead are requested while the current one is added up. */
enum { AHEAD = 8 };

static inline void prefetch_rows(const nm_ner_model *m, const uint32_t *r, size_t k)
{
    for (size_t j = 0; j < k; j++) {
        const int8_t *w = m->w + (size_t)r[j] * NM_NER_LABELS;
        __builtin_prefetch(w);
        __builtin_prefetch(w + NM_NER_LABELS - 1); /* a row may straddle two lines */
    }
}

/* out += the k weight rows r, summed in a local accumulator: int8 weights
 * may alias anything, so summing into memory would make the compiler store
 * and reload the sums after every row. */
static inline void sum_rows(int16_t *out, const nm_ner_model *m, const uint32_t *r, size_t k)
{
    int16_t acc[NM_NER_LANES];
    memcpy(acc, out, sizeof acc);
    for (size_t j = 0; j < k; j++)
        nm_ner_add_row(acc, m, r[j]);
    memcpy(out, acc, sizeof acc);
}

/* The rows of a type's groups, in group order (TYPE_ROWS). */
static void type_rows(const nm_ner_model *m, const wtype *t, uint32_t *out)
{
    size_t o = 0;
    for (int g = 0; g < TYPE_GROUPS; g++)
        o += nm_ner_group_rows(g, &t->ti, m->features, m->bits, out + o);
}

/* The group sums of a type whose rows are r (type_rows). */
static void type_sums(const nm_ner_model *m, wtype *t, const uint32_t *r)
{
    for (int g = 0; g < TYPE_GROUPS; g++) {
        memset(t->sum[g], 0, sizeof t->sum[g]);
        sum_rows(t->sum[g], m, r, nm_ner_group_len[g]);
        r += nm_ner_group_len[g];
    }
    t->ready = 1;
}

/* The group sums of the k types todo; rows has room for k x TYPE_ROWS. */
static void all_type_sums(const nm_ner_model *m, wtype *types, const uint32_t *todo, size_t k,
                          uint32_t *rows)
{
    for (size_t j = 0; j < k; j++)
        type_rows(m, &types[todo[j]], rows + j * TYPE_ROWS);
    for (size_t j = 0; j < k && j < AHEAD; j++)
        prefetch_rows(m, rows + j * TYPE_ROWS, TYPE_ROWS);
    for (size_t j = 0; j < k; j++) {
        if (j + AHEAD < k)
            prefetch_rows(m, rows + (j + AHEAD) * TYPE_ROWS, TYPE_ROWS);
        type_sums(m, &types[todo[j]], rows + j * TYPE_ROWS);
    }
}

/* ---- the memo: word types kept across documents ---- */

#define MEMO_SLOTS 16384 /* direct-mapped: 3.5 MiB, touched as used */
#define MEMO_TEXT 36    /* longer tokens are not kept */

/* A word and what tokens need of it: the first cache line is all a miss
 * reads. */
typedef struct memo_entry {
    uint64_t key; /* bytes hash | 1; 0 = empty */
    uint64_t lower, sshape;
    uint8_t len, cap, letters;
    uint8_t keep; /* found again since it came in, minus words turned away */
    char text[MEMO_TEXT];
    int16_t sum[TYPE_GROUPS][NM_NER_LANES];
} memo_entry;
_Static_assert(offsetof(memo_entry, sum) == 64, "a memo entry's key and text fill one line");

struct nm_ner_memo {
    const nm_ner_model *model; /* what the sums were computed with, */
    uint64_t stamp;            /* and its nm_ner_model.stamp */
    memo_entry *slot;          /* MEMO_SLOTS */
};

void *nm_ner_table_alloc(size_t size)
{
    /* Whole huge pages only: a partial one stays in small pages. */
    enum { HUGE = 2u << 20 };
    size_t whole = (size + HUGE - 1) / HUGE * HUGE;
    void *p = NULL;
    if (size < HUGE / 2 || posix_memalign(&p, HUGE, whole) != 0)
        return nm_xcalloc(1, size);
#if defined(MADV_HUGEPAGE)
    madvise(p, whole, MADV_HUGEPAGE); /* a hint (fine if refused), before the first touch */
#endif
    memset(p, 0, whole);
    return p;
}

nm_ner_memo *nm_ner_memo_new(void)
{
    nm_ner_memo *memo = nm_xcalloc(1, sizeof *memo);
    memo->slot = nm_ner_table_alloc(MEMO_SLOTS * sizeof *memo->slot);
    return memo;
}

void nm_ner_memo_free(nm_ner_memo **memo)
{
    if (!memo || !*memo)
        return;
    free((*memo)->slot);
    free(*memo);
    *memo = NULL;
}

static inline memo_entry *memo_slot(const nm_ner_memo *memo, uint64_t h)
{
    return &memo->slot[h & (MEMO_SLOTS - 1)];
}

/* Returns the entry if the memo holds exactly t's bytes, else NULL. Fills
 * in t's summary and asks for the entry's sums, which intern_types copies
 * after the other tokens' lookups, by when they have arrived. */
static const memo_entry *memo_find(nm_ner_memo *memo, wtype *t)
{
    memo_entry *me = memo_slot(memo, t->hash);
    if (me->key != (t->hash | 1) || me->len != t->len || memcmp(me->text, t->text, t->len) != 0)
        return NULL;
    if (me->keep < 255)
        me->keep++;
    for (size_t o = offsetof(memo_entry, sum); o < sizeof *me; o += 64)
        __builtin_prefetch((const char *)me + o);
    /* A known word is never summed again: of its summary the tokens read
     * only these (capitalisation, letters, lower case and short shape). */
    memset(&t->ti, 0, sizeof t->ti);
    t->ti.lower = me->lower;
    t->ti.sshape = me->sshape;
    t->ti.cap = me->cap;
    t->ti.letters = me->letters;
    t->ready = 1;
    return me;
}

static void memo_store(nm_ner_memo *memo, const wtype *t)
{
    if (t->len > MEMO_TEXT)
        return;
    memo_entry *me = memo_slot(memo, t->hash);
    /* A slot goes to a new word only once its word has been turned away
     * more often than it was found again: frequent words stay, and a
     * stream of rare ones does not flush them. */
    if (me->key && me->keep > 0) {
        me->keep--;
        return;
    }
    me->keep = 0;
    me->key = t->hash | 1;
    me->lower = t->ti.lower;
    me->sshape = t->ti.sshape;
    me->cap = t->ti.cap;
    me->letters = t->ti.letters;
    me->len = (uint8_t)t->len;
    memcpy(me->text, t->text, t->len);
    memcpy(me->sum, t->sum, sizeof me->sum);
}

static inline void add_vec(int16_t *e, const int16_t *v)
{
    for (int l = 0; l < NM_NER_LANES; l++)
        e[l] = (int16_t)(e[l] + v[l]);
}

/* What the sentence edges contribute as neighbours, by group (SELF unused). */
static void edge_sums(const nm_ner_model *m, int16_t edge[TYPE_GROUPS][NM_NER_LANES])
{
    static const size_t edge_of[TYPE_GROUPS] = {0, 1, 0, 2, 3}; /* nm_ner_edge by group */
    memset(edge, 0, TYPE_GROUPS * sizeof edge[0]);
    for (int g = NM_NER_G_M1; g < TYPE_GROUPS; g++) {
        uint32_t r[NM_NER_GROUP_MAX];
        size_t k = nm_ner_group_rows(g, nm_ner_edge(edge_of[g]), m->features, m->bits, r);
        sum_rows(edge[g], m, r, k);
    }
}

void nm_ner_model_prepare(nm_ner_model *m)
{
    uint64_t h = nm_ner_fnv1a(m->w, ((size_t)1 << m->bits) * NM_NER_LABELS, NM_NER_FNV_BASIS);
    if (m->gaz.mask) {
        h = nm_ner_fnv1a(m->gaz.keys, (m->gaz.mask + 1) * sizeof *m->gaz.keys, h);
        h = nm_ner_fnv1a(m->gaz.vals, m->gaz.mask + 1, h);
    }
    unsigned shape[2] = {m->bits, m->features};
    m->stamp = nm_ner_fnv1a(shape, sizeof shape, h);
    uint32_t r[NM_NER_POS_OWN];
    for (unsigned cap = 0; cap < 8; cap++)
        for (unsigned doc = 0; doc < 4; doc++) {
            nm_ner_pos_rows_own(cap, doc, 0, 0, 0, m->features, m->bits, r);
            memset(m->pos_own[cap][doc], 0, sizeof m->pos_own[cap][doc]);
            sum_rows(m->pos_own[cap][doc], m, r, NM_NER_POS_OWN);
        }
}

/* The emissions of one sentence of n tokens (types tid, summaries ti with
 * document flags) into e; rows has room for n x NM_NER_POS_ROWS. */
static void sentence_emissions(const nm_ner_model *m, wtype *types, const uint32_t *tid,
                               const nm_ner_tokinfo *ti, size_t n,
                               int16_t edge[TYPE_GROUPS][NM_NER_LANES], int16_t *e,
                               uint32_t *rows)
{
    enum { K = NM_NER_POS_ROWS, OWN = NM_NER_POS_OWN };
    for (size_t i = 0; i < n; i++)
        if (!types[tid[i]].ready) { /* a lower-cased heading word */
            uint32_t tr[TYPE_ROWS];
            type_rows(m, &types[tid[i]], tr);
            type_sums(m, &types[tid[i]], tr);
        }
    int headline = (m->features & NM_NER_F_POS) ? nm_ner_sentence_is_headline(ti, n) : 0;
    /* A token's own position rows come from pos_own, but for the first
     * token and in headlines (rows + i * K holds them then). */
    if (headline)
        for (size_t i = 0; i < n; i++)
            nm_ner_pos_rows_own(ti[i].cap, ti[i].doc, ti[i].lower, i == 0, 1, m->features,
                                m->bits, rows + i * K);
    else
        nm_ner_pos_rows_own(ti[0].cap, ti[0].doc, ti[0].lower, 1, 0, m->features, m->bits,
                            rows);
    for (size_t i = 0; i < n; i++) {
        const nm_ner_tokinfo *m1 = i >= 1 ? &ti[i - 1] : nm_ner_edge(1);
        const nm_ner_tokinfo *p1 = i + 1 < n ? &ti[i + 1] : nm_ner_edge(2);
        nm_ner_pos_rows_window(&ti[i], m1, p1, headline, m->features, m->bits,
                               rows + i * K + OWN);
    }
    for (size_t i = 0; i < n && i < AHEAD; i++)
        prefetch_rows(m, rows + i * K + OWN, K - OWN);
    for (size_t i = 0; i < n; i++) {
        if (i + AHEAD < n)
            prefetch_rows(m, rows + (i + AHEAD) * K + OWN, K - OWN);
        int16_t ei[NM_NER_LANES];
        memcpy(ei, types[tid[i]].sum[NM_NER_G_SELF], sizeof ei);
        add_vec(ei, i >= 1 ? types[tid[i - 1]].sum[NM_NER_G_M1] : edge[NM_NER_G_M1]);
        add_vec(ei, i >= 2 ? types[tid[i - 2]].sum[NM_NER_G_M2] : edge[NM_NER_G_M2]);
        add_vec(ei, i + 1 < n ? types[tid[i + 1]].sum[NM_NER_G_P1] : edge[NM_NER_G_P1]);
        add_vec(ei, i + 2 < n ? types[tid[i + 2]].sum[NM_NER_G_P2] : edge[NM_NER_G_P2]);
        if (i == 0 || headline) {
            sum_rows(ei, m, rows + i * K, K);
        } else {
            add_vec(ei, m->pos_own[ti[i].cap][ti[i].doc]);
            sum_rows(ei, m, rows + i * K + OWN, K - OWN);
        }
        memcpy(e + i * NM_NER_LANES, ei, sizeof ei);
    }
}

/* A word read with its first letter in lower case (a title-case heading's
 * "Talks" as "talks"; see nm_ner_sentence_context): a type of its own,
 * not in the table. */
static void lowered_type(wtype *t, const nm_ner_model *m, const char *text, size_t len)
{
    t->text = text;
    t->src = NULL;
    t->len = (uint32_t)len;
    t->ready = 0;
    t->doc_known = 0;
    nm_ner_token_info_lowered(text, len, &t->ti);
    t->ti.gaz = nm_ner_gaz_get(&m->gaz, t->ti.lower);
}

/* One document's working memory, carved from the scratch. */
typedef struct tagger {
    const nm_ner_model *m;
    nm_ner_memo *memo; /* may be NULL */
    nm_ner_doc *doc;
    nm_ner_tokinfo *ti; /* per token: its type's summary, with document flags */
    uint32_t *tid;      /* per token: its type */
    uint32_t *todo;     /* types to summarise */
    uint64_t *hashes;   /* per token: bytes_hash */
    wtype *types;       /* room for 2n */
    size_t nt;
    uint32_t *rows;     /* rows of the types, then of one sentence */
    uint32_t *table;    /* type index + 1 by hash; 0 = empty */
    size_t cap;
    int16_t *e;         /* emissions of one sentence */
    float *score;
    uint8_t *marked;    /* per type: document flags marked */
    uint8_t *back;
    int16_t edge[TYPE_GROUPS][NM_NER_LANES];
} tagger;

/* Cuts the document into word types: each new one is found in the memo or
 * summarised (after all are known, so that the weight rows of many types
 * can be fetched at once). */
static void intern_types(tagger *tg, const nm_ner_token *tokens, size_t n)
{
    /* The memo is megabytes read at random: the first line of a token's
     * slot (key and text) is requested MEMO_AHEAD tokens before it is
     * needed, the rest only for the words found (requesting everything at
     * once would stall on the memory system's queue). */
    enum { MEMO_AHEAD = 16 };
    for (size_t i = 0; i < n; i++)
        tg->hashes[i] = bytes_hash(tokens[i].text, tokens[i].len);
    for (size_t i = 0; tg->memo && i < n && i < MEMO_AHEAD; i++)
        __builtin_prefetch(memo_slot(tg->memo, tg->hashes[i]));
    memset(tg->table, 0, tg->cap * sizeof *tg->table);
    size_t nt = 0, n_todo = 0, mask = tg->cap - 1;
    for (size_t i = 0; i < n; i++) {
        if (tg->memo && i + MEMO_AHEAD < n)
            __builtin_prefetch(memo_slot(tg->memo, tg->hashes[i + MEMO_AHEAD]));
        const char *text = tokens[i].text;
        size_t len = tokens[i].len;
        uint64_t h = tg->hashes[i];
        for (size_t slot = (size_t)h & mask;; slot = (slot + 1) & mask) {
            uint32_t v = tg->table[slot];
            if (v == 0) {
                wtype *t = &tg->types[nt];
                t->text = text;
                t->hash = h;
                t->len = (uint32_t)len;
                t->doc_known = 0;
                t->src = tg->memo ? memo_find(tg->memo, t) : NULL;
                if (!t->src) {
                    type_init(t, tg->m, text, len);
                    tg->todo[n_todo++] = (uint32_t)nt;
                }
                tg->table[slot] = (uint32_t)++nt;
                tg->tid[i] = (uint32_t)(nt - 1);
                break;
            }
            const wtype *t = &tg->types[v - 1];
            if (t->hash == h && t->len == len && memcmp(t->text, text, len) == 0) {
                tg->tid[i] = v - 1;
                break;
            }
        }
        tg->ti[i] = tg->types[tg->tid[i]].ti;
    }
    tg->nt = nt;
    for (size_t t = 0; t < nt; t++)
        if (tg->types[t].src)
            memcpy(tg->types[t].sum, tg->types[t].src->sum, sizeof tg->types[t].sum);
    all_type_sums(tg->m, tg->types, tg->todo, n_todo, tg->rows);
    if (tg->memo)
        for (size_t j = 0; j < n_todo; j++)
            memo_store(tg->memo, &tg->types[tg->todo[j]]);
}

/* nm_ner_sentence_context for the sentence [a, b), by type: document flags
 * of the original word (the document context is complete by now), the
 * lower-cased reading in title-case headings (a type of its own). */
static void sentence_context(tagger *tg, const nm_ner_token *tokens, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++) {
        wtype *t = &tg->types[tg->tid[i]];
        if (!t->doc_known) {
            t->doc = nm_ner_doc_get(tg->doc, t->ti.lower);
            t->doc_known = 1;
        }
        tg->ti[i].doc = t->doc;
    }
    if (!nm_ner_sentence_is_title_case(tg->ti + a, b - a))
        return;
    for (size_t i = a; i < b; i++)
        if (tg->ti[i].cap == NM_NER_CAP_TITLE && tg->ti[i].doc == NM_NER_DOC_LOWER) {
            wtype *t = &tg->types[tg->nt];
            lowered_type(t, tg->m, tokens[i].text, tokens[i].len);
            tg->tid[i] = (uint32_t)tg->nt++;
            tg->ti[i] = t->ti;
            tg->ti[i].doc = NM_NER_DOC_LOWER;
        }
}

void nm_ner_tag_document(const nm_ner_model *m, const nm_ner_token *tokens, size_t n,
                         const uint32_t *sent_ends, size_t n_sentences, uint8_t *labels,
                         void *scratch, size_t scratch_size)
{
    nm_ner_tag_document_memo(m, NULL, tokens, n, sent_ends, n_sentences, labels, scratch,
                             scratch_size);
}

void nm_ner_tag_document_memo(const nm_ner_model *m, nm_ner_memo *memo,
                              const nm_ner_token *tokens, size_t n, const uint32_t *sent_ends,
                              size_t n_sentences, uint8_t *labels, void *scratch,
                              size_t scratch_size)
{
    if (memo && (memo->model != m || memo->stamp != m->stamp)) { /* another model's sums */
        memset(memo->slot, 0, MEMO_SLOTS * sizeof *memo->slot);
        memo->model = m;
        memo->stamp = m->stamp;
    }
    size_t longest = 0, a = 0;
    for (size_t s = 0; s < n_sentences; s++) {
        size_t b = sent_ends[s] < n ? sent_ends[s] : n;
        if (b > a && b - a > longest)
            longest = b - a;
        a = b > a ? b : a;
    }
    if (a < n && n - a > longest)
        longest = n - a;
    size_t need = nm_ner_document_scratch_size(n, longest);
    void *own = NULL;
    if (!scratch || scratch_size < need)
        scratch = own = nm_xmalloc(need);
    unsigned char *p = (unsigned char *)align64((size_t)scratch);
    tagger tg = {.m = m, .memo = memo, .cap = table_cap(n)};
/* Each array in turn, 64-byte aligned (nm_ner_document_scratch_size). */
#define CARVE(field, count)                                                                    \
    do {                                                                                       \
        tg.field = (void *)p;                                                                  \
        p += align64((count) * sizeof *tg.field);                                             \
    } while (0)
    CARVE(doc, 1);
    CARVE(ti, n);
    CARVE(tid, n);
    CARVE(todo, n);
    CARVE(hashes, n);
    CARVE(types, 2 * n);
    CARVE(rows, n * TYPE_ROWS);
    CARVE(table, tg.cap);
    CARVE(e, longest * NM_NER_LANES);
    CARVE(score, longest * NM_NER_LABELS);
    CARVE(marked, n);
    CARVE(back, longest * NM_NER_LABELS);
#undef CARVE

    intern_types(&tg, tokens, n);
    edge_sums(m, tg.edge);
    nm_ner_doc_reset_for(tg.doc, n);
    memset(tg.marked, 0, tg.nt);
    /* Sentences as given; tokens after the last end form one more. Pass 0
     * builds the document context, pass 1 tags. */
    for (int pass = 0; pass < 2; pass++) {
        a = 0;
        for (size_t s = 0; s <= n_sentences && a < n; s++) {
            size_t b = s < n_sentences ? sent_ends[s] : n;
            if (b > n)
                b = n;
            if (b <= a)
                continue;
            if (pass == 0) {
                nm_ner_doc_add_types(tg.doc, tg.ti + a, b - a, tg.tid + a, tg.marked);
            } else {
                sentence_context(&tg, tokens, a, b);
                sentence_emissions(m, tg.types, tg.tid + a, tg.ti + a, b - a, tg.edge, tg.e,
                                   tg.rows);
                nm_ner_viterbi(m, tg.e, b - a, labels + a, tg.score, tg.back);
            }
            a = b;
        }
    }
    free(own);
}
