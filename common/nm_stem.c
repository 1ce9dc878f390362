#include "nm_stem.h"

#include <libstemmer.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_hash.h"
#include "nm_lang.h"

#define CACHE_BITS 15

static const char *const algorithms[NM_LANG_COUNT] = {
    "english", "german", "french", "spanish", "italian",
    "portuguese", "dutch", "turkish", "russian", "arabic"};

struct nm_stem {
    struct sb_stemmer *st[NM_LANG_COUNT];
    uint64_t keys[1u << CACHE_BITS];
    uint64_t vals[1u << CACHE_BITS];
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

size_t nm_stem_text(nm_stem *s, int lang, const char *text, const nm_token *t, char *buf, size_t cap)
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

uint64_t nm_stem_hash(nm_stem *s, int lang, const char *text, const nm_token *t)
{
    uint64_t key = nm_hash_combine(t->lhash, (uint64_t)(lang + 1));
    key = key ? key : 1;
    uint32_t mask = (1u << CACHE_BITS) - 1;
    uint32_t i = (uint32_t)key & mask;
    for (;; i = (i + 1) & mask) {
        if (s->keys[i] == key) {
            s->hits++;
            return s->vals[i];
        }
        if (!s->keys[i])
            break;
    }
    s->misses++;
    char buf[256];
    size_t len = nm_stem_text(s, lang, text, t, buf, sizeof buf);
    uint64_t h = nm_hash_bytes(buf, len);
    if (s->used >= (1u << CACHE_BITS) / 2) {
        memset(s->keys, 0, sizeof s->keys);
        s->used = 0;
        for (i = (uint32_t)key & mask; s->keys[i]; i = (i + 1) & mask)
            ;
    }
    s->keys[i] = key;
    s->vals[i] = h;
    s->used++;
    return h;
}

void nm_stem_stats(const nm_stem *s, uint64_t *hits, uint64_t *misses)
{
    *hits = s->hits;
    *misses = s->misses;
}
