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
    uint32_t used;
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

/* Index of the slot for key: its entry, or the empty slot where it goes. */
static inline uint32_t probe(const nm_stem *s, uint64_t key)
{
    uint32_t mask = (1u << CACHE_BITS) - 1;
    uint32_t i = (uint32_t)key & mask;
    while (s->slot[i].key && s->slot[i].key != key)
        i = (i + 1) & mask;
    return i;
}

void nm_stem_prefetch(const nm_stem *s, int lang, const nm_token *t)
{
    uint32_t mask = (1u << CACHE_BITS) - 1;
    __builtin_prefetch(&s->slot[(uint32_t)cache_key(lang, t) & mask]);
}

size_t nm_stem_text(nm_stem *s, int lang, const char *text, const nm_token *t, char *buf, size_t cap)
{
    uint32_t i = probe(s, cache_key(lang, t));
    if (s->slot[i].key && s->slot[i].len <= INLINE_STEM && s->slot[i].len < cap) {
        memcpy(buf, s->slot[i].text, s->slot[i].len);
        buf[s->slot[i].len] = '\0';
        return s->slot[i].len;
    }
    return run_stemmer(s, lang, text, t, buf, cap);
}

uint64_t nm_stem_hash(nm_stem *s, int lang, const char *text, const nm_token *t)
{
    uint64_t key = cache_key(lang, t);
    uint32_t i = probe(s, key);
    if (s->slot[i].key) {
        s->hits++;
        return s->slot[i].val;
    }
    s->misses++;
    char buf[256];
    size_t len = run_stemmer(s, lang, text, t, buf, sizeof buf);
    uint64_t h = nm_hash_bytes(buf, len);
    if (s->used >= (1u << CACHE_BITS) / 2) { /* half full: start over (bounded memory) */
        memset(s->slot, 0, sizeof s->slot);
        s->used = 0;
        i = probe(s, key);
    }
    s->slot[i].key = key;
    s->slot[i].val = h;
    s->slot[i].len = len <= INLINE_STEM ? (uint8_t)len : 0xFF;
    if (len <= INLINE_STEM)
        memcpy(s->slot[i].text, buf, len);
    s->used++;
    return h;
}

void nm_stem_stats(const nm_stem *s, uint64_t *hits, uint64_t *misses)
{
    *hits = s->hits;
    *misses = s->misses;
}
