/*
 * nm_entities: from per-token entity labels to entities with mentions.
 *
 * Steps: spans from the IOB2 labels (conlleval rules) -> types (PER person,
 * ORG organisation, LOC place, MISC nationality when it names a nationality
 * or group, else other; a nationality right before an organisation joins it:
 * "Turkish Red Crescent") -> grouping: the same words (case folded) are one
 * entity; a person's later surname or first name alone ("Kalın") joins the
 * full name ("Ibrahim Kalın") it follows; an acronym joins its expansion
 * ("MIT" -> "National Intelligence Organization") -> propagation: every
 * other capitalised occurrence of a known surface form that the recogniser
 * missed becomes a mention too -> canonical name (the longest mention) ->
 * salience (mentions, early mentions, mention in the title; 1 = the most
 * central entity). Entities come out most salient first, each one's mentions
 * contiguous and in text order.
 *
 * Linear in tokens (hash tables); allocates the result arrays in the result's
 * arena and scratch with malloc (freed before returning).
 */
#ifndef NM_ENTITIES_H
#define NM_ENTITIES_H

#include <stddef.h>
#include <stdint.h>

#include "nm_acronym.h"
#include "nm_article.h"
#include "nm_lexicon.h"
#include "nm_token.h"

typedef struct nm_entities_input {
    const nm_token *tokens;
    size_t n;
    const uint8_t *labels;     /* IOB2 per token (nm_ner.h) */
    const uint32_t *sent_ends; /* token index one past each sentence */
    size_t n_sentences;
    const nm_acronym_def *acronyms;
    size_t n_acronyms;
    const nm_lexicon *groups;  /* words that name nationalities/groups (any class bit) */
} nm_entities_input;

/* Fills r->entities and r->mentions (r->text, r->title must be set). */
void nm_entities_build(nm_extract_result *r, const nm_entities_input *in);

#endif
