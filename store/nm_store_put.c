/*
 * nm_store_put: writing extracted articles, one (nm_store_put) or a batch in
 * one transaction (nm_store_put_batch); see nm_store.h.
 *
 * Writing one article: look its id up; if stored with a newer revision,
 * stop there (stale, see nm_store.h); if stored, remove it from the
 * full-text index, delete the old row from every child table and then the
 * article; insert the article, index its title and body, then its child
 * rows. (The index is written here, not by triggers: see the schema.)
 * Entity ids come from the connection's cache (nm_store_cache.c), filled
 * from the entities table or by inserting.
 */
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_hash.h"
#include "nm_store.h"
#include "nm_store_int.h"

/* A uint64 stored in an INTEGER column: the same 64 bits. */
static int64_t u64_bits(uint64_t v)
{
    int64_t r;
    memcpy(&r, &v, sizeof r);
    return r;
}

/* ---- binding --------------------------------------------------------- */

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *text)
{
    if (text && *text)
        sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_span(sqlite3_stmt *st, int i, nm_span span)
{
    sqlite3_bind_int64(st, i, span.start);
    sqlite3_bind_int64(st, i + 1, span.end);
}

static void bind_index_or_null(sqlite3_stmt *st, int i, uint32_t index)
{
    if (index == NM_NO_INDEX)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, index);
}

/* ---- writing an article ----------------------------------------------- */

static bool span_ok(nm_span span, size_t text_len)
{
    return span.start <= span.end && span.end <= text_len;
}

/* Checks that every index and span of r is in range, so that writing it can
 * neither read out of bounds nor store dangling references. */
static int validate(const nm_extract_result *r, nm_error *err)
{
    if (!r->id || !*r->id)
        return nm_error_set(err, NM_ERR_INVALID, "article has no id");
    if (!r->text && r->text_len)
        return nm_error_set(err, NM_ERR_INVALID, "article %s: no text", r->id);
    for (size_t i = 0; i < r->n_sentences; i++)
        if (!span_ok(r->sentences[i].span, r->text_len))
            return nm_error_set(err, NM_ERR_INVALID, "article %s: sentence %zu out of range",
                                r->id, i);
    for (size_t i = 0; i < r->n_summary; i++)
        if (r->summary[i] >= r->n_sentences)
            return nm_error_set(err, NM_ERR_INVALID, "article %s: summary sentence out of range",
                                r->id);
    for (size_t i = 0; i < r->n_entities; i++)
        if (!r->entities[i].name || (unsigned)r->entities[i].type >= NM_ENTITY_TYPE_COUNT)
            return nm_error_set(err, NM_ERR_INVALID, "article %s: entity %zu malformed", r->id, i);
    for (size_t i = 0; i < r->n_mentions; i++)
        if (r->mentions[i].entity >= r->n_entities || !span_ok(r->mentions[i].span, r->text_len))
            return nm_error_set(err, NM_ERR_INVALID, "article %s: mention %zu out of range",
                                r->id, i);
    for (size_t i = 0; i < r->n_sections; i++)
        if (!r->sections[i].heading)
            return nm_error_set(err, NM_ERR_INVALID, "article %s: section %zu has no heading",
                                r->id, i);
    for (size_t i = 0; i < r->n_outline; i++)
        if (!r->outline[i].text)
            return nm_error_set(err, NM_ERR_INVALID, "article %s: outline item %zu has no text",
                                r->id, i);
    for (size_t i = 0; i < r->n_acronyms; i++)
        if (!r->acronyms[i].short_form || !r->acronyms[i].long_form)
            return nm_error_set(err, NM_ERR_INVALID, "article %s: acronym %zu malformed", r->id, i);
    for (size_t i = 0; i < r->n_keyphrases; i++)
        if (!r->keyphrases[i].text)
            return nm_error_set(err, NM_ERR_INVALID, "article %s: keyphrase %zu malformed", r->id,
                                i);
    return 0;
}

static void buf_reserve(nm_store *s, size_t need)
{
    if (need > s->buf_cap) {
        s->buf_cap = need * 2 > 4096 ? need * 2 : 4096;
        s->buf = nm_xrealloc(s->buf, s->buf_cap);
    }
}

/* Finds or creates the entity row; -1 with err on a database error. */
static int entity_id(nm_store *s, const nm_entity *e, int64_t *id, nm_error *err)
{
    const char *type = nm_entity_type_name(e->type);
    size_t name_len = strlen(e->name);
    char stack_key[256];
    char *key = name_len + 1 <= sizeof stack_key ? stack_key : nm_xmalloc(name_len + 1);
    key[0] = (char)('0' + e->type);
    memcpy(key + 1, e->name, name_len);
    size_t key_len = name_len + 1;
    uint64_t hash = nm_hash_fnv1a(key, key_len, NM_HASH_FNV_BASIS);
    int ret = 0;
    if (s->slots_cap) {
        entity_slot *slot = nm_store_cache_find(s, key, key_len, hash);
        if (slot->key) {
            *id = slot->id;
            goto out;
        }
    }
    sqlite3_stmt *st = s->stmt[ST_FIND_ENTITY];
    sqlite3_bind_text(st, 1, e->name, (int)name_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    } else {
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            ret = nm_store_db_error(s->db, rc, err, "looking up entity");
            goto out;
        }
        st = s->stmt[ST_INS_ENTITY];
        sqlite3_bind_text(st, 1, e->name, (int)name_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
        if ((ret = nm_store_step(s, st, err, "inserting entity")) < 0)
            goto out;
        *id = sqlite3_last_insert_rowid(s->db);
        s->txn_new_entities = true;
    }
    nm_store_cache_put(s, key, key_len, hash, *id);
out:
    if (key != stack_key)
        free(key);
    return ret;
}

static int delete_article(nm_store *s, int64_t article, nm_error *err)
{
    for (int i = ST_DEL_FTS; i <= ST_DEL_ARTICLE; i++) {
        sqlite3_bind_int64(s->stmt[i], 1, article);
        if (nm_store_step(s, s->stmt[i], err, "deleting previous version") < 0)
            return -1;
    }
    return 0;
}

/* Fills s->packed with article_rows.sentences_packed (nm_store_pack.c). */
static void build_sentences(nm_store *s, const nm_extract_result *r)
{
    if (r->n_sentences > s->ranks_cap) {
        s->ranks_cap = r->n_sentences * 2;
        s->ranks = nm_xrealloc(s->ranks, s->ranks_cap * sizeof *s->ranks);
    }
    if (r->n_sentences)
        memset(s->ranks, 0, r->n_sentences * sizeof *s->ranks);
    for (size_t i = 0; i < r->n_summary; i++)
        s->ranks[r->summary[i]] = (uint32_t)i + 1;
    nm_store_pack_sentences(&s->packed, r, s->ranks);
}

static int insert_article_row(nm_store *s, const nm_extract_result *r, int64_t revision,
                              int64_t ingested_unix_ms, int64_t *article, nm_error *err)
{
    sqlite3_stmt *st = s->stmt[ST_INS_ARTICLE];
    const nm_counts *c = &r->counts;
    uint64_t sim = r->fingerprints.simhash;
    unsigned char minhash[NM_MINHASH_SIZE * 4];
    for (int i = 0; i < NM_MINHASH_SIZE; i++) { /* little-endian on every host */
        uint32_t v = r->fingerprints.minhash[i];
        minhash[4 * i] = (unsigned char)v;
        minhash[4 * i + 1] = (unsigned char)(v >> 8);
        minhash[4 * i + 2] = (unsigned char)(v >> 16);
        minhash[4 * i + 3] = (unsigned char)(v >> 24);
    }
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    bind_text_or_null(st, 2, r->source);
    bind_text_or_null(st, 3, r->url);
    if (r->published_unix_ms)
        sqlite3_bind_int64(st, 4, r->published_unix_ms);
    else
        sqlite3_bind_null(st, 4);
    if (r->modified_unix_ms)
        sqlite3_bind_int64(st, 5, r->modified_unix_ms);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_int64(st, 6, ingested_unix_ms);
    sqlite3_bind_text(st, 7, r->language && *r->language ? r->language : "und", -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 8, r->language_confidence);
    sqlite3_bind_text(st, 9, r->content_type ? r->content_type : "text", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, r->title ? r->title : "", -1, SQLITE_STATIC);
    bind_text_or_null(st, 11, r->byline);
    sqlite3_bind_int64(st, 12, c->bytes);
    sqlite3_bind_int64(st, 13, c->chars);
    sqlite3_bind_int64(st, 14, c->words);
    sqlite3_bind_int64(st, 15, c->sentences);
    sqlite3_bind_int64(st, 16, c->paragraphs);
    sqlite3_bind_int64(st, 17, c->syllables);
    sqlite3_bind_double(st, 18, c->avg_sentence_words);
    sqlite3_bind_double(st, 19, c->flesch_reading_ease);
    sqlite3_bind_double(st, 20, c->flesch_kincaid_grade);
    sqlite3_bind_int64(st, 21, u64_bits(r->fingerprints.exact));
    sqlite3_bind_int64(st, 22, u64_bits(sim));
    sqlite3_bind_int64(st, 23, (int64_t)(sim & 0xffff));
    sqlite3_bind_int64(st, 24, (int64_t)((sim >> 16) & 0xffff));
    sqlite3_bind_int64(st, 25, (int64_t)((sim >> 32) & 0xffff));
    sqlite3_bind_int64(st, 26, (int64_t)((sim >> 48) & 0xffff));
    sqlite3_bind_blob(st, 27, minhash, sizeof minhash, SQLITE_STATIC);
    if (r->n_warnings) {
        size_t need = 1;
        for (size_t i = 0; i < r->n_warnings; i++)
            need += strlen(r->warnings[i]) + 1;
        buf_reserve(s, need);
        size_t n = 0;
        for (size_t i = 0; i < r->n_warnings; i++) {
            size_t len = strlen(r->warnings[i]);
            if (n)
                s->buf[n++] = '\n';
            memcpy(s->buf + n, r->warnings[i], len);
            n += len;
        }
        sqlite3_bind_text(st, 28, s->buf, (int)n, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 28);
    }
    const void *z;
    size_t z_len;
    if (nm_store_zstd(s, r->text ? r->text : "", r->text_len, &z, &z_len) < 0)
        return nm_error_set(err, NM_ERR_INTERNAL, "compressing the body failed");
    sqlite3_bind_blob(st, 29, z, (int)z_len, SQLITE_STATIC);
    build_sentences(s, r);
    sqlite3_bind_blob(st, 30, s->packed.data ? s->packed.data : "", (int)s->packed.len,
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, 31, revision);
    nm_store_pack_keyphrases(&s->kp_packed, r);
    sqlite3_bind_blob(st, 32, s->kp_packed.data, (int)s->kp_packed.len, SQLITE_STATIC);
    if (nm_store_step(s, st, err, "inserting article") < 0)
        return -1;
    *article = sqlite3_last_insert_rowid(s->db);
    st = s->stmt[ST_INS_FTS];
    sqlite3_bind_int64(st, 1, *article);
    sqlite3_bind_text(st, 2, r->title ? r->title : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->text ? r->text : "", (int)r->text_len, SQLITE_STATIC);
    return nm_store_step(s, st, err, "indexing article");
}

static int insert_structure(nm_store *s, const nm_extract_result *r, int64_t article,
                            nm_error *err)
{
    sqlite3_stmt *st = s->stmt[ST_INS_SECTION];
    sqlite3_bind_int64(st, 1, article);
    for (size_t i = 0; i < r->n_sections; i++) {
        const nm_section *x = &r->sections[i];
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_int(st, 3, x->level);
        sqlite3_bind_text(st, 4, x->heading, -1, SQLITE_STATIC);
        bind_span(st, 5, x->heading_span);
        sqlite3_bind_int64(st, 7, x->first_paragraph);
        sqlite3_bind_int64(st, 8, x->n_paragraphs);
        bind_index_or_null(st, 9, x->outline_item);
        if (nm_store_step(s, st, err, "inserting section") < 0)
            return -1;
    }
    st = s->stmt[ST_INS_OUTLINE];
    sqlite3_bind_int64(st, 1, article);
    for (size_t i = 0; i < r->n_outline; i++) {
        const nm_outline_item *x = &r->outline[i];
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_text(st, 3, x->text, -1, SQLITE_STATIC);
        bind_span(st, 4, x->span);
        bind_index_or_null(st, 6, x->section);
        if (nm_store_step(s, st, err, "inserting outline item") < 0)
            return -1;
    }
    st = s->stmt[ST_INS_ACRONYM];
    sqlite3_bind_int64(st, 1, article);
    for (size_t i = 0; i < r->n_acronyms; i++) {
        const nm_acronym *x = &r->acronyms[i];
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_text(st, 3, x->short_form, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, x->long_form, -1, SQLITE_STATIC);
        bind_span(st, 5, x->short_span);
        bind_span(st, 7, x->long_span);
        sqlite3_bind_int64(st, 9, x->n_uses);
        if (nm_store_step(s, st, err, "inserting acronym") < 0)
            return -1;
    }
    return 0;
}

static int cmp_entity_ref(const void *a, const void *b)
{
    const struct entity_ref *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* One article_entities row per entity row id: entities of the article that
 * share a canonical name and type (so a row) are merged, their mentions
 * added up and the higher salience kept. Mentions are grouped by row with a
 * counting sort, keeping text order within a row. */
static int insert_entities(nm_store *s, const nm_extract_result *r, int64_t article,
                           nm_error *err)
{
    size_t n_ent = r->n_entities, n_men = r->n_mentions;
    if (n_ent > s->refs_cap) {
        s->refs_cap = n_ent * 2;
        s->refs = nm_xrealloc(s->refs, s->refs_cap * sizeof *s->refs);
    }
    if (2 * n_ent + 1 + n_men > s->scratch_cap) {
        s->scratch_cap = (2 * n_ent + 1 + n_men) * 2;
        s->scratch = nm_xrealloc(s->scratch, s->scratch_cap * sizeof *s->scratch);
    }
    for (size_t i = 0; i < n_ent; i++) {
        s->refs[i].index = (uint32_t)i;
        if (entity_id(s, &r->entities[i], &s->refs[i].id, err) < 0)
            return -1;
    }
    if (n_ent > 1)
        qsort(s->refs, n_ent, sizeof *s->refs, cmp_entity_ref);
    /* row_of[entity] = its row number (0.., in id order); rows = how many */
    uint32_t *row_of = s->scratch, *row_start = row_of + n_ent, *by_row = row_start + n_ent + 1;
    size_t rows = 0;
    for (size_t i = 0; i < n_ent; i++) {
        if (i && s->refs[i].id != s->refs[i - 1].id)
            rows++;
        row_of[s->refs[i].index] = (uint32_t)rows;
    }
    rows += n_ent > 0;
    memset(row_start, 0, (rows + 1) * sizeof *row_start);
    for (size_t m = 0; m < n_men; m++)
        row_start[row_of[r->mentions[m].entity] + 1]++;
    for (size_t k = 0; k < rows; k++)
        row_start[k + 1] += row_start[k];
    for (size_t m = 0; m < n_men; m++) /* row_start[k] advances to the end of row k */
        by_row[row_start[row_of[r->mentions[m].entity]]++] = (uint32_t)m;
    sqlite3_stmt *st = s->stmt[ST_INS_ARTICLE_ENTITY];
    sqlite3_bind_int64(st, 1, article);
    size_t i = 0;
    for (size_t k = 0; k < rows; k++) {
        uint32_t n_mentions = 0;
        double salience = 0;
        int64_t id = s->refs[i].id;
        for (; i < n_ent && s->refs[i].id == id; i++) {
            const nm_entity *e = &r->entities[s->refs[i].index];
            n_mentions += e->n_mentions;
            if (e->salience > salience)
                salience = e->salience;
        }
        nm_sbuf *j = &s->packed;
        nm_store_pack_mentions_begin(j);
        int64_t prev_start = 0;
        for (size_t m = k ? row_start[k - 1] : 0; m < row_start[k]; m++)
            nm_store_pack_mention(j, by_row[m], &r->mentions[by_row[m]], &prev_start);
        sqlite3_bind_int64(st, 2, id);
        sqlite3_bind_int64(st, 3, n_mentions);
        sqlite3_bind_double(st, 4, salience);
        sqlite3_bind_blob(st, 5, j->data, (int)j->len, SQLITE_STATIC);
        if (nm_store_step(s, st, err, "inserting article entity") < 0)
            return -1;
    }
    return 0;
}

int nm_store_put(nm_store *s, const nm_extract_result *r, int64_t revision,
                 int64_t ingested_unix_ms, nm_store_put_outcome *outcome, nm_error *err)
{
    if (outcome)
        *outcome = NM_STORE_STORED;
    if (!s->in_txn)
        return nm_error_set(err, NM_ERR_INTERNAL, "nm_store_put outside a transaction");
    if (validate(r, err) < 0)
        return -1; /* nothing written; the transaction stays usable */
    sqlite3_stmt *st = s->stmt[ST_FIND_ARTICLE];
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t old = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    int64_t old_revision = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    int64_t article;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        nm_store_db_error(s->db, rc, err, "looking up article");
        goto fail;
    }
    if (old >= 0 && revision != 0 && old_revision > revision) {
        /* a newer body of this id is stored: this one is stale */
        if (outcome)
            *outcome = NM_STORE_STALE;
        return 0;
    }
    if ((old >= 0 && delete_article(s, old, err) < 0) ||
        insert_article_row(s, r, revision, ingested_unix_ms, &article, err) < 0 ||
        insert_structure(s, r, article, err) < 0 || insert_entities(s, r, article, err) < 0)
        goto fail;
    return 0;
fail:
    nm_error_prefix(err, "storing article %s", r->id);
    nm_store_rollback(s);
    return -1;
}

int nm_store_put_batch(nm_store *s, const nm_extract_result *const *results, size_t n,
                       int64_t ingested_unix_ms, nm_error *err)
{
    if (nm_store_begin(s, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (nm_store_put(s, results[i], 0, ingested_unix_ms, NULL, err) < 0) {
            nm_store_rollback(s);
            return -1;
        }
    }
    return nm_store_commit(s, err);
}

int nm_store_remove(nm_store *s, const char *id, int64_t revision, nm_store_remove_outcome *outcome,
                    nm_error *err)
{
    *outcome = NM_STORE_ABSENT;
    if (!s->in_txn)
        return nm_error_set(err, NM_ERR_INTERNAL, "nm_store_remove outside a transaction");
    sqlite3_stmt *st = s->stmt[ST_FIND_ARTICLE];
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t old = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    int64_t old_revision = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        nm_store_db_error(s->db, rc, err, "looking up article");
        goto fail;
    }
    if (old < 0)
        return 0;
    if (revision != 0 && old_revision > revision) {
        *outcome = NM_STORE_KEPT_NEWER;
        return 0;
    }
    if (delete_article(s, old, err) < 0)
        goto fail;
    *outcome = NM_STORE_REMOVED;
    return 0;
fail:
    nm_error_prefix(err, "removing article %s", id);
    nm_store_rollback(s);
    return -1;
}

int nm_store_find_revision(nm_store *s, const char *id, int64_t *revision, nm_error *err)
{
    sqlite3_stmt *st = s->stmt[ST_FIND_ARTICLE];
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *revision = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return nm_store_db_error(s->db, rc, err, "looking up article");
}
