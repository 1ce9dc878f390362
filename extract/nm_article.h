/*
 * nm_article: what extraction finds in one article (nm_extract_result and its
 * parts), the types the stages fill and storage reads. The pipeline that
 * makes it is nm_extract.h; a stage or the store includes this header only.
 *
 * Offsets: every span is a pair of byte offsets [start, end) into
 * result->text, the clean body text that is also what gets stored. All
 * memory of a result belongs to its arena.
 */
#ifndef NM_ARTICLE_H
#define NM_ARTICLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_arena.h"

#define NM_NO_INDEX UINT32_MAX

typedef struct nm_span {
    uint32_t start, end; /* byte offsets into result->text, end exclusive */
} nm_span;

typedef struct nm_paragraph {
    nm_span span;
    uint32_t section;        /* index into sections, or NM_NO_INDEX before the first heading */
    uint32_t first_sentence; /* index into sentences */
    uint32_t n_sentences;
    uint8_t kind;            /* nm_block_kind of the block it came from */
} nm_paragraph;

typedef struct nm_sentence {
    nm_span span;
    uint32_t paragraph;
    uint32_t n_words;
} nm_sentence;

typedef struct nm_section {
    const char *heading;      /* heading text (also at heading_span in text) */
    nm_span heading_span;
    int level;                /* 1 = top */
    uint32_t first_paragraph; /* paragraphs of the section, heading excluded */
    uint32_t n_paragraphs;
    uint32_t outline_item;    /* index into outline, or NM_NO_INDEX */
} nm_section;

/* An item of the article's own table of contents (a list whose items match
 * later headings), linked to the section it announces. */
typedef struct nm_outline_item {
    const char *text;
    nm_span span;
    uint32_t section; /* index into sections, or NM_NO_INDEX if no heading matched */
} nm_outline_item;

typedef enum nm_entity_type {
    NM_ENTITY_PERSON = 0,
    NM_ENTITY_ORGANISATION = 1,
    NM_ENTITY_PLACE = 2,
    NM_ENTITY_NATIONALITY = 3, /* nationalities and groups: Turkish, Palestinian */
    NM_ENTITY_OTHER = 4,       /* events, works, products (CoNLL MISC that is not a group) */
    NM_ENTITY_TYPE_COUNT
} nm_entity_type;

typedef struct nm_entity {
    const char *name;         /* canonical form: the longest mention ("Ibrahim Kalın") */
    nm_entity_type type;
    uint32_t first_mention;   /* index into mentions; an entity's mentions are contiguous */
    uint32_t n_mentions;
    double salience;          /* 0..1, how central to the article */
} nm_entity;

typedef struct nm_mention {
    uint32_t entity;  /* index into entities */
    nm_span span;     /* the surface text ("Kalın") */
    uint32_t sentence;
} nm_mention;

typedef struct nm_acronym {
    const char *short_form;  /* "MIT" */
    const char *long_form;   /* "National Intelligence Organization" */
    nm_span short_span;      /* where it was defined */
    nm_span long_span;
    uint32_t n_uses;         /* occurrences of the short form in the text */
} nm_acronym;

typedef struct nm_keyphrase {
    const char *text;  /* as it appears most often ("humanitarian aid") */
    const char *stem;  /* normalised key ("humanitarian aid" stemmed) */
    double score;      /* higher is more key; comparable within one article */
    uint32_t count;
} nm_keyphrase;

typedef struct nm_counts {
    uint32_t bytes;      /* of text */
    uint32_t chars;      /* Unicode code points of text */
    uint32_t words;
    uint32_t sentences;
    uint32_t paragraphs;
    uint32_t syllables;
    double avg_sentence_words;
    double flesch_reading_ease;   /* 206.835 - 1.015 w/s - 84.6 syl/w */
    double flesch_kincaid_grade;  /* 0.39 w/s + 11.8 syl/w - 15.59 */
} nm_counts;

#define NM_MINHASH_SIZE 64

typedef struct nm_fingerprints {
    uint64_t exact;                     /* hash of the normalised text (case, spacing, punctuation folded) */
    uint64_t simhash;                   /* 64-bit SimHash over word shingles */
    uint32_t minhash[NM_MINHASH_SIZE];  /* MinHash over 3-word shingles */
} nm_fingerprints;

/* Everything extraction found; owned by its arena. Arrays may be empty. */
typedef struct nm_extract_result {
    nm_arena *arena;
    const char *id, *source, *url; /* copied from input (url may come from the page) */
    const char *content_type;      /* "text" or "html" (after guessing) */
    const char *text;              /* clean body text; spans index it */
    size_t text_len;
    const char *title;             /* never NULL ("" if none) */
    const char *byline;            /* NULL if none */
    int64_t published_unix_ms, modified_unix_ms; /* 0 = unknown */
    const char *language;          /* ISO 639-1, "und" if unknown */
    double language_confidence;    /* 0..1; 1 when hinted */
    nm_paragraph *paragraphs; size_t n_paragraphs;
    nm_sentence *sentences;   size_t n_sentences;
    nm_section *sections;     size_t n_sections;
    nm_outline_item *outline; size_t n_outline;
    nm_entity *entities;      size_t n_entities;
    nm_mention *mentions;     size_t n_mentions;
    nm_acronym *acronyms;     size_t n_acronyms;
    nm_keyphrase *keyphrases; size_t n_keyphrases; /* best first */
    uint32_t *summary;        size_t n_summary;    /* sentence indexes, article order */
    nm_counts counts;
    nm_fingerprints fingerprints;
    const char **warnings;    size_t n_warnings;   /* e.g. "repaired 3 invalid UTF-8 sequences" */
} nm_extract_result;

/* Frees the result and its arena; accepts NULL; clears *r. */
void nm_extract_result_free(nm_extract_result **r);

/* Stable names: "person", "organisation", "place", "nationality", "other". */
const char *nm_entity_type_name(nm_entity_type type);

/* True when two articles are near-duplicates (SimHash Hamming distance <= 3
 * or estimated Jaccard from MinHash >= 0.8). */
bool nm_fingerprints_near_duplicate(const nm_fingerprints *a, const nm_fingerprints *b);

/* Estimated Jaccard similarity of the two texts' shingle sets, 0..1. */
double nm_fingerprints_similarity(const nm_fingerprints *a, const nm_fingerprints *b);

/* Bits in which two SimHashes differ (near-duplicates: <= 3). */
int nm_simhash_distance(uint64_t a, uint64_t b);

/* Share of equal slots of two MinHash signatures of n > 0 slots: the
 * estimated Jaccard similarity, 0..1. */
double nm_minhash_similarity(const uint32_t *a, const uint32_t *b, size_t n);

#endif
