/*
 * fuzz_extract.h: what the two extraction fuzz targets share: one extractor
 * for the process, and the checks every result must pass whatever the input.
 *
 * Beyond "no crash, no leak, no UB" (the sanitizers), a result must keep the
 * promises of nm_extract.h: text is UTF-8, every span lies inside text,
 * every index points into its array, title is never NULL, a failure is one of
 * the documented codes, and the JSON form parses as one JSON object.
 */
#ifndef NM_FUZZ_EXTRACT_H
#define NM_FUZZ_EXTRACT_H

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_extract.h"
#include "nm_utf8.h"

static nm_extractor *fuzz_extractor;

static inline void fuzz_fail(const char *why)
{
    fprintf(stderr, "extract invariant broken: %s\n", why);
    abort();
}

static inline void check_span(const nm_extract_result *r, nm_span s, const char *what)
{
    if (s.start > s.end || s.end > r->text_len)
        fuzz_fail(what);
}

static inline void check_result(const nm_extract_result *r)
{
    if (!r->title || !r->text || !r->content_type || !r->language)
        fuzz_fail("a never-NULL field is NULL");
    if (!nm_utf8_valid(r->text, r->text_len, NULL))
        fuzz_fail("text is not valid UTF-8");
    if (!nm_utf8_valid(r->title, strlen(r->title), NULL))
        fuzz_fail("title is not valid UTF-8");
    for (size_t i = 0; i < r->n_paragraphs; i++) {
        const nm_paragraph *p = &r->paragraphs[i];
        check_span(r, p->span, "paragraph span");
        if (p->section != NM_NO_INDEX && p->section >= r->n_sections)
            fuzz_fail("paragraph section index");
        if ((size_t)p->first_sentence + p->n_sentences > r->n_sentences)
            fuzz_fail("paragraph sentence range");
    }
    for (size_t i = 0; i < r->n_sentences; i++) {
        check_span(r, r->sentences[i].span, "sentence span");
        if (r->sentences[i].paragraph >= r->n_paragraphs)
            fuzz_fail("sentence paragraph index");
    }
    for (size_t i = 0; i < r->n_sections; i++) {
        const nm_section *s = &r->sections[i];
        check_span(r, s->heading_span, "section heading span");
        if (!s->heading || (size_t)s->first_paragraph + s->n_paragraphs > r->n_paragraphs)
            fuzz_fail("section paragraph range");
        if (s->outline_item != NM_NO_INDEX && s->outline_item >= r->n_outline)
            fuzz_fail("section outline index");
    }
    for (size_t i = 0; i < r->n_outline; i++) {
        check_span(r, r->outline[i].span, "outline span");
        if (r->outline[i].section != NM_NO_INDEX && r->outline[i].section >= r->n_sections)
            fuzz_fail("outline section index");
    }
    for (size_t i = 0; i < r->n_entities; i++) {
        const nm_entity *e = &r->entities[i];
        if (!e->name || (unsigned)e->type >= NM_ENTITY_TYPE_COUNT ||
            (size_t)e->first_mention + e->n_mentions > r->n_mentions)
            fuzz_fail("entity");
    }
    for (size_t i = 0; i < r->n_mentions; i++) {
        check_span(r, r->mentions[i].span, "mention span");
        if (r->mentions[i].entity >= r->n_entities || r->mentions[i].sentence >= r->n_sentences)
            fuzz_fail("mention index");
    }
    for (size_t i = 0; i < r->n_acronyms; i++) {
        check_span(r, r->acronyms[i].short_span, "acronym short span");
        check_span(r, r->acronyms[i].long_span, "acronym long span");
        if (!r->acronyms[i].short_form || !r->acronyms[i].long_form)
            fuzz_fail("acronym text");
    }
    for (size_t i = 0; i < r->n_keyphrases; i++) {
        if (!r->keyphrases[i].text || !r->keyphrases[i].stem)
            fuzz_fail("keyphrase text");
    }
    for (size_t i = 0; i < r->n_summary; i++) {
        if (r->summary[i] >= r->n_sentences || (i && r->summary[i] <= r->summary[i - 1]))
            fuzz_fail("summary indexes (in range, article order)");
    }
    size_t json_len;
    char *json = nm_extract_to_json(r, &json_len);
    if (!json || strlen(json) != json_len)
        fuzz_fail("JSON length");
    struct json_tokener *tok = json_tokener_new();
    struct json_object *obj = json_tokener_parse_ex(tok, json, (int)json_len);
    if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != json_len || !json_object_is_type(obj, json_type_object))
        fuzz_fail("nm_extract_to_json is not one JSON object");
    json_object_put(obj);
    json_tokener_free(tok);
    free(json);
}

/* Extracts data as content type ct and checks the outcome. */
static inline void fuzz_extract_one(const uint8_t *data, size_t size, nm_content_type ct)
{
    if (!fuzz_extractor) {
        nm_extractor_config cfg = {0};
        cfg.max_input_bytes = 1 << 20;
        nm_error err;
        fuzz_extractor = nm_extractor_new(&cfg, &err);
        if (!fuzz_extractor) {
            fprintf(stderr, "extractor: %s\n", err.msg);
            abort();
        }
    }
    nm_extract_input in = {0};
    in.body = (const char *)data;
    in.len = size;
    in.content_type = ct;
    in.id = "fuzz";
    nm_extract_result *r = (nm_extract_result *)1;
    nm_error err;
    nm_error_clear(&err);
    if (nm_extract(fuzz_extractor, &in, &r, &err) != 0) {
        if (r)
            fuzz_fail("failure returned a result");
        if (err.code != NM_ERR_EMPTY && err.code != NM_ERR_TOO_LARGE && err.code != NM_ERR_UTF8 &&
            err.code != NM_ERR_MALFORMED)
            fuzz_fail("undocumented failure code");
        if (ct == NM_CONTENT_HTML && err.code == NM_ERR_UTF8)
            fuzz_fail("HTML is repaired, never refused for UTF-8");
        return;
    }
    check_result(r);
    nm_extract_result_free(&r);
    if (r)
        fuzz_fail("result_free did not clear the pointer");
}

#endif
