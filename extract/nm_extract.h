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

#include "nm_article.h"
#include "nm_error.h"

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

/* The result types (nm_extract_result and its parts) are in nm_article.h. */

typedef struct nm_extractor nm_extractor;

typedef struct nm_extractor_config {
    const char *data_dir;        /* gazetteers, stop words, NER model; NULL or "": $NEWSMILL_DATA,
                                    else nm_default_data_dir() */
    size_t max_input_bytes;      /* 0 = 64 MiB */
    size_t summary_sentences;    /* 0 = 3 */
    size_t max_keyphrases;       /* 0 = 10 */
    const char *recognizer;      /* entity recogniser: "model" (NULL = default; the trained
                                    model data_dir/ner-model.bin) or "rules" (gazetteers and
                                    capitalisation; several times faster) */
    size_t summary_words;        /* summary length budget in words; 0 = 100 */
} nm_extractor_config;

/* The data directory a program uses when neither --data-dir nor
 * $NEWSMILL_DATA names one: NM_DATA_REL (../share/newsmill, from the install
 * layout) from the directory of the running program, written without "..":
 * /usr/bin/newsmill-worker uses /usr/share/newsmill, build/bin/newsmill-worker
 * build/share/newsmill (a link to the source tree's data/). Writes it to
 * buf[0..size); returns buf. */
char *nm_default_data_dir(char *buf, size_t size);

/* Loads the read-only resources. cfg may be NULL for defaults. Returns NULL
 * with err (naming the missing or corrupt file) on failure. Caller owns. */
nm_extractor *nm_extractor_new(const nm_extractor_config *cfg, nm_error *err);

/* Accepts NULL; clears *ex. */
void nm_extractor_destroy(nm_extractor **ex);

/* One line for the log: which entity models are loaded and which languages
 * have none ("entity models (model): en de fr; absent (...): nl pt ..."). The
 * English recogniser is required (nm_extractor_new fails without it); de, fr,
 * nl, pt are optional (data_dir/ner-model-<lang>.bin): an article in a
 * language whose model is absent, or in any other language, gets no entities
 * and the warning "no entity model for language xx". */
const char *nm_extractor_entity_models(const nm_extractor *ex);

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


/* The result as one JSON object (UTF-8, no trailing newline). Caller frees
 * with free(). */
char *nm_extract_to_json(const nm_extract_result *r, size_t *len);




#endif
