#include "nm_entities.h"

#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_hash.h"
#include "nm_keytable.h"
#include "nm_ner.h"

#define MAX_SPAN 8

typedef struct mspan {
    uint32_t first, end; /* token range */
    uint32_t entity;
    uint32_t sentence;
    uint64_t key;        /* sequence hash of the tokens' lower-case hashes */
} mspan;

typedef struct ent {
    uint64_t key;
    int type;            /* nm_entity_type */
    uint32_t votes[NM_ENTITY_TYPE_COUNT];
    uint32_t parent;     /* union-find */
    uint32_t best;       /* mspan index of the longest mention */
    uint32_t n, first_sentence;
    double score;
} ent;

static uint64_t seq_key(const nm_token *toks, uint32_t a, uint32_t b)
{
    uint64_t h = toks[a].lhash;
    for (uint32_t k = a + 1; k < b; k++)
        h = nm_hash_combine(h, toks[k].lhash);
    return h ? h : 1;
}

static uint32_t find(ent *e, uint32_t i)
{
    while (e[i].parent != i) {
        e[i].parent = e[e[i].parent].parent;
        i = e[i].parent;
    }
    return i;
}

static void unite(ent *e, uint32_t into, uint32_t from)
{
    into = find(e, into);
    from = find(e, from);
    if (into != from)
        e[from].parent = into;
}

static int group_word(const char *text, const nm_token *t, const nm_lexicon *groups)
{
    if (groups && nm_lexicon_word(groups, t->lhash))
        return 1;
    static const char *const sufs[] = {"ian", "ians", "ese", "ish", "ans"};
    size_t len = t->end - t->start;
    if (t->flags & NM_TF_ALLCAPS)
        return 0;
    for (size_t i = 0; i < sizeof sufs / sizeof sufs[0]; i++) {
        size_t n = strlen(sufs[i]);
        if (len > n + 2 && !memcmp(text + t->end - n, sufs[i], n))
            return 1;
    }
    return 0;
}

static int cap_word(const nm_token *t)
{
    return t->kind == NM_TOK_WORD && (t->flags & NM_TF_UPPER) && !(t->flags & NM_TF_CLITIC);
}

static int cmp_mention(const void *pa, const void *pb)
{
    const nm_mention *a = pa, *b = pb;
    if (a->entity != b->entity)
        return a->entity < b->entity ? -1 : 1;
    return a->span.start < b->span.start ? -1 : a->span.start > b->span.start;
}

typedef struct order {
    uint32_t ent;
    double score;
    uint32_t first;
} order;

static int cmp_order(const void *pa, const void *pb)
{
    const order *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->first < b->first ? -1 : a->first > b->first;
}

/* The state of one nm_entities_build: the mention spans found so far and
 * the entities they are grouped into. Steps 1-5 below each transform it. */
typedef struct builder {
    const nm_entities_input *in;
    const nm_token *toks;
    const char *text;
    size_t n;            /* tokens */
    mspan *sp;           /* mention spans, in token order until step 4 */
    size_t ns, cap;
    uint8_t *in_mention; /* per token: 1 when inside a span */
    ent *es;             /* entities (union-find over them) */
    size_t ne;
    nm_keytable bykey;   /* span key -> entity */
} builder;

/* Room for one more span at sp[ns]. */
static void spans_reserve_one(builder *b)
{
    if (b->ns == b->cap) {
        b->cap *= 2;
        b->sp = nm_xrealloc(b->sp, b->cap * sizeof *b->sp);
    }
}

/* The sentence of token tok, searching on from sentence sent. */
static size_t sentence_of(const nm_entities_input *in, size_t sent, size_t tok)
{
    while (sent < in->n_sentences && in->sent_ends[sent] <= tok)
        sent++;
    return sent;
}

/* 1. spans: the recogniser's labelled spans, trimmed of punctuation and
 * clitics, each with its type (in .entity until grouping). */
static void collect_spans(builder *b)
{
    const nm_entities_input *in = b->in;
    const nm_token *toks = b->toks;
    size_t pos = 0, s0, e0, sent = 0;
    nm_ner_type ty;
    while (nm_ner_next_span(in->labels, b->n, &pos, &s0, &e0, &ty)) {
        while (s0 < e0 && toks[s0].kind > NM_TOK_NUMBER)
            s0++;
        while (e0 > s0 && (toks[e0 - 1].kind > NM_TOK_NUMBER || (toks[e0 - 1].flags & NM_TF_CLITIC)))
            e0--;
        if (e0 <= s0 || e0 - s0 > MAX_SPAN)
            continue;
        sent = sentence_of(in, sent, s0);
        spans_reserve_one(b);
        int type = ty == NM_NER_PER ? NM_ENTITY_PERSON
                   : ty == NM_NER_ORG ? NM_ENTITY_ORGANISATION
                   : ty == NM_NER_LOC ? NM_ENTITY_PLACE
                   : group_word(b->text, &toks[e0 - 1], in->groups) ? NM_ENTITY_NATIONALITY
                                                                    : NM_ENTITY_OTHER;
        mspan *m = &b->sp[b->ns];
        m->first = (uint32_t)s0;
        m->end = (uint32_t)e0;
        m->sentence = (uint32_t)sent;
        m->key = seq_key(toks, (uint32_t)s0, (uint32_t)e0);
        m->entity = (uint32_t)type; /* the type until grouping */
        memset(b->in_mention + s0, 1, e0 - s0);
        b->ns++;
    }
}

/* 1a. a nationality right before an organisation's name is part of it
 * ("Turkish" + "Red Crescent" -> "Turkish Red Crescent") */
static void join_nationality_organisation(builder *b)
{
    mspan *sp = b->sp;
    size_t keep = 0;
    for (size_t i = 0; i < b->ns; i++) {
        if (keep > 0 && sp[keep - 1].entity == NM_ENTITY_NATIONALITY &&
            sp[i].entity == NM_ENTITY_ORGANISATION && sp[keep - 1].end == sp[i].first &&
            sp[keep - 1].sentence == sp[i].sentence && sp[i].end - sp[keep - 1].first <= MAX_SPAN) {
            sp[keep - 1].end = sp[i].end;
            sp[keep - 1].entity = NM_ENTITY_ORGANISATION;
            sp[keep - 1].key = seq_key(b->toks, sp[keep - 1].first, sp[keep - 1].end);
            continue;
        }
        sp[keep++] = sp[i];
    }
    b->ns = keep;
}

/* 1b. an acronym's capitalised expansion is one name, whatever the
 * recogniser made of it ("Norwegian Water Resources and Energy Directorate") */
static void span_acronym_expansions(builder *b)
{
    const nm_entities_input *in = b->in;
    const nm_token *toks = b->toks;
    for (size_t a = 0; a < in->n_acronyms; a++) {
        const nm_acronym_def *d = &in->acronyms[a];
        uint32_t lf = d->long_first, le = d->long_end;
        if (le - lf > MAX_SPAN || !cap_word(&toks[lf]) || !cap_word(&toks[le - 1]))
            continue;
        int type = NM_ENTITY_ORGANISATION;
        size_t keep = 0;
        for (size_t i = 0; i < b->ns; i++) {
            if (b->sp[i].first == d->short_tok)
                type = (int)b->sp[i].entity;
            if (b->sp[i].first < le && b->sp[i].end > lf)
                continue; /* overlaps the expansion: replaced */
            b->sp[keep++] = b->sp[i];
        }
        b->ns = keep;
        if (type == NM_ENTITY_NATIONALITY || type == NM_ENTITY_PERSON)
            type = NM_ENTITY_ORGANISATION;
        spans_reserve_one(b);
        mspan *sp = b->sp;
        size_t at = b->ns;
        while (at > 0 && sp[at - 1].first > lf) {
            sp[at] = sp[at - 1];
            at--;
        }
        sp[at].first = lf;
        sp[at].end = le;
        sp[at].sentence = (uint32_t)sentence_of(in, 0, lf);
        sp[at].key = seq_key(toks, lf, le);
        sp[at].entity = (uint32_t)type;
        memset(b->in_mention + lf, 1, le - lf);
        b->ns++;
    }
}

/* 2. one entity per distinct key, typed by the majority of its spans */
static void entities_by_key(builder *b)
{
    nm_keytable_init(&b->bykey, b->ns + b->in->n_acronyms * 2 + 16);
    b->es = nm_xmalloc((b->ns + 1) * sizeof *b->es);
    ent *es = b->es;
    size_t ne = 0;
    for (size_t i = 0; i < b->ns; i++) {
        int ins;
        uint32_t *v = nm_keytable_slot(&b->bykey, b->sp[i].key, &ins);
        if (ins) {
            memset(&es[ne], 0, sizeof es[ne]);
            es[ne].key = b->sp[i].key;
            es[ne].parent = (uint32_t)ne;
            es[ne].best = (uint32_t)i;
            *v = (uint32_t)ne++;
        }
        es[*v].votes[b->sp[i].entity]++;
        b->sp[i].entity = *v;
    }
    for (size_t i = 0; i < ne; i++) {
        int best = 0;
        for (int t = 1; t < NM_ENTITY_TYPE_COUNT; t++)
            if (es[i].votes[t] > es[i].votes[best])
                best = t;
        es[i].type = best;
    }
    b->ne = ne;
}

/* 3a. acronyms join their expansions */
static void join_acronyms(builder *b)
{
    const nm_entities_input *in = b->in;
    const nm_token *toks = b->toks;
    for (size_t a = 0; a < in->n_acronyms; a++) {
        const nm_acronym_def *d = &in->acronyms[a];
        const uint32_t *s = nm_keytable_get(&b->bykey, toks[d->short_tok].lhash);
        const uint32_t *l = nm_keytable_get(&b->bykey, seq_key(toks, d->long_first, d->long_end));
        if (!l && d->long_end > d->long_first + 1) /* "the National ..." labelled without "The" */
            l = nm_keytable_get(&b->bykey, seq_key(toks, d->long_first + 1, d->long_end));
        if (s && l && find(b->es, *s) != find(b->es, *l))
            unite(b->es, *l, *s);
    }
}

/* 3b. a person's single name joins the closest earlier full name that ends or starts with it */
static void join_person_names(builder *b)
{
    const nm_token *toks = b->toks;
    const mspan *sp = b->sp;
    ent *es = b->es;
    nm_keytable names; /* key of one word -> latest multi-word person entity having it */
    nm_keytable_init(&names, b->ns * 2 + 16);
    for (size_t i = 0; i < b->ns; i++) {
        uint32_t e = find(es, sp[i].entity);
        if (es[sp[i].entity].type != NM_ENTITY_PERSON)
            continue;
        uint32_t len = sp[i].end - sp[i].first;
        if (len >= 2) {
            int ins;
            *nm_keytable_slot(&names, toks[sp[i].end - 1].lhash, &ins) = e;
            uint32_t *f = nm_keytable_slot(&names, toks[sp[i].first].lhash ^ 0x5bd1e995u, &ins);
            *f = e;
        } else {
            const uint32_t *full = nm_keytable_get(&names, toks[sp[i].first].lhash);
            if (!full)
                full = nm_keytable_get(&names, toks[sp[i].first].lhash ^ 0x5bd1e995u);
            if (full && find(es, *full) != e)
                unite(es, *full, sp[i].entity);
        }
    }
    nm_keytable_free(&names);
}

/* 4. propagation: other capitalised occurrences of known surfaces become
 * mentions too (appended after the spans found so far) */
static void propagate_surfaces(builder *b)
{
    const nm_token *toks = b->toks;
    size_t n = b->n, base = b->ns, sent = 0;
    nm_keytable surf; /* surface key -> entity; max length tracked */
    nm_keytable_init(&surf, base + 16);
    uint32_t maxlen = 0;
    for (size_t i = 0; i < base; i++) {
        if (!cap_word(&toks[b->sp[i].first]))
            continue;
        int ins;
        uint32_t *v = nm_keytable_slot(&surf, b->sp[i].key, &ins);
        if (ins)
            *v = b->sp[i].entity;
        uint32_t len = b->sp[i].end - b->sp[i].first;
        if (len > maxlen)
            maxlen = len;
    }
    for (size_t k = 0; k < n && maxlen; k++) {
        if (b->in_mention[k] || !cap_word(&toks[k]))
            continue;
        uint64_t h = 0;
        uint32_t best_len = 0, best_ent = 0;
        for (uint32_t len = 1; len <= maxlen && k + len <= n; len++) {
            if (b->in_mention[k + len - 1])
                break;
            h = len == 1 ? toks[k].lhash : nm_hash_combine(h, toks[k + len - 1].lhash);
            const uint32_t *v = nm_keytable_get(&surf, h ? h : 1);
            if (v && cap_word(&toks[k + len - 1])) {
                best_len = len;
                best_ent = *v;
            }
        }
        if (!best_len)
            continue;
        sent = sentence_of(b->in, sent, k);
        spans_reserve_one(b);
        mspan *m = &b->sp[b->ns];
        m->first = (uint32_t)k;
        m->end = (uint32_t)(k + best_len);
        m->entity = best_ent;
        m->sentence = (uint32_t)sent;
        m->key = h;
        memset(b->in_mention + k, 1, best_len);
        b->ns++;
        k += best_len - 1;
    }
    nm_keytable_free(&surf);
}

/* 5a. roots, canonical names, salience: the root entities in output order
 * (*nroots of them, caller frees); root_index maps an entity to its root's
 * place in the returned array (UINT32_MAX for non-roots). Sets *top to the
 * highest score. */
static order *rank_roots(builder *b, const nm_extract_result *r, uint32_t *root_index,
                         size_t *nroots_out, double *top_out)
{
    const nm_token *toks = b->toks;
    ent *es = b->es;
    size_t nroots = 0;
    for (size_t i = 0; i < b->ne; i++)
        root_index[i] = find(es, (uint32_t)i) == i ? (uint32_t)nroots++ : UINT32_MAX;
    order *ord = nm_xcalloc(nroots + 1, sizeof *ord);
    for (size_t i = 0; i < b->ne; i++) {
        if (root_index[i] != UINT32_MAX) {
            ord[root_index[i]].ent = (uint32_t)i;
            ord[root_index[i]].first = UINT32_MAX;
        }
    }
    for (size_t i = 0; i < b->ns; i++) {
        const mspan *sp = b->sp;
        uint32_t root = find(es, sp[i].entity);
        order *o = &ord[root_index[root]];
        ent *e = &es[root];
        const mspan *cur = &sp[e->best];
        uint32_t blen = toks[cur->end - 1].end - toks[cur->first].start;
        uint32_t mlen = toks[sp[i].end - 1].end - toks[sp[i].first].start;
        /* canonical: longest mention of the root's type */
        if (mlen > blen && (es[sp[i].entity].type == e->type || sp[i].entity == root))
            e->best = (uint32_t)i;
        o->score += sp[i].sentence < 2 ? 2.0 : 1.0;
        if (sp[i].first < o->first)
            o->first = sp[i].first;
    }
    double top = 0;
    for (size_t i = 0; i < nroots; i++) {
        ent *e = &es[ord[i].ent];
        const mspan *best = &b->sp[e->best];
        size_t len = toks[best->end - 1].end - toks[best->first].start;
        char name[256];
        if (len < sizeof name) {
            memcpy(name, b->text + toks[best->first].start, len);
            name[len] = '\0';
            if (r->title && strstr(r->title, name))
                ord[i].score += 3.0;
        }
        if (ord[i].score > top)
            top = ord[i].score;
    }
    qsort(ord, nroots, sizeof *ord, cmp_order);
    *nroots_out = nroots;
    *top_out = top;
    return ord;
}

/* 5b. the entities and mentions into r (its arena) */
static void write_result(builder *b, nm_extract_result *r, const order *ord, size_t nroots,
                         double top, uint32_t *root_index)
{
    const nm_token *toks = b->toks;
    ent *es = b->es;
    r->entities = nm_arena_calloc(r->arena, nroots ? nroots : 1, sizeof *r->entities);
    r->n_entities = nroots;
    for (size_t i = 0; i < nroots; i++) {
        ent *e = &es[ord[i].ent];
        root_index[ord[i].ent] = (uint32_t)i; /* now: output index */
        const mspan *best = &b->sp[e->best];
        r->entities[i].name = nm_arena_strndup(r->arena, b->text + toks[best->first].start,
                                               toks[best->end - 1].end - toks[best->first].start);
        r->entities[i].type = (nm_entity_type)e->type;
        r->entities[i].salience = top > 0 ? ord[i].score / top : 0;
    }
    size_t ns = b->ns;
    r->mentions = nm_arena_calloc(r->arena, ns ? ns : 1, sizeof *r->mentions);
    r->n_mentions = ns;
    for (size_t i = 0; i < ns; i++) {
        nm_mention *m = &r->mentions[i];
        m->entity = root_index[find(es, b->sp[i].entity)];
        m->span.start = toks[b->sp[i].first].start;
        m->span.end = toks[b->sp[i].end - 1].end;
        m->sentence = b->sp[i].sentence;
    }
    qsort(r->mentions, ns, sizeof *r->mentions, cmp_mention);
    for (size_t i = 0; i < ns; i++) {
        nm_entity *e = &r->entities[r->mentions[i].entity];
        if (e->n_mentions++ == 0)
            e->first_mention = (uint32_t)i;
    }
}

void nm_entities_build(nm_extract_result *r, const nm_entities_input *in)
{
    builder b = {.in = in, .toks = in->tokens, .text = r->text, .n = in->n, .cap = 64};
    b.sp = nm_xmalloc(b.cap * sizeof *b.sp);
    b.in_mention = nm_xcalloc(b.n ? b.n : 1, 1);
    collect_spans(&b);
    join_nationality_organisation(&b);
    span_acronym_expansions(&b);
    entities_by_key(&b);
    join_acronyms(&b);
    join_person_names(&b);
    propagate_surfaces(&b);
    uint32_t *root_index = nm_xmalloc((b.ne + 1) * sizeof *root_index);
    size_t nroots;
    double top;
    order *ord = rank_roots(&b, r, root_index, &nroots, &top);
    write_result(&b, r, ord, nroots, top, root_index);
    free(ord);
    free(root_index);
    nm_keytable_free(&b.bykey);
    free(b.es);
    free(b.in_mention);
    free(b.sp);
}
