#include "nm_fingerprint.h"

#include <string.h>

#include "nm_hash.h"

typedef struct sketch {
    uint64_t planes[40]; /* bit-sliced per-bit counters for SimHash */
    uint64_t n_shingles;
    uint32_t slots[NM_MINHASH_SIZE];
    uint8_t filled[NM_MINHASH_SIZE];
} sketch;

static void add_shingle(sketch *s, uint64_t h)
{
    /* SimHash: add 1 to the counter of every set bit (ripple carry over the
     * bit planes; amortised O(1) per shingle). */
    uint64_t carry = h;
    for (int p = 0; carry && p < 40; p++) {
        uint64_t t = s->planes[p] & carry;
        s->planes[p] ^= carry;
        carry = t;
    }
    s->n_shingles++;
    /* One-permutation MinHash: the top bits pick the slot. */
    uint64_t m = nm_hash_mix(h ^ 0x5851f42d4c957f2dULL);
    unsigned slot = (unsigned)(m >> 58);
    uint32_t v = (uint32_t)m;
    if (!s->filled[slot] || v < s->slots[slot]) {
        s->slots[slot] = v;
        s->filled[slot] = 1;
    }
}

static void finish(sketch *s, nm_fingerprints *fp)
{
    uint64_t sim = 0;
    int top = 40;
    while (top > 0 && !s->planes[top - 1])
        top--;
    for (int b = 0; b < 64; b++) {
        uint64_t count = 0;
        for (int p = 0; p < top; p++)
            count |= ((s->planes[p] >> b) & 1u) << p;
        if (count * 2 > s->n_shingles)
            sim |= 1ULL << b;
    }
    fp->simhash = sim;
    int any = 0;
    for (int i = 0; i < NM_MINHASH_SIZE; i++)
        any |= s->filled[i];
    for (int i = 0; i < NM_MINHASH_SIZE; i++) {
        if (s->filled[i] || !any) {
            fp->minhash[i] = s->filled[i] ? s->slots[i] : UINT32_MAX;
            continue;
        }
        /* optimal densification: probe other slots by a fixed sequence */
        for (uint64_t attempt = 1;; attempt++) {
            unsigned j = (unsigned)(nm_hash_mix(((uint64_t)i << 32) | attempt) % NM_MINHASH_SIZE);
            if (s->filled[j]) {
                fp->minhash[i] = s->slots[j];
                break;
            }
        }
    }
}

void nm_fingerprints_compute(const nm_token *toks, size_t n, nm_fingerprints *fp)
{
    sketch s;
    memset(&s, 0, sizeof s);
    uint64_t exact = 0xcbf29ce484222325ULL;
    uint64_t w1 = 0, w2 = 0;
    size_t words = 0;
    for (size_t i = 0; i < n; i++) {
        if (toks[i].kind > NM_TOK_NUMBER)
            continue;
        uint64_t w = toks[i].lhash;
        exact = nm_hash_combine(exact, w);
        words++;
        if (words >= 3) /* word hashes are already mixed: rotate and xor */
            add_shingle(&s, ((w2 << 2) | (w2 >> 62)) ^ ((w1 << 1) | (w1 >> 63)) ^ w);
        w2 = w1;
        w1 = w;
    }
    if (words > 0 && words < 3) {
        for (size_t i = 0; i < n; i++) {
            if (toks[i].kind <= NM_TOK_NUMBER)
                add_shingle(&s, toks[i].lhash);
        }
    }
    fp->exact = nm_hash_mix(exact ^ words);
    finish(&s, fp);
}

int nm_simhash_distance(uint64_t a, uint64_t b)
{
    return __builtin_popcountll(a ^ b);
}

double nm_minhash_similarity(const uint32_t *a, const uint32_t *b, size_t n)
{
    size_t same = 0;
    for (size_t i = 0; i < n; i++)
        same += a[i] == b[i];
    return (double)same / (double)n;
}

double nm_fingerprints_similarity(const nm_fingerprints *a, const nm_fingerprints *b)
{
    return nm_minhash_similarity(a->minhash, b->minhash, NM_MINHASH_SIZE);
}

bool nm_fingerprints_near_duplicate(const nm_fingerprints *a, const nm_fingerprints *b)
{
    if (a->exact == b->exact)
        return true;
    if (nm_simhash_distance(a->simhash, b->simhash) <= 3)
        return true;
    return nm_fingerprints_similarity(a, b) >= 0.8;
}
