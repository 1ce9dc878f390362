/*
 * nm_extract_to_json: the whole extraction result as one JSON object.
 *
 * Strings are escaped by nm_sbuf_json_str_n (RFC 8259; invalid UTF-8 becomes
 * U+FFFD), so the output is always valid UTF-8 JSON. Non-finite numbers
 * become null.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_extract.h"
#include "nm_sbuf.h"

typedef struct jbuf {
    nm_sbuf s;
    int first; /* no comma needed before the next member */
} jbuf;

static void jb_raw(jbuf *b, const char *s, size_t n)
{
    nm_sbuf_append(&b->s, s, n);
}

static void jb_lit(jbuf *b, const char *s)
{
    jb_raw(b, s, strlen(s));
}

static void jb_str_n(jbuf *b, const char *s, size_t len)
{
    nm_sbuf_json_str_n(&b->s, s, len);
}

static void jb_str(jbuf *b, const char *s)
{
    if (!s)
        jb_lit(b, "null");
    else
        jb_str_n(b, s, strlen(s));
}

static void jb_key(jbuf *b, const char *k)
{
    if (!b->first)
        jb_raw(b, ",", 1);
    b->first = 0;
    jb_str(b, k);
    jb_raw(b, ":", 1);
}

static void jb_open(jbuf *b, char c)
{
    jb_raw(b, &c, 1);
    b->first = 1;
}

static void jb_close(jbuf *b, char c)
{
    jb_raw(b, &c, 1);
    b->first = 0;
}

static void jb_sep(jbuf *b)
{
    if (!b->first)
        jb_raw(b, ",", 1);
    b->first = 0;
}

static void jb_u64(jbuf *b, uint64_t v)
{
    char tmp[32];
    jb_raw(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "%" PRIu64, v));
}

static void jb_i64(jbuf *b, int64_t v)
{
    char tmp[32];
    jb_raw(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "%" PRId64, v));
}

static void jb_dbl(jbuf *b, double v)
{
    if (!isfinite(v)) {
        jb_lit(b, "null");
        return;
    }
    char tmp[40];
    jb_raw(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "%.4f", v));
}

static void jb_hex64(jbuf *b, uint64_t v)
{
    char tmp[24];
    jb_raw(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "\"%016" PRIx64 "\"", v));
}

static void kv_str(jbuf *b, const char *k, const char *v) { jb_key(b, k); jb_str(b, v); }
static void kv_u64(jbuf *b, const char *k, uint64_t v) { jb_key(b, k); jb_u64(b, v); }
static void kv_dbl(jbuf *b, const char *k, double v) { jb_key(b, k); jb_dbl(b, v); }

static void kv_index(jbuf *b, const char *k, uint32_t v)
{
    jb_key(b, k);
    if (v == NM_NO_INDEX)
        jb_lit(b, "null");
    else
        jb_u64(b, v);
}

static void kv_span(jbuf *b, const char *k, nm_span s)
{
    jb_key(b, k);
    jb_open(b, '[');
    jb_sep(b);
    jb_u64(b, s.start);
    jb_sep(b);
    jb_u64(b, s.end);
    jb_close(b, ']');
}

static void kv_span_text(jbuf *b, const nm_extract_result *r, const char *k, nm_span s)
{
    jb_key(b, k);
    if (s.end <= r->text_len && s.start <= s.end)
        jb_str_n(b, r->text + s.start, s.end - s.start);
    else
        jb_lit(b, "null");
}

static const char *block_kind_name(uint8_t kind)
{
    static const char *const names[] = {"paragraph", "heading", "list_item", "quote", "pre"};
    return kind < 5 ? names[kind] : "paragraph";
}

static void write_structure(jbuf *b, const nm_extract_result *r)
{
    jb_key(b, "paragraphs");
    jb_open(b, '[');
    for (size_t i = 0; i < r->n_paragraphs; i++) {
        const nm_paragraph *p = &r->paragraphs[i];
        jb_sep(b);
        jb_open(b, '{');
        kv_span(b, "span", p->span);
        kv_str(b, "kind", block_kind_name(p->kind));
        kv_index(b, "section", p->section);
        kv_u64(b, "first_sentence", p->first_sentence);
        kv_u64(b, "n_sentences", p->n_sentences);
        jb_close(b, '}');
    }
    jb_close(b, ']');
    jb_key(b, "sentences");
    jb_open(b, '[');
    for (size_t i = 0; i < r->n_sentences; i++) {
        const nm_sentence *s = &r->sentences[i];
        jb_sep(b);
        jb_open(b, '{');
        kv_span(b, "span", s->span);
        kv_span_text(b, r, "text", s->span);
        kv_u64(b, "paragraph", s->paragraph);
        kv_u64(b, "words", s->n_words);
        jb_close(b, '}');
    }
    jb_close(b, ']');
    jb_key(b, "sections");
    jb_open(b, '[');
    for (size_t i = 0; i < r->n_sections; i++) {
        const nm_section *s = &r->sections[i];
        jb_sep(b);
        jb_open(b, '{');
        kv_str(b, "heading", s->heading);
        kv_span(b, "heading_span", s->heading_span);
        kv_u64(b, "level", (uint64_t)s->level);
        kv_u64(b, "first_paragraph", s->first_paragraph);
        kv_u64(b, "n_paragraphs", s->n_paragraphs);
        kv_index(b, "outline_item", s->outline_item);
        jb_close(b, '}');
    }
    jb_close(b, ']');
    jb_key(b, "outline");
    jb_open(b, '[');
    for (size_t i = 0; i < r->n_outline; i++) {
        const nm_outline_item *o = &r->outline[i];
        jb_sep(b);
        jb_open(b, '{');
        kv_str(b, "text", o->text);
        kv_span(b, "span", o->span);
        kv_index(b, "section", o->section);
        jb_close(b, '}');
    }
    jb_close(b, ']');
}

static void write_entities(jbuf *b, const nm_extract_result *r)
{
    jb_key(b, "entities");
    jb_open(b, '[');
    for (size_t i = 0; i < r->n_entities; i++) {
        const nm_entity *e = &r->entities[i];
        jb_sep(b);
        jb_open(b, '{');
        kv_str(b, "name", e->name);
        kv_str(b, "type", nm_entity_type_name(e->type));
        kv_dbl(b, "salience", e->salience);
        jb_key(b, "mentions");
        jb_open(b, '[');
        for (uint32_t m = e->first_mention; m < e->first_mention + e->n_mentions && m < r->n_mentions; m++) {
            const nm_mention *mn = &r->mentions[m];
            jb_sep(b);
            jb_open(b, '{');
            kv_span(b, "span", mn->span);
            kv_span_text(b, r, "text", mn->span);
            kv_u64(b, "sentence", mn->sentence);
            jb_close(b, '}');
        }
        jb_close(b, ']');
        jb_close(b, '}');
    }
    jb_close(b, ']');
    jb_key(b, "acronyms");
    jb_open(b, '[');
    for (size_t i = 0; i < r->n_acronyms; i++) {
        const nm_acronym *a = &r->acronyms[i];
        jb_sep(b);
        jb_open(b, '{');
        kv_str(b, "short", a->short_form);
        kv_str(b, "long", a->long_form);
        kv_span(b, "short_span", a->short_span);
        kv_span(b, "long_span", a->long_span);
        kv_u64(b, "uses", a->n_uses);
        jb_close(b, '}');
    }
    jb_close(b, ']');
    jb_key(b, "keyphrases");
    jb_open(b, '[');
    for (size_t i = 0; i < r->n_keyphrases; i++) {
        const nm_keyphrase *k = &r->keyphrases[i];
        jb_sep(b);
        jb_open(b, '{');
        kv_str(b, "text", k->text);
        kv_str(b, "stem", k->stem);
        kv_dbl(b, "score", k->score);
        kv_u64(b, "count", k->count);
        jb_close(b, '}');
    }
    jb_close(b, ']');
    jb_key(b, "summary");
    jb_open(b, '[');
    for (size_t i = 0; i < r->n_summary; i++) {
        jb_sep(b);
        jb_open(b, '{');
        kv_u64(b, "sentence", r->summary[i]);
        if (r->summary[i] < r->n_sentences)
            kv_span_text(b, r, "text", r->sentences[r->summary[i]].span);
        jb_close(b, '}');
    }
    jb_close(b, ']');
}

char *nm_extract_to_json(const nm_extract_result *r, size_t *len)
{
    jbuf b = {NM_SBUF_INIT, 0};
    nm_sbuf_reserve(&b.s, r->text_len * 3 + 4096);
    jb_open(&b, '{');
    kv_str(&b, "id", r->id);
    kv_str(&b, "source", r->source);
    kv_str(&b, "url", r->url);
    kv_str(&b, "content_type", r->content_type);
    kv_str(&b, "title", r->title);
    kv_str(&b, "byline", r->byline);
    jb_key(&b, "published_unix_ms");
    jb_i64(&b, r->published_unix_ms);
    jb_key(&b, "modified_unix_ms");
    jb_i64(&b, r->modified_unix_ms);
    kv_str(&b, "language", r->language);
    kv_dbl(&b, "language_confidence", r->language_confidence);
    const nm_counts *c = &r->counts;
    jb_key(&b, "counts");
    jb_open(&b, '{');
    kv_u64(&b, "bytes", c->bytes);
    kv_u64(&b, "chars", c->chars);
    kv_u64(&b, "words", c->words);
    kv_u64(&b, "sentences", c->sentences);
    kv_u64(&b, "paragraphs", c->paragraphs);
    kv_u64(&b, "syllables", c->syllables);
    kv_dbl(&b, "avg_sentence_words", c->avg_sentence_words);
    kv_dbl(&b, "flesch_reading_ease", c->flesch_reading_ease);
    kv_dbl(&b, "flesch_kincaid_grade", c->flesch_kincaid_grade);
    jb_close(&b, '}');
    jb_key(&b, "fingerprints");
    jb_open(&b, '{');
    jb_key(&b, "exact");
    jb_hex64(&b, r->fingerprints.exact);
    jb_key(&b, "simhash");
    jb_hex64(&b, r->fingerprints.simhash);
    jb_key(&b, "minhash");
    jb_open(&b, '[');
    for (int i = 0; i < NM_MINHASH_SIZE; i++) {
        jb_sep(&b);
        jb_u64(&b, r->fingerprints.minhash[i]);
    }
    jb_close(&b, ']');
    jb_close(&b, '}');
    write_structure(&b, r);
    write_entities(&b, r);
    jb_key(&b, "warnings");
    jb_open(&b, '[');
    for (size_t i = 0; i < r->n_warnings; i++) {
        jb_sep(&b);
        jb_str(&b, r->warnings[i]);
    }
    jb_close(&b, ']');
    kv_str(&b, "text", r->text);
    jb_close(&b, '}');
    if (len)
        *len = b.s.len;
    return nm_sbuf_take(&b.s);
}
