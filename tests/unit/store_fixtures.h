/*
 * store_fixtures: what the nm_store unit tests share (test_store.c,
 * test_store_migrate.c): hand-made extraction results, putting them, and
 * reading a column back. Included by one test program each; the
 * functions are static inline so a test that uses some of them compiles
 * clean.
 */
#ifndef STORE_FIXTURES_H
#define STORE_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_store.h"
#include "nm_test.h"
#include "nm_time.h"

/* ---- hand-made extraction results ------------------------------------ */

typedef struct ent_spec {
    const char *name;
    nm_entity_type type;
} ent_spec;

/* Builds a result for text: sentences end at ". ", paragraphs at "\n\n",
 * every occurrence of an entity's name is a mention, the first sentence is
 * the summary. */
static inline nm_extract_result *make_result(const char *id, const char *title, const char *text,
                                      const ent_spec *ents, size_t n_ents, uint64_t simhash)
{
    nm_arena *arena = nm_arena_new(0);
    nm_extract_result *r = nm_arena_calloc(arena, 1, sizeof *r);
    r->arena = arena;
    r->id = nm_arena_strndup(arena, id, strlen(id));
    r->source = "test";
    r->content_type = "text";
    r->title = title;
    r->language = "en";
    r->language_confidence = 0.9;
    r->text_len = strlen(text);
    r->text = nm_arena_strndup(arena, text, r->text_len);
    r->published_unix_ms = 1700000000000;

    size_t len = r->text_len;
    r->sentences = nm_arena_calloc(arena, len + 1, sizeof *r->sentences);
    uint32_t start = 0, paragraph = 0;
    for (uint32_t i = 0; i <= len; i++) {
        bool para_end = i == len || (text[i] == '\n' && i + 1 < len && text[i + 1] == '\n');
        bool sent_end = i > 0 && text[i - 1] == '.' && (i == len || text[i] == ' ');
        if ((para_end || sent_end) && i > start) {
            nm_sentence *s = &r->sentences[r->n_sentences++];
            s->span = (nm_span){start, i};
            s->paragraph = paragraph;
            s->n_words = 1;
            for (uint32_t k = start; k < i; k++)
                s->n_words += text[k] == ' ';
            start = i;
        }
        if (i < len && (text[i] == ' ' || text[i] == '\n') && start == i)
            start = i + 1;
        if (para_end && i < len) {
            paragraph++;
            start = i + 2;
            i++;
        }
    }
    r->n_paragraphs = paragraph + 1;
    r->counts.bytes = (uint32_t)len;
    r->counts.sentences = (uint32_t)r->n_sentences;
    r->counts.paragraphs = (uint32_t)r->n_paragraphs;
    r->summary = nm_arena_calloc(arena, 1, sizeof *r->summary);
    r->n_summary = r->n_sentences ? 1 : 0;

    r->entities = nm_arena_calloc(arena, n_ents + 1, sizeof *r->entities);
    r->mentions = nm_arena_calloc(arena, len + 1, sizeof *r->mentions);
    for (size_t e = 0; e < n_ents; e++) {
        nm_entity *ent = &r->entities[r->n_entities];
        ent->name = ents[e].name;
        ent->type = ents[e].type;
        ent->first_mention = (uint32_t)r->n_mentions;
        ent->salience = 0.5;
        size_t nlen = strlen(ents[e].name);
        for (const char *p = strstr(r->text, ents[e].name); p; p = strstr(p + nlen, ents[e].name)) {
            nm_mention *m = &r->mentions[r->n_mentions++];
            m->entity = (uint32_t)r->n_entities;
            m->span = (nm_span){(uint32_t)(p - r->text), (uint32_t)(p - r->text + nlen)};
            m->sentence = NM_NO_INDEX;
            for (size_t s = 0; s < r->n_sentences; s++)
                if (r->sentences[s].span.start <= m->span.start &&
                    m->span.start < r->sentences[s].span.end)
                    m->sentence = (uint32_t)s;
            ent->n_mentions++;
        }
        if (ent->n_mentions) /* an entity is only what is mentioned */
            r->n_entities++;
    }
    r->keyphrases = nm_arena_calloc(arena, 2, sizeof *r->keyphrases);
    r->keyphrases[0] = (nm_keyphrase){"talks", "talk", 2.5, 1};
    r->keyphrases[1] = (nm_keyphrase){"border", "border", 1.5, 1};
    r->n_keyphrases = 2;
    r->acronyms = nm_arena_calloc(arena, 1, sizeof *r->acronyms);
    r->acronyms[0] = (nm_acronym){"UN", "United Nations", {0, 2}, {0, 2}, 1};
    r->n_acronyms = 1;
    r->sections = nm_arena_calloc(arena, 1, sizeof *r->sections);
    r->sections[0] = (nm_section){"Background", {0, 0}, 1, 0, (uint32_t)r->n_paragraphs, 0};
    r->n_sections = 1;
    r->outline = nm_arena_calloc(arena, 1, sizeof *r->outline);
    r->outline[0] = (nm_outline_item){"Background", {0, 0}, 0};
    r->n_outline = 1;
    r->fingerprints.exact = simhash * 31 + 7;
    r->fingerprints.simhash = simhash;
    for (int i = 0; i < NM_MINHASH_SIZE; i++)
        r->fingerprints.minhash[i] = (uint32_t)(simhash >> (i % 32)) + (uint32_t)i;
    return r;
}

static inline void free_result(nm_extract_result *r)
{
    nm_arena *a = r->arena;
    nm_arena_destroy(&a);
}

static inline void put_one(nm_store *store, const nm_extract_result *r)
{
    nm_error err;
    int rc = nm_store_put_batch(store, &r, 1, nm_time_unix_ms(), &err);
    if (rc != 0)
        fail_msg("put %s: %s", r->id, err.msg);
}

static inline int64_t query_int(nm_store *store, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(nm_store_db(store), sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("prepare %s: %s", sql, sqlite3_errmsg(nm_store_db(store)));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Runs sql and returns the first column of every row joined by '|'. */
static inline char *query_col(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
    static char out[4096];
    out[0] = '\0';
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out[0])
            strcat(out, "|");
        const char *t = (const char *)sqlite3_column_text(st, 0);
        strncat(out, t ? t : "NULL", sizeof out - strlen(out) - 2);
    }
    if (rc != SQLITE_DONE)
        fail_msg("step %s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return out;
}

static inline nm_store *open_store(const char *name)
{
    nm_error err;
    nm_store *s = nm_store_open(nm_test_path(name), NULL, &err);
    if (!s)
        fail_msg("open %s: %s", name, err.msg);
    return s;
}

static const ent_spec kalin[] = {
    {"Ibrahim Kalın", NM_ENTITY_PERSON},
    {"Ankara", NM_ENTITY_PLACE},
    {"Hamas", NM_ENTITY_ORGANISATION},
};

#endif
