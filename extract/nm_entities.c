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

void nm_entities_build(nm_extract_result *r, const nm_entities_input *in)
{
    const nm_token *toks = in->tokens;
    const char *text = r->text;
    size_t n = in->n;
    /* 1. spans */
    size_t cap = 64, ns = 0;
    mspan *sp = nm_xmalloc(cap * sizeof *sp);
    uint8_t *in_mention = nm_xcalloc(n ? n : 1, 1);
    size_t pos = 0, s0, e0, sent = 0;
    nm_ner_type ty;
    while (nm_ner_next_span(in->labels, n, &pos, &s0, &e0, &ty)) {
        while (s0 < e0 && toks[s0].kind > NM_TOK_NUMBER)
            s0++;
        while (e0 > s0 && (toks[e0 - 1].kind > NM_TOK_NUMBER || (toks[e0 - 1].flags & NM_TF_CLITIC)))
            e0--;
        if (e0 <= s0 || e0 - s0 > MAX_SPAN)
            continue;
        while (sent < in->n_sentences && in->sent_ends[sent] <= s0)
            sent++;
        if (ns == cap) {
            cap *= 2;
            sp = nm_xrealloc(sp, cap * sizeof *sp);
        }
        int type = ty == NM_NER_PER ? NM_ENTITY_PERSON
                   : ty == NM_NER_ORG ? NM_ENTITY_ORGANISATION
                   : ty == NM_NER_LOC ? NM_ENTITY_PLACE
                   : group_word(text, &toks[e0 - 1], in->groups) ? NM_ENTITY_NATIONALITY
                                                                 : NM_ENTITY_OTHER;
        sp[ns].first = (uint32_t)s0;
        sp[ns].end = (uint32_t)e0;
        sp[ns].sentence = (uint32_t)sent;
        sp[ns].key = seq_key(toks, (uint32_t)s0, (uint32_t)e0);
        sp[ns].entity = (uint32_t)type; /* the type until grouping */
        memset(in_mention + s0, 1, e0 - s0);
        ns++;
    }
    /* 1a. a nationality right before an organisation's name is part of it
     * ("Turkish" + "Red Crescent" -> "Turkish Red Crescent") */
    {
        size_t keep = 0;
        for (size_t i = 0; i < ns; i++) {
            if (keep > 0 && sp[keep - 1].entity == NM_ENTITY_NATIONALITY &&
                sp[i].entity == NM_ENTITY_ORGANISATION && sp[keep - 1].end == sp[i].first &&
                sp[keep - 1].sentence == sp[i].sentence && sp[i].end - sp[keep - 1].first <= MAX_SPAN) {
                sp[keep - 1].end = sp[i].end;
                sp[keep - 1].entity = NM_ENTITY_ORGANISATION;
                sp[keep - 1].key = seq_key(toks, sp[keep - 1].first, sp[keep - 1].end);
                continue;
            }
            sp[keep++] = sp[i];
        }
        ns = keep;
    }
    /* 1b. an acronym's capitalised expansion is one name, whatever the
     * recogniser made of it ("Norwegian Water Resources and Energy Directorate") */
    for (size_t a = 0; a < in->n_acronyms; a++) {
        const nm_acronym_def *d = &in->acronyms[a];
        uint32_t lf = d->long_first, le = d->long_end;
        if (le - lf > MAX_SPAN || !cap_word(&toks[lf]) || !cap_word(&toks[le - 1]))
            continue;
        int type = NM_ENTITY_ORGANISATION;
        size_t keep = 0;
        for (size_t i = 0; i < ns; i++) {
            if (sp[i].first == d->short_tok)
                type = (int)sp[i].entity;
            if (sp[i].first < le && sp[i].end > lf)
                continue; /* overlaps the expansion: replaced */
            sp[keep++] = sp[i];
        }
        ns = keep;
        if (type == NM_ENTITY_NATIONALITY || type == NM_ENTITY_PERSON)
            type = NM_ENTITY_ORGANISATION;
        if (ns == cap) {
            cap *= 2;
            sp = nm_xrealloc(sp, cap * sizeof *sp);
        }
        size_t at = ns;
        while (at > 0 && sp[at - 1].first > lf) {
            sp[at] = sp[at - 1];
            at--;
        }
        uint32_t st = 0;
        while (st < in->n_sentences && in->sent_ends[st] <= lf)
            st++;
        sp[at].first = lf;
        sp[at].end = le;
        sp[at].sentence = st;
        sp[at].key = seq_key(toks, lf, le);
        sp[at].entity = (uint32_t)type;
        memset(in_mention + lf, 1, le - lf);
        ns++;
    }
    /* 2. one entity per distinct key */
    nm_keytable bykey;
    nm_keytable_init(&bykey, ns + in->n_acronyms * 2 + 16);
    ent *es = nm_xmalloc((ns + 1) * sizeof *es);
    size_t ne = 0;
    for (size_t i = 0; i < ns; i++) {
        int ins;
        uint32_t *v = nm_keytable_slot(&bykey, sp[i].key, &ins);
        if (ins) {
            memset(&es[ne], 0, sizeof es[ne]);
            es[ne].key = sp[i].key;
            es[ne].parent = (uint32_t)ne;
            es[ne].best = (uint32_t)i;
            *v = (uint32_t)ne++;
        }
        es[*v].votes[sp[i].entity]++;
        sp[i].entity = *v;
    }
    for (size_t i = 0; i < ne; i++) {
        int best = 0;
        for (int t = 1; t < NM_ENTITY_TYPE_COUNT; t++)
            if (es[i].votes[t] > es[i].votes[best])
                best = t;
        es[i].type = best;
    }
    /* 3a. acronyms join their expansions */
    for (size_t a = 0; a < in->n_acronyms; a++) {
        const nm_acronym_def *d = &in->acronyms[a];
        const uint32_t *s = nm_keytable_get(&bykey, toks[d->short_tok].lhash);
        const uint32_t *l = nm_keytable_get(&bykey, seq_key(toks, d->long_first, d->long_end));
        if (!l && d->long_end > d->long_first + 1) /* "the National ..." labelled without "The" */
            l = nm_keytable_get(&bykey, seq_key(toks, d->long_first + 1, d->long_end));
        if (s && l && find(es, *s) != find(es, *l))
            unite(es, *l, *s);
    }
    /* 3b. a person's single name joins the closest earlier full name that ends or starts with it */
    {
        nm_keytable names; /* key of one word -> latest multi-word person entity having it */
        nm_keytable_init(&names, ns * 2 + 16);
        for (size_t i = 0; i < ns; i++) {
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
    /* 4. propagation: other capitalised occurrences of known surfaces */
    {
        size_t base = ns;
        nm_keytable surf; /* surface key -> entity; max length tracked */
        nm_keytable_init(&surf, base + 16);
        uint32_t maxlen = 0;
        for (size_t i = 0; i < base; i++) {
            if (!cap_word(&toks[sp[i].first]))
                continue;
            int ins;
            uint32_t *v = nm_keytable_slot(&surf, sp[i].key, &ins);
            if (ins)
                *v = sp[i].entity;
            uint32_t len = sp[i].end - sp[i].first;
            if (len > maxlen)
                maxlen = len;
        }
        sent = 0;
        for (size_t k = 0; k < n && maxlen; k++) {
            if (in_mention[k] || !cap_word(&toks[k]))
                continue;
            uint64_t h = 0;
            uint32_t best_len = 0, best_ent = 0;
            for (uint32_t len = 1; len <= maxlen && k + len <= n; len++) {
                if (in_mention[k + len - 1])
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
            while (sent < in->n_sentences && in->sent_ends[sent] <= k)
                sent++;
            if (ns == cap) {
                cap *= 2;
                sp = nm_xrealloc(sp, cap * sizeof *sp);
            }
            sp[ns].first = (uint32_t)k;
            sp[ns].end = (uint32_t)(k + best_len);
            sp[ns].entity = best_ent;
            sp[ns].sentence = (uint32_t)sent;
            sp[ns].key = h;
            memset(in_mention + k, 1, best_len);
            ns++;
            k += best_len - 1;
        }
        nm_keytable_free(&surf);
    }
    /* 5. roots, canonical names, salience */
    uint32_t *root_index = nm_xmalloc((ne + 1) * sizeof *root_index);
    size_t nroots = 0;
    for (size_t i = 0; i < ne; i++)
        root_index[i] = find(es, (uint32_t)i) == i ? (uint32_t)nroots++ : UINT32_MAX;
    order *ord = nm_xcalloc(nroots + 1, sizeof *ord);
    for (size_t i = 0; i < ne; i++) {
        if (root_index[i] != UINT32_MAX) {
            ord[root_index[i]].ent = (uint32_t)i;
            ord[root_index[i]].first = UINT32_MAX;
        }
    }
    for (size_t i = 0; i < ns; i++) {
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
        const mspan *b = &sp[e->best];
        size_t len = toks[b->end - 1].end - toks[b->first].start;
        char name[256];
        if (len < sizeof name) {
            memcpy(name, text + toks[b->first].start, len);
            name[len] = '\0';
            if (r->title && strstr(r->title, name))
                ord[i].score += 3.0;
        }
        if (ord[i].score > top)
            top = ord[i].score;
    }
    qsort(ord, nroots, sizeof *ord, cmp_order);
    r->entities = nm_arena_calloc(r->arena, nroots ? nroots : 1, sizeof *r->entities);
    r->n_entities = nroots;
    for (size_t i = 0; i < nroots; i++) {
        ent *e = &es[ord[i].ent];
        root_index[ord[i].ent] = (uint32_t)i; /* now: output index */
        const mspan *b = &sp[e->best];
        r->entities[i].name = nm_arena_strndup(r->arena, text + toks[b->first].start,
                                               toks[b->end - 1].end - toks[b->first].start);
        r->entities[i].type = (nm_entity_type)e->type;
        r->entities[i].salience = top > 0 ? ord[i].score / top : 0;
    }
    r->mentions = nm_arena_calloc(r->arena, ns ? ns : 1, sizeof *r->mentions);
    r->n_mentions = ns;
    for (size_t i = 0; i < ns; i++) {
        nm_mention *m = &r->mentions[i];
        m->entity = root_index[find(es, sp[i].entity)];
        m->span.start = toks[sp[i].first].start;
        m->span.end = toks[sp[i].end - 1].end;
        m->sentence = sp[i].sentence;
    }
    qsort(r->mentions, ns, sizeof *r->mentions, cmp_mention);
    for (size_t i = 0; i < ns; i++) {
        nm_entity *e = &r->entities[r->mentions[i].entity];
        if (e->n_mentions++ == 0)
            e->first_mention = (uint32_t)i;
    }
    free(ord);
    free(root_index);
    nm_keytable_free(&bykey);
    free(es);
    free(in_mention);
    free(sp);
}
