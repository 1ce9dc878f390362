#include "nm_stem.h"

#include <libstemmer.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_hash.h"
#include "nm_lang.h"

#define CACHE_BITS 15 /* 32,768 x 32 bytes = 1 MiB per thread: a news vocabulary fits */
#define INLINE_STEM 15

static const char *const algorithms[NM_LANG_COUNT] = {
    "english", "german", "french", "spanish", "italian",
    "portuguese", "dutch", "turkish", "russian", "arabic"};

struct nm_stem {
    struct sb_stemmer *st[NM_LANG_COUNT];
    struct {
        uint64_t key, val; /* key 0 = empty; val = hash of the stem */
        uint8_t len;       /* stem length when it fits in text, else 0xFF */
        char text[INLINE_STEM];
    } slot[1u << CACHE_BITS];
    uint64_t hits, misses;
};

nm_stem *nm_stem_new(void)
{
    return nm_xcalloc(1, sizeof(nm_stem));
}

void nm_stem_destroy(nm_stem **s)
{
    if (!s || !*s)
        return;
    for (int i = 0; i < NM_LANG_COUNT; i++) {
        if ((*s)->st[i])
            sb_stemmer_delete((*s)->st[i]);
    }
    free(*s);
    *s = NULL;
}

static struct sb_stemmer *stemmer(nm_stem *s, int lang)
{
    if (lang < 0 || lang >= NM_LANG_COUNT)
        lang = 0;
    if (!s->st[lang]) {
        s->st[lang] = sb_stemmer_new(algorithms[lang], "UTF_8");
        if (!s->st[lang])
            abort(); /* libstemmer fails only on out-of-memory (nm_alloc's policy) */
    }
    return s->st[lang];
}

static size_t run_stemmer(nm_stem *s, int lang, const char *text, const nm_token *t, char *buf,
                          size_t cap)
{
    char low[256];
    size_t n = nm_token_lower(text, t, low, sizeof low);
    struct sb_stemmer *st = stemmer(s, lang);
    const sb_symbol *out = sb_stemmer_stem(st, (const sb_symbol *)low, (int)n);
    size_t len = out ? (size_t)sb_stemmer_length(st) : n;
    if (!out)
        out = (const sb_symbol *)low;
    if (len >= cap)
        len = cap - 1;
    memcpy(buf, out, len);
    buf[len] = '\0';
    return len;
}

static inline uint64_t cache_key(int lang, const nm_token *t)
{
    uint64_t key = nm_hash_combine(t->lhash, (uint64_t)(lang + 1));
    return key ? key : 1;
}

/* A word is looked for in this many slots from its home slot. */
#define PROBES 8

/* Index of key's slot (*found = 1), else of the slot it goes to: the first
 * empty one within PROBES of its home, or, when all are taken, its home
 * slot, whose word it replaces. Replacing instead of clearing the whole
 * cache when it fills keeps the words in use: a news stream's vocabulary
 * outgrows any cache, and a flush would make every word a miss again. */
static inline uint32_t probe(const nm_stem *s, uint64_t key, int *found)
{
    uint32_t mask = (1u << CACHE_BITS) - 1;
    uint32_t home = (uint32_t)key & mask;
    for (uint32_t k = 0; k < PROBES; k++) {
        uint32_t i = (home + k) & mask;
        if (s->slot[i].key == key || !s->slot[i].key) {
            *found = s->slot[i].key == key;
            return i;
        }
    }
    *found = 0;
    return home;
}

void nm_stem_prefetch(const nm_stem *s, int lang, const nm_token *t)
{
    uint32_t mask = (1u << CACHE_BITS) - 1;
    __builtin_prefetch(&s->slot[(uint32_t)cache_key(lang, t) & mask]);
}

size_t nm_stem_text(nm_stem *s, int lang, const char *text, const nm_token *t, char *buf, size_t cap)
{
    int found;
    uint32_t i = probe(s, cache_key(lang, t), &found);
    if (found && s->slot[i].len <= INLINE_STEM && s->slot[i].len < cap) {
        memcpy(buf, s->slot[i].text, s->slot[i].len);
        buf[s->slot[i].len] = '\0';
        return s->slot[i].len;
    }
    return run_stemmer(s, lang, text, t, buf, cap);
}

uint64_t nm_stem_hash(nm_stem *s, int lang, const char *text, const nm_token *t)
{
    uint64_t key = cache_key(lang, t);
    int found;
    uint32_t i = probe(s, key, &found);
    if (found) {
        s->hits++;
        return s->slot[i].val;
    }
    s->misses++;
    char buf[256];
    size_t len = run_stemmer(s, lang, text, t, buf, sizeof buf);
    uint64_t h = nm_hash_bytes(buf, len);
    s->slot[i].key = key;
    s->slot[i].val = h;
    s->slot[i].len = len <= INLINE_STEM ? (uint8_t)len : 0xFF;
    if (len <= INLINE_STEM)
        memcpy(s->slot[i].text, buf, len);
    return h;
}

void nm_stem_stats(const nm_stem *s, uint64_t *hits, uint64_t *misses)
{
    *hits = s->hits;
    *misses = s->misses;
}
