/* nm_api_cache: short-lived answers, recomputed by one caller at a time (see
 * nm_api_cache.h). A small array searched linearly: the keys are few (the
 * types times the windows the page asks for). */
#include "nm_api_cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_time.h"

typedef struct slot {
    char *key;          /* NULL: free */
    char *body;         /* NULL: no answer yet */
    size_t len;
    int64_t stored_ns;  /* monotonic */
    bool computing;     /* a caller is computing a new answer */
} slot;

struct nm_api_cache {
    pthread_mutex_t lock;
    pthread_cond_t stored; /* signalled by every put */
    int64_t ttl_ns;
    slot slots[NM_API_CACHE_SLOTS];
};

nm_api_cache *nm_api_cache_new(int64_t ttl_ms)
{
    nm_api_cache *c = nm_xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->stored, NULL);
    c->ttl_ns = ttl_ms * 1000000;
    return c;
}

void nm_api_cache_destroy(nm_api_cache **cachep)
{
    if (!cachep || !*cachep)
        return;
    nm_api_cache *c = *cachep;
    for (size_t i = 0; i < NM_API_CACHE_SLOTS; i++) {
        free(c->slots[i].key);
        free(c->slots[i].body);
    }
    pthread_cond_destroy(&c->stored);
    pthread_mutex_destroy(&c->lock);
    free(c);
    *cachep = NULL;
}

static slot *find(nm_api_cache *c, const char *key)
{
    for (size_t i = 0; i < NM_API_CACHE_SLOTS; i++)
        if (c->slots[i].key && !strcmp(c->slots[i].key, key))
            return &c->slots[i];
    return NULL;
}

/* A slot for a new key: a free one, else the least recently stored that no
 * one is computing; NULL when every slot is being computed. */
static slot *claim(nm_api_cache *c, const char *key)
{
    slot *best = NULL;
    for (size_t i = 0; i < NM_API_CACHE_SLOTS; i++) {
        slot *s = &c->slots[i];
        if (!s->key) {
            best = s;
            break;
        }
        if (!s->computing && (!best || s->stored_ns < best->stored_ns))
            best = s;
    }
    if (!best)
        return NULL;
    free(best->key);
    free(best->body);
    *best = (slot){.key = nm_xstrdup(key)};
    return best;
}

int nm_api_cache_get(nm_api_cache *c, const char *key, char **body, size_t *len)
{
    pthread_mutex_lock(&c->lock);
    int found = 0;
    for (;;) {
        slot *s = find(c, key);
        if (!s) {
            if ((s = claim(c, key)))
                s->computing = true;
            break; /* no slot: compute without caching (put finds no key) */
        }
        bool fresh = s->body && nm_time_mono_ns() - s->stored_ns <= c->ttl_ns;
        if (s->body && (fresh || s->computing)) { /* fresh, or stale while renewed */
            *body = nm_xmalloc(s->len + 1);
            memcpy(*body, s->body, s->len + 1);
            *len = s->len;
            found = 1;
            break;
        }
        if (!s->computing) { /* stale, or a failed first try: this caller renews */
            s->computing = true;
            break;
        }
        pthread_cond_wait(&c->stored, &c->lock); /* the first answer is coming */
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

void nm_api_cache_put(nm_api_cache *c, const char *key, const char *body, size_t len)
{
    pthread_mutex_lock(&c->lock);
    slot *s = find(c, key);
    if (s) {
        s->computing = false;
        if (body) {
            free(s->body);
            s->body = nm_xmalloc(len + 1);
            memcpy(s->body, body, len);
            s->body[len] = '\0';
            s->len = len;
            s->stored_ns = nm_time_mono_ns();
        }
    }
    pthread_cond_broadcast(&c->stored);
    pthread_mutex_unlock(&c->lock);
}
