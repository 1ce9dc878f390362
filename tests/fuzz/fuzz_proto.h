/*
 * fuzz_proto.h: what the protocol fuzz targets and the seed maker share.
 *
 * Generic over protobuf-c descriptors, so every message of
 * proto/newsmill.proto (and every one added later) is covered without
 * per-type code:
 *   pb_build()  fills a message of any type from fuzz bytes (structure-aware:
 *               every field, every oneof member, repeated fields, nested
 *               messages, valid and invalid enum values);
 *   pb_equal()  deep field-by-field equality of two messages of one type;
 *   pb_pool     the allocations a built message owns, freed at once.
 * Header-only (static functions) because it is test code for three programs.
 */
#ifndef NM_FUZZ_PROTO_H
#define NM_FUZZ_PROTO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

/* ---- a data provider over the fuzz input ---- */

typedef struct fz {
    const uint8_t *p;
    size_t n;
} fz;

static inline uint8_t fz_u8(fz *f)
{
    if (!f->n)
        return 0;
    f->n--;
    return *f->p++;
}

static inline uint64_t fz_uint(fz *f, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | fz_u8(f);
    return v;
}

/* A length in [0, max], one byte. */
static inline size_t fz_len(fz *f, size_t max)
{
    return max ? fz_u8(f) % (max + 1) : 0;
}

/* ---- allocations of a built message ---- */

typedef struct pb_pool {
    void **ptrs;
    size_t n, cap;
} pb_pool;

static inline void *pb_alloc(pb_pool *pool, size_t size)
{
    if (pool->n == pool->cap) {
        pool->cap = pool->cap ? 2 * pool->cap : 64;
        pool->ptrs = realloc(pool->ptrs, pool->cap * sizeof *pool->ptrs);
        if (!pool->ptrs)
            abort();
    }
    void *p = calloc(1, size ? size : 1);
    if (!p)
        abort();
    return pool->ptrs[pool->n++] = p;
}

static inline void pb_pool_free(pb_pool *pool)
{
    for (size_t i = 0; i < pool->n; i++)
        free(pool->ptrs[i]);
    free(pool->ptrs);
    memset(pool, 0, sizeof *pool);
}

/* ---- building a message from bytes ---- */

#define PB_MAX_DEPTH 6
#define PB_MAX_REPEATED 3
#define PB_MAX_STRING 48

static inline size_t pb_scalar_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 8;
}

static inline ProtobufCMessage *pb_build(const ProtobufCMessageDescriptor *desc, fz *f, pb_pool *pool,
                                  int depth);

/* Writes one value of field fd at p. */
static inline void pb_value(const ProtobufCFieldDescriptor *fd, void *p, fz *f, pb_pool *pool, int depth)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: {
        uint32_t v = (uint32_t)fz_uint(f, 1 + fz_u8(f) % 4);
        memcpy(p, &v, 4);
        break;
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t v = fz_uint(f, 1 + fz_u8(f) % 8);
        memcpy(p, &v, 8);
        break;
    }
    case PROTOBUF_C_TYPE_FLOAT: {
        uint32_t bits = (uint32_t)fz_uint(f, 4);
        memcpy(p, &bits, 4);
        break;
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        uint64_t bits = fz_uint(f, 8);
        memcpy(p, &bits, 8);
        break;
    }
    case PROTOBUF_C_TYPE_BOOL: {
        protobuf_c_boolean b = fz_u8(f) & 1;
        memcpy(p, &b, sizeof b);
        break;
    }
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = fd->descriptor;
        uint8_t pick = fz_u8(f);
        int32_t v = pick < 224 && ed->n_values ? ed->values[pick % ed->n_values].value
                                               : (int32_t)fz_uint(f, 4); /* open enum */
        memcpy(p, &v, 4);
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        size_t len = fz_len(f, PB_MAX_STRING);
        char *s = pb_alloc(pool, len + 1);
        for (size_t i = 0; i < len; i++) {
            s[i] = (char)fz_u8(f);
            if (!s[i]) /* a C string: NUL ends it */
                s[i] = 'x';
        }
        memcpy(p, &s, sizeof s);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData b;
        b.len = fz_len(f, PB_MAX_STRING * 4);
        b.data = pb_alloc(pool, b.len);
        for (size_t i = 0; i < b.len; i++)
            b.data[i] = fz_u8(f);
        memcpy(p, &b, sizeof b);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        ProtobufCMessage *m = pb_build(fd->descriptor, f, pool, depth + 1);
        memcpy(p, &m, sizeof m);
        break;
    }
    }
}

/* A message of type desc with every field drawn from f. Nested messages
 * stop at PB_MAX_DEPTH. Owned by pool. */
static inline ProtobufCMessage *pb_build(const ProtobufCMessageDescriptor *desc, fz *f, pb_pool *pool,
                                  int depth)
{
    ProtobufCMessage *m = pb_alloc(pool, desc->sizeof_message);
    protobuf_c_message_init(desc, m);
    char *base = (char *)m;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &desc->fields[i];
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            /* members of one oneof are consecutive and share quantifier_offset */
            unsigned first = i, n = 0;
            while (i + n < desc->n_fields &&
                   (desc->fields[i + n].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                   desc->fields[i + n].quantifier_offset == fd->quantifier_offset)
                n++;
            i = first + n - 1;
            unsigned pick = fz_u8(f) % (n + 1); /* n = none set */
            if (pick == n)
                continue;
            const ProtobufCFieldDescriptor *chosen = &desc->fields[first + pick];
            if (chosen->type == PROTOBUF_C_TYPE_MESSAGE && depth >= PB_MAX_DEPTH)
                continue;
            uint32_t id = chosen->id;
            memcpy(base + chosen->quantifier_offset, &id, sizeof id);
            pb_value(chosen, base + chosen->offset, f, pool, depth);
            continue;
        }
        if (fd->type == PROTOBUF_C_TYPE_MESSAGE && depth >= PB_MAX_DEPTH)
            continue;
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = fz_len(f, PB_MAX_REPEATED);
            size_t size = pb_scalar_size(fd->type);
            char *arr = pb_alloc(pool, n * size);
            for (size_t k = 0; k < n; k++)
                pb_value(fd, arr + k * size, f, pool, depth);
            memcpy(base + fd->quantifier_offset, &n, sizeof n);
            memcpy(base + fd->offset, &arr, sizeof arr);
        } else if (fd->label == PROTOBUF_C_LABEL_NONE || fd->label == PROTOBUF_C_LABEL_REQUIRED ||
                   fd->type == PROTOBUF_C_TYPE_MESSAGE || fd->type == PROTOBUF_C_TYPE_STRING) {
            if (fd->type == PROTOBUF_C_TYPE_MESSAGE && (fz_u8(f) & 3) == 0)
                continue; /* absent sub-message */
            pb_value(fd, base + fd->offset, f, pool, depth);
        } else { /* OPTIONAL scalar with has_ */
            protobuf_c_boolean has = fz_u8(f) & 1;
            memcpy(base + fd->quantifier_offset, &has, sizeof has);
            if (has)
                pb_value(fd, base + fd->offset, f, pool, depth);
        }
    }
    return m;
}

/* ---- deep equality ---- */

static inline bool pb_equal(const ProtobufCMessage *a, const ProtobufCMessage *b);

static inline bool pb_value_equal(const ProtobufCFieldDescriptor *fd, const void *x, const void *y)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_BOOL: {
        protobuf_c_boolean u, v;
        memcpy(&u, x, sizeof u);
        memcpy(&v, y, sizeof v);
        return !u == !v;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s, *t;
        memcpy(&s, x, sizeof s);
        memcpy(&t, y, sizeof t);
        return !strcmp(s ? s : "", t ? t : ""); /* proto3: unset == "" */
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData s, t;
        memcpy(&s, x, sizeof s);
        memcpy(&t, y, sizeof t);
        return s.len == t.len && (!s.len || !memcmp(s.data, t.data, s.len));
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *s, *t;
        memcpy(&s, x, sizeof s);
        memcpy(&t, y, sizeof t);
        if (!s || !t)
            return s == t;
        return pb_equal(s, t);
    }
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_FLOAT: {
        /* Bit patterns (NaN payloads survive the wire), except that
         * protobuf-c, like proto3 "zero is absent", drops -0.0: it comes
         * back as +0.0. Harmless for newsmill's gauges and rates. */
        if (!memcmp(x, y, pb_scalar_size(fd->type)))
            return true;
        double u, v;
        if (fd->type == PROTOBUF_C_TYPE_DOUBLE) {
            memcpy(&u, x, sizeof u);
            memcpy(&v, y, sizeof v);
        } else {
            float uf, vf;
            memcpy(&uf, x, sizeof uf);
            memcpy(&vf, y, sizeof vf);
            u = uf;
            v = vf;
        }
        return u == 0 && v == 0;
    }
    default: /* integers, enums */
        return !memcmp(x, y, pb_scalar_size(fd->type));
    }
}

/* Field-by-field equality; unknown fields are ignored. */
static inline bool pb_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    if (a->descriptor != b->descriptor)
        return false;
    const ProtobufCMessageDescriptor *desc = a->descriptor;
    const char *x = (const char *)a, *y = (const char *)b;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &desc->fields[i];
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t ca, cb;
            memcpy(&ca, x + fd->quantifier_offset, sizeof ca);
            memcpy(&cb, y + fd->quantifier_offset, sizeof cb);
            if (ca != cb)
                return false;
            if (ca == fd->id && !pb_value_equal(fd, x + fd->offset, y + fd->offset))
                return false;
        } else if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t na, nb;
            memcpy(&na, x + fd->quantifier_offset, sizeof na);
            memcpy(&nb, y + fd->quantifier_offset, sizeof nb);
            if (na != nb)
                return false;
            const char *pa, *pb;
            memcpy(&pa, x + fd->offset, sizeof pa);
            memcpy(&pb, y + fd->offset, sizeof pb);
            size_t size = pb_scalar_size(fd->type);
            for (size_t k = 0; k < na; k++) {
                if (!pb_value_equal(fd, pa + k * size, pb + k * size))
                    return false;
            }
        } else if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->type != PROTOBUF_C_TYPE_MESSAGE &&
                   fd->type != PROTOBUF_C_TYPE_STRING) {
            protobuf_c_boolean ha, hb;
            memcpy(&ha, x + fd->quantifier_offset, sizeof ha);
            memcpy(&hb, y + fd->quantifier_offset, sizeof hb);
            if (!ha != !hb || (ha && !pb_value_equal(fd, x + fd->offset, y + fd->offset)))
                return false;
        } else if (!pb_value_equal(fd, x + fd->offset, y + fd->offset)) {
            return false;
        }
    }
    return true;
}

#endif
