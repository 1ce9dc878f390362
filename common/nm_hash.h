/*
 * nm_hash: small, fast, non-cryptographic 64-bit hashing for in-memory
 * tables and fingerprints (not for anything an attacker must not forge).
 *
 * Deterministic across runs and hosts (fingerprints are persisted and
 * compared between workers), so no per-process seed. Header-only.
 */
#ifndef NM_HASH_H
#define NM_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A strong 64-bit finaliser (splitmix64): every input bit affects every
 * output bit. */
static inline uint64_t nm_hash_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Combines a running hash with another value (order matters). */
static inline uint64_t nm_hash_combine(uint64_t h, uint64_t v)
{
    return nm_hash_mix(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)));
}

/* Hash of the bytes s[0..n). */
static inline uint64_t nm_hash_bytes(const void *s, size_t n)
{
    const unsigned char *p = s;
    uint64_t h = 0x243f6a8885a308d3ULL ^ (n * 0x9e3779b97f4a7c15ULL);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = (h ^ nm_hash_mix(v)) * 0x9fb21c651e98df25ULL;
        p += 8;
        n -= 8;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    h = (h ^ nm_hash_mix(v)) * 0x9fb21c651e98df25ULL;
    return nm_hash_mix(h);
}

/* FNV-1a 64: the byte-at-a-time hash for keys read as they arrive and for
 * formats that pin it (the NER model file's checksum and feature hashes).
 * Start from NM_HASH_FNV_BASIS; chain calls to hash pieces as one string. */
#define NM_HASH_FNV_BASIS UINT64_C(0xcbf29ce484222325)
#define NM_HASH_FNV_PRIME UINT64_C(0x100000001b3)

static inline uint64_t nm_hash_fnv1a_byte(uint64_t h, unsigned char c)
{
    return (h ^ c) * NM_HASH_FNV_PRIME;
}

static inline uint64_t nm_hash_fnv1a(const void *data, size_t len, uint64_t h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = nm_hash_fnv1a_byte(h, p[i]);
    return h;
}

#endif
