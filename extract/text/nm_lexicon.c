#include "nm_lexicon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_hash.h"

#define PREFIX_BIT 0x80000000u /* a longer phrase continues from here */
#define MAX_PHRASE 8

typedef struct slot {
    uint64_t key; /* 0 = empty */
    uint32_t classes;
} slot;

struct nm_lexicon {
    slot *slots;
    size_t cap, n, phrases;
};

nm_lexicon *nm_lexicon_new(void)
{
    nm_lexicon *lx = nm_xcalloc(1, sizeof *lx);
    lx->cap = 1024;
    lx->slots = nm_xcalloc(lx->cap, sizeof *lx->slots);
    return lx;
}

void nm_lexicon_destroy(nm_lexicon **lx)
{
    if (!lx || !*lx)
        return;
    free((*lx)->slots);
    free(*lx);
    *lx = NULL;
}

static inline uint64_t fix_key(uint64_t k)
{
    return k ? k : 1;
}

static slot *find(const nm_lexicon *lx, uint64_t key)
{
    size_t mask = lx->cap - 1;
    for (size_t i = (size_t)key & mask;; i = (i + 1) & mask) {
        slot *s = &lx->slots[i];
        if (s->key == key || s->key == 0)
            return s;
    }
}

static void put(nm_lexicon *lx, uint64_t key, uint32_t classes)
{
    if ((lx->n + 1) * 2 > lx->cap) {
        slot *old = lx->slots;
        size_t old_cap = lx->cap;
        lx->cap *= 2;
        lx->slots = nm_xcalloc(lx->cap, sizeof *lx->slots);
        lx->n = 0;
        for (size_t i = 0; i < old_cap; i++) {
            if (old[i].key) {
                slot *s = find(lx, old[i].key);
                *s = old[i];
                lx->n++;
            }
        }
        free(old);
    }
    slot *s = find(lx, key);
    if (!s->key) {
        s->key = key;
        lx->n++;
    }
    s->classes |= classes;
}

static inline uint64_t step(uint64_t h, size_t k, uint64_t lhash)
{
    return k == 0 ? fix_key(lhash) : fix_key(nm_hash_combine(h, lhash));
}

void nm_lexicon_add(nm_lexicon *lx, const char *phrase, size_t len, uint32_t classes)
{
    nm_token_vec v = {0};
    nm_tokenize(phrase, 0, len, &v);
    if (v.n > 0 && v.n <= MAX_PHRASE) {
        uint64_t h = 0;
        for (size_t k = 0; k < v.n; k++) {
            h = step(h, k, v.v[k].lhash);
            put(lx, h, k + 1 == v.n ? classes : PREFIX_BIT);
        }
        lx->phrases++;
    }
    nm_token_vec_free(&v);
}

uint32_t nm_lexicon_word(const nm_lexicon *lx, uint64_t lhash)
{
    const slot *s = find(lx, fix_key(lhash));
    return s->key ? s->classes & ~PREFIX_BIT : 0;
}

size_t nm_lexicon_match(const nm_lexicon *lx, const nm_token *toks, size_t i, size_t end,
                        uint32_t *classes)
{
    uint64_t h = 0;
    size_t best = 0;
    *classes = 0;
    for (size_t k = 0; k < MAX_PHRASE && i + k < end; k++) {
        h = step(h, k, toks[i + k].lhash);
        const slot *s = find(lx, h);
        if (!s->key)
            break;
        if (s->classes & ~PREFIX_BIT) {
            best = k + 1;
            *classes = s->classes & ~PREFIX_BIT;
        }
        if (!(s->classes & PREFIX_BIT))
            break;
    }
    return best;
}

int nm_lexicon_load(nm_lexicon *lx, const char *path, const nm_lexicon_class *classes,
                    size_t n_classes, uint32_t default_classes, nm_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return nm_error_set(err, NM_ERR_IO, "opening %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) >= 0) {
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if (!classes) {
            char *save = NULL;
            for (char *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
                nm_lexicon_add(lx, w, strlen(w), default_classes);
            continue;
        }
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        for (size_t c = 0; c < n_classes; c++) {
            if (!strcmp(line, classes[c].name)) {
                nm_lexicon_add(lx, tab + 1, strlen(tab + 1), classes[c].bits);
                break;
            }
        }
    }
    free(line);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return nm_error_set(err, NM_ERR_IO, "reading %s", path);
    return 0;
}
