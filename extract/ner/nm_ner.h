/*
 * nm_ner: newsmill's trained named-entity recogniser (tagger side).
 *
 * A sentence of tokens goes in, one BIO label per token comes out (IOB2 over
 * PER, ORG, LOC, MISC, as in CoNLL-2003). The model is a first-order
 * linear-chain model trained as an averaged structured perceptron
 * (tools/train-ner): per-token scores are sums of hashed feature weights,
 * transitions are a 9x9 table, decoding is exact Viterbi with the IOB2
 * constraints (I-X only after B-X or I-X) built in.
 *
 * Guarantees:
 * - A model is loaded once (nm_ner_model_load) and then only read: any number
 *   of threads may tag with the same model at the same time. No global
 *   mutable state anywhere in this module.
 * - Tagging allocates nothing when the caller passes scratch memory of
 *   nm_ner_scratch_size(n) bytes (else it mallocs and frees its own).
 * - Time is linear in the bytes of the tokens; any bytes are accepted (invalid
 *   UTF-8 is read as U+FFFD), so 10,000-byte tokens, scripts without case and
 *   all-caps text are tagged in bounded time with sensible labels.
 *
 * Model file format (version 2, all integers little-endian):
 *   offset 0   8 bytes  magic "NMNERMDL"
 *          8   u32      format version (2; version 1 held int16 weights)
 *         12   u32      number of labels (9)
 *         16   u32      hash-table bits B (rows = 2^B)
 *         20   u32      feature-set mask (NM_NER_F_*): which templates the
 *                       model was trained with; the tagger computes the same
 *         24   f32      weight scale (weight = int8 * scale)
 *         28   u32      length L of the provenance text
 *         32   L bytes  provenance text (corpus, epochs, seed; UTF-8)
 *              9 f32    start scores, then 81 f32 transition scores [prev][cur]
 *              u32 G    gazetteer entries, then G x (u64 word hash, u8 classes)
 *              2^B x 9  i8 weights, row-major
 *              u64      FNV-1a 64 of every byte before it
 * The loader checks the magic, version, sizes against the file length and the
 * checksum, so a missing, truncated or corrupt file fails with a clear
 * message. Changing the layout or the features means a new version number;
 * the loader rejects versions it does not know.
 */
#ifndef NM_NER_H
#define NM_NER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_error.h"

/* Labels, in model order: O, then B-/I- per type. */
enum {
    NM_NER_O = 0,
    NM_NER_B_PER = 1, NM_NER_I_PER = 2,
    NM_NER_B_ORG = 3, NM_NER_I_ORG = 4,
    NM_NER_B_LOC = 5, NM_NER_I_LOC = 6,
    NM_NER_B_MISC = 7, NM_NER_I_MISC = 8,
    NM_NER_LABELS = 9
};

/* Entity types (label >> 1 for B-/I- labels minus one). */
typedef enum nm_ner_type {
    NM_NER_PER = 0,
    NM_NER_ORG = 1,
    NM_NER_LOC = 2,
    NM_NER_MISC = 3,
    NM_NER_TYPES = 4
} nm_ner_type;

/* Feature templates a model may use (stored in the model file). */
enum {
    NM_NER_F_AFFIX = 1u << 0,   /* prefixes and suffixes 1-4 */
    NM_NER_F_SHAPE = 1u << 1,   /* word shape and short shape */
    NM_NER_F_WINDOW = 1u << 2,  /* neighbours in a +-2 window */
    NM_NER_F_BIGRAM = 1u << 3,  /* word bigrams with the neighbours */
    NM_NER_F_GAZ = 1u << 4,     /* gazetteer membership */
    NM_NER_F_DOC = 1u << 5,     /* document-level case evidence */
    NM_NER_F_POS = 1u << 6,     /* sentence position, headline mode */
    NM_NER_F_ALL = (1u << 7) - 1
};

/* One token: UTF-8 bytes (not NUL-terminated). */
typedef struct nm_ner_token {
    const char *text;
    size_t len;
} nm_ner_token;

typedef struct nm_ner_model nm_ner_model;

/* Loads a model file. On success *out is the caller's (nm_ner_model_free).
 * On failure returns -1, *out is NULL, and err says what is wrong with which
 * file (NM_ERR_IO missing/unreadable, NM_ERR_MALFORMED bad magic/truncated/
 * checksum mismatch, NM_ERR_VERSION unknown version). */
int nm_ner_model_load(const char *path, nm_ner_model **out, nm_error *err);

/* Same from bytes in memory (copied; the caller keeps data). */
int nm_ner_model_load_bytes(const void *data, size_t len, const char *name,
                            nm_ner_model **out, nm_error *err);

/* Accepts NULL; clears *m. */
void nm_ner_model_free(nm_ner_model **m);

/* Provenance text stored in the model (never NULL). It names the language
 * ("lang=de"), the corpus format and file, epochs, seed and features. */
const char *nm_ner_model_info(const nm_ner_model *m);

/* The language the model was trained for (ISO 639-1, from "lang=xx" in the
 * provenance; a model without one, as written before languages were stored,
 * is "en"). */
void nm_ner_model_lang(const nm_ner_model *m, char out[8]);

/* Document context: which words the document writes capitalised in mid
 * sentence and which it writes in lower case. Lets the tagger tell a name in
 * a headline or at a sentence start from an ordinary word. Fixed size (no
 * allocation); put it on the stack or in an arena. Fields are private. */
#define NM_NER_DOC_SLOTS 4096
typedef struct nm_ner_doc {
    uint32_t n;
    uint32_t mask; /* slots in use - 1 (0 reads as NM_NER_DOC_SLOTS - 1) */
    uint64_t slot[NM_NER_DOC_SLOTS]; /* word hash | 2 flag bits; 0 = empty */
} nm_ner_doc;

/* Empties a document context. */
void nm_ner_doc_reset(nm_ner_doc *doc);

/* Empties it for a document of at most n tokens: only a table of at least
 * 4n slots (at most NM_NER_DOC_SLOTS) is cleared and used (a one-sentence
 * document clears 1 KB, not 32 KB); the marks are those of the full table,
 * since a document marks at most 2 words a token and neither fills up
 * before the full one does. */
void nm_ner_doc_reset_for(nm_ner_doc *doc, size_t n);

/* Records one sentence of the document. When the context is full (very long
 * documents) further new words are not recorded; tagging stays correct, only
 * with less evidence. */
void nm_ner_doc_add(nm_ner_doc *doc, const nm_ner_token *tokens, size_t n);

/* Bytes of scratch memory nm_ner_tag needs for a sentence of n tokens. */
size_t nm_ner_scratch_size(size_t n);

/* Tags one sentence: labels[i] gets the label of tokens[i]. doc may be NULL
 * (no document evidence) or a context built with nm_ner_doc_add over the
 * whole document (this sentence included). scratch may be NULL (the call
 * mallocs its own) or hold at least scratch_size >= nm_ner_scratch_size(n)
 * bytes, aligned for uint64_t. The output always satisfies IOB2. n == 0 is
 * fine. Thread-safe. */
void nm_ner_tag(const nm_ner_model *m, const nm_ner_doc *doc, const nm_ner_token *tokens,
                size_t n, uint8_t *labels, void *scratch, size_t scratch_size);

/* Bytes of scratch memory nm_ner_tag_document needs for a document of n
 * tokens whose longest sentence has `longest` tokens. */
size_t nm_ner_document_scratch_size(size_t n, size_t longest);

/* Tags a whole document: builds its context and tags every sentence, the
 * same labels as nm_ner_doc_add over every sentence then nm_ner_tag on each,
 * but adding up the weights that depend on one word alone once per word
 * type (the fast path for pipelines; nm_ner_doc.c).
 * sent_ends[s] is the token index one past sentence s (ascending; tokens
 * after the last end form one more sentence). scratch may be NULL (the call
 * mallocs its own) or hold scratch_size >= nm_ner_document_scratch_size
 * bytes, aligned for uint64_t. Thread-safe. */
void nm_ner_tag_document(const nm_ner_model *m, const nm_ner_token *tokens, size_t n,
                         const uint32_t *sent_ends, size_t n_sentences, uint8_t *labels,
                         void *scratch, size_t scratch_size);

/* A memo of word types for nm_ner_tag_document_memo: what the tagger works
 * out about a word (its summary, the sums of the feature weights that
 * depend on it alone), kept from one document to the next so that common
 * words cost a lookup. Fixed size (3.5 MiB, touched as used); a word
 * keeps its place while it is found again, so a stream of rare words does
 * not push out the common ones. One per thread: tagging writes to it. It
 * remembers the model it was filled with and starts over for another. */
typedef struct nm_ner_memo nm_ner_memo;

/* Never NULL (allocation failure aborts). */
nm_ner_memo *nm_ner_memo_new(void);

/* Accepts NULL; clears *memo. */
void nm_ner_memo_free(nm_ner_memo **memo);

/* nm_ner_tag_document with a memo (NULL = none): the same labels, faster
 * once the memo knows the document's words. Thread-safe for different
 * memos. */
void nm_ner_tag_document_memo(const nm_ner_model *m, nm_ner_memo *memo,
                              const nm_ner_token *tokens, size_t n, const uint32_t *sent_ends,
                              size_t n_sentences, uint8_t *labels, void *scratch,
                              size_t scratch_size);

/* Walks the entities of a label sequence by the conlleval rules: an entity
 * starts at B-X, or at I-X after O or after another type; it continues over
 * I-X of the same type. Starting with *pos = 0, each call returns true with
 * the next entity [*start, *end) and its type, and false when there is none
 * left. */
bool nm_ner_next_span(const uint8_t *labels, size_t n, size_t *pos, size_t *start,
                      size_t *end, nm_ner_type *type);

/* Document-level consistency, after tagging a whole document: an entity in
 * capitals opening a sentence before a dash and text in small letters is a
 * place (a dateline: "ABERDEEN — A wind farm"); a span whose
 * words with case all start with a small letter is no entity ("centro da
 * cidade"); a token string labelled as an entity more often with another type takes that type
 * ("Clinton" PER three times and ORG once: PER four times), and its repeats
 * left O that start with a capital get its commonest type, within one
 * sentence and not running into a following entity (strings of up to 8
 * tokens). labels satisfy IOB2 before and after. scratch holds
 * nm_ner_consistent_scratch_size(n) bytes aligned for uint64_t. */
size_t nm_ner_consistent_scratch_size(size_t n);
void nm_ner_consistent(const nm_ner_token *tokens, size_t n, const uint32_t *sent_ends,
                       size_t n_sentences, uint8_t *labels, void *scratch);

/* True when a MISC entity names a nationality or group of people (Turkish,
 * Palestinians, Kurdish, Muslim), from the model's demonym gazetteer: its last
 * token (or that token without a plural 's') is a nationality word. */
bool nm_ner_misc_is_group(const nm_ner_model *m, const nm_ner_token *tokens, size_t n);

/* "O", "B-PER", ...; NULL for a label >= NM_NER_LABELS. */
const char *nm_ner_label_name(uint8_t label);

/* Parses "O", "B-PER", "I-LOC", ... Returns 0 or -1 if unknown. */
int nm_ner_label_parse(const char *name, size_t len, uint8_t *label);

/* "PER", "ORG", "LOC", "MISC". */
const char *nm_ner_type_name(nm_ner_type type);

#endif
