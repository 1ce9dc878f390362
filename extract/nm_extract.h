/*
 * nm_extract: article in (bytes, content type, metadata), structured result out.
 *
 * The heart of newsmill's workers. Pure: no I/O after nm_extractor_new(), no
 * mutable globals, thread-safe (one nm_extractor shared read-only by every
 * thread; each call allocates only from its own result's arena, so freeing a
 * result is one call). Time and memory are linear in the input size.
 *
 * Pipeline: bytes -> nm_doc (nm_text_parse / nm_html_parse) -> clean text
 * (blocks joined with "\n\n") -> paragraphs, sentences, sections, outline ->
 * counts and readability -> language -> entities and mentions -> acronyms ->
 * keyphrases -> summary -> fingerprints.
 *
 * Offsets: every span is a pair of byte offsets [start, end) into
 * result->text, the clean body text that is also what gets stored.
 *
 * Input policy: text must be valid UTF-8 (else NM_ERR_UTF8 with the offset of
 * the first bad byte); HTML is repaired (invalid sequences become U+FFFD).
 * Empty or whitespace-only input is NM_ERR_EMPTY; input above
 * cfg.max_input_bytes is NM_ERR_TOO_LARGE.
 */
#ifndef NM_EXTRACT_H
#define NM_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_arena.h"
#include "nm_error.h"

#define NM_NO_INDEX UINT32_MAX

typedef enum nm_content_type {
    NM_CONTENT_GUESS = 0, /* decide from the bytes (leading '<' and tags -> HTML) */
    NM_CONTENT_TEXT = 1,
    NM_CONTENT_HTML = 2,
} nm_content_type;

typedef struct nm_kv {
    const char *key, *value;
} nm_kv;

/* What comes in. Every pointer may be NULL except body (when len > 0). */
typedef struct nm_extract_input {
    const char *body;
    size_t len;
    nm_content_type content_type;
    const char *id;
    const char *source;
    const char *url;
    const char *language_hint; /* ISO 639-1; used instead of detection when set */
    int64_t published_unix_ms; /* producer's value wins over what the page says; 0 = unknown */
    const nm_kv *metadata;     /* producer metadata; "title", "byline" override guesses */
    size_t n_metadata;
} nm_extract_input;

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

typedef struct nm_extractor nm_extractor;

typedef struct nm_extractor_config {
    const char *data_dir;        /* gazetteers, stop words, NER model; NULL = NM_DATA_DIR or $NEWSMILL_DATA */
    size_t max_input_bytes;      /* 0 = 64 MiB */
    size_t summary_sentences;    /* 0 = 3 */
    size_t max_keyphrases;       /* 0 = 10 */
    const char *recognizer;      /* entity recogniser: "model" (NULL = default; the trained
                                    model data_dir/ner-model.bin) or "rules" (gazetteers and
                                    capitalisation; several times faster) */
    size_t summary_words;        /* summary length budget in words; 0 = 100 */
} nm_extractor_config;

/* Loads the read-only resources. cfg may be NULL for defaults. Returns NULL
 * with err (naming the missing or corrupt file) on failure. Caller owns. */
nm_extractor *nm_extractor_new(const nm_extractor_config *cfg, nm_error *err);

/* Accepts NULL; clears *ex. */
void nm_extractor_destroy(nm_extractor **ex);

/* Extracts one article. On success *out is the caller's (free with
 * nm_extract_result_free). On failure *out is NULL and err says why
 * (NM_ERR_EMPTY, NM_ERR_TOO_LARGE, NM_ERR_UTF8, NM_ERR_MALFORMED). */
int nm_extract(const nm_extractor *ex, const nm_extract_input *in, nm_extract_result **out,
               nm_error *err);

/* Stages of nm_extract, for profiling (bench-extract). */
typedef enum nm_extract_stage {
    NM_STAGE_PARSE,       /* bytes -> nm_doc (text or HTML) */
    NM_STAGE_TOKENS,      /* clean text and tokens */
    NM_STAGE_SENTENCES,   /* sentences, counts, sections, outline */
    NM_STAGE_LANGUAGE,
    NM_STAGE_ENTITIES,    /* recogniser, acronyms, mention grouping */
    NM_STAGE_KEYPHRASES,
    NM_STAGE_SUMMARY,
    NM_STAGE_FINGERPRINTS,
    NM_STAGE_COUNT
} nm_extract_stage;

typedef struct nm_extract_profile {
    int64_t stage_ns[NM_STAGE_COUNT]; /* CPU ns of the calling thread, added to by each call */
} nm_extract_profile;

/* nm_extract that also adds each stage's time to *prof (may be NULL). */
int nm_extract_profiled(const nm_extractor *ex, const nm_extract_input *in, nm_extract_result **out,
                        nm_extract_profile *prof, nm_error *err);

/* "parse", "tokens", "sentences", "language", "entities", "keyphrases",
 * "summary", "fingerprints". */
const char *nm_extract_stage_name(nm_extract_stage stage);

/* Frees the result and its arena; accepts NULL; clears *r. */
void nm_extract_result_free(nm_extract_result **r);

/* The result as one JSON object (UTF-8, no trailing newline). Caller frees
 * with free(). */
char *nm_extract_to_json(const nm_extract_result *r, size_t *len);

/* Stable names: "person", "organisation", "place", "nationality", "other". */
const char *nm_entity_type_name(nm_entity_type type);

/* True when two articles are near-duplicates (SimHash Hamming distance <= 3
 * or estimated Jaccard from MinHash >= 0.8). */
bool nm_fingerprints_near_duplicate(const nm_fingerprints *a, const nm_fingerprints *b);

/* Estimated Jaccard similarity of the two texts' shingle sets, 0..1. */
double nm_fingerprints_similarity(const nm_fingerprints *a, const nm_fingerprints *b);

#endif
