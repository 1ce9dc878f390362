/*
 * nm_ner_features: the feature templates of the NER model, shared by the
 * tagger (nm_ner.c) and the trainer (nm_ner_train.c) so that both compute
 * exactly the same features. Internal to the NER modules.
 *
 * Each token is summarised once (nm_ner_token_info: hashes of its form,
 * lower-case form, affixes and shapes, its capitalisation class, gazetteer
 * and document flags); then every token of a sentence gets exactly
 * NM_NER_NF feature ids, each a row of the hashed weight table (2^bits rows).
 * A disabled template emits a constant id (it acts like a bias), so the
 * number of features per token never varies. Pure functions, no allocation.
 */
#ifndef NM_NER_FEATURES_H
#define NM_NER_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "nm_ner.h"

#define NM_NER_NF 30

/* Capitalisation classes. */
enum {
    NM_NER_CAP_LOWER = 0,  /* "said", "de" */
    NM_NER_CAP_TITLE = 1,  /* "Ankara", "Kalın", "A" */
    NM_NER_CAP_UPPER = 2,  /* "NATO", "ANKARA" */
    NM_NER_CAP_MIXED = 3,  /* "McDonald", "iPhone" */
    NM_NER_CAP_DIGIT = 4,  /* "1996", "3.5" */
    NM_NER_CAP_ALNUM = 5,  /* "G7", "1990s" */
    NM_NER_CAP_PUNCT = 6,  /* ",", "--" */
    NM_NER_CAP_NOCASE = 7, /* letters without case: Arabic, CJK */
};

/* Gazetteer classes: a word that is a whole entry, or part of a longer one. */
enum {
    NM_NER_GAZ_NAT = 1u << 0,
    NM_NER_GAZ_LOC = 1u << 1,
    NM_NER_GAZ_ORG = 1u << 2,
    NM_NER_GAZ_PER = 1u << 3,
    NM_NER_GAZ_PART_LOC = 1u << 4,
    NM_NER_GAZ_PART_ORG = 1u << 5,
    NM_NER_GAZ_PART_PER = 1u << 6,
    NM_NER_GAZ_PART_NAT = 1u << 7,
};

/* Document flags of a word. */
enum {
    NM_NER_DOC_CAPMID = 1u << 0, /* written capitalised in mid sentence somewhere */
    NM_NER_DOC_LOWER = 1u << 1,  /* written in lower case somewhere */
};

typedef struct nm_ner_tokinfo {
    uint64_t form, lower, shape, sshape;
    uint64_t pre[4], suf[4];
    uint8_t cap, letters, gaz, doc;
} nm_ner_tokinfo;

/* Read-only gazetteer: open addressing over lower-case word hashes. */
typedef struct nm_ner_gaz {
    uint64_t *keys; /* 0 = empty */
    uint8_t *vals;
    size_t mask;    /* capacity - 1 (power of two), 0 when empty */
    size_t n;
} nm_ner_gaz;

/* Summarises a token (gaz and doc left 0: the caller looks them up). */
void nm_ner_token_info(const char *text, size_t len, nm_ner_tokinfo *ti);

/* nm_ner_token_info of the token with its first letter in lower case
 * ("Talks" as "talks"); tokens over 92 bytes keep their own info. */
void nm_ner_token_info_lowered(const char *text, size_t len, nm_ner_tokinfo *ti);

/* The gazetteer classes of a lower-case word hash (0 if absent). */
uint8_t nm_ner_gaz_get(const nm_ner_gaz *g, uint64_t lower);

/* Adds classes to a word (gazetteer building; g sized by the caller with
 * room to spare, see nm_ner_gaz_init). */
void nm_ner_gaz_init(nm_ner_gaz *g, size_t expected);
void nm_ner_gaz_add(nm_ner_gaz *g, uint64_t lower, uint8_t classes);
void nm_ner_gaz_free(nm_ner_gaz *g);

/* The document flags of a lower-case word hash (0 if doc is NULL/absent). */
uint8_t nm_ner_doc_get(const nm_ner_doc *doc, uint64_t lower);

/* True when the sentence is a headline in capitals ("SOCCER - JAPAN WIN"). */
int nm_ner_sentence_is_headline(const nm_ner_tokinfo *ti, size_t n);

/* True when the sentence is a title-case heading ("Talks with Hamas Leaders
 * in Ankara"): at least 3 capitalised words, some short lower-case words
 * ("in", "with") and none over 4 letters. */
int nm_ner_sentence_is_title_case(const nm_ner_tokinfo *ti, size_t n);

/* Summaries of a sentence's tokens with gazetteer and document flags. In a
 * title-case heading, a capitalised word the document otherwise writes only
 * in lower case is read in lower case ("Talks" -> "talks"). doc may be NULL. */
void nm_ner_sentence_info(const nm_ner_token *tokens, size_t n, const nm_ner_gaz *gaz,
                          const nm_ner_doc *doc, nm_ner_tokinfo *ti);

/* The part of nm_ner_sentence_info after nm_ner_token_info (ti already
 * holds the token summaries). */
void nm_ner_sentence_context(const nm_ner_token *tokens, size_t n, const nm_ner_gaz *gaz,
                             const nm_ner_doc *doc, nm_ner_tokinfo *ti);

/* nm_ner_doc_add from token summaries (the same marks for n <= 64; longer
 * sentences are never headings). */
void nm_ner_doc_add_info(nm_ner_doc *doc, const nm_ner_tokinfo *ti, size_t n);

/* The same for a sentence whose tokens are of word types tid[i], where
 * marked[type] (zero at the start of the document) keeps which flags a
 * type has had marked already, so that repeated words cost nothing. */
void nm_ner_doc_add_types(nm_ner_doc *doc, const nm_ner_tokinfo *ti, size_t n,
                          const uint32_t *tid, uint8_t *marked);

/* Feature groups, by what a template reads: the token alone (SELF), the
 * token as the left neighbour at distance 1 or 2 of the token being scored
 * (M1, M2), as its right neighbour (P1, P2), or its position in the
 * sentence and its neighbours together (POS). The first five depend on one
 * token summary only, so the document tagger adds them up once per word
 * type; a token's emission is the sum of all groups either way. */
enum {
    NM_NER_G_SELF, NM_NER_G_M1, NM_NER_G_M2, NM_NER_G_P1, NM_NER_G_P2, NM_NER_G_POS,
    NM_NER_GROUPS
};
#define NM_NER_GROUP_MAX 13

/* The number of rows of each group (NM_NER_G_POS: NM_NER_POS_ROWS). */
extern const uint8_t nm_ner_group_len[NM_NER_GROUPS];

/* The rows of group g (not NM_NER_G_POS) into out (at most
 * NM_NER_GROUP_MAX, in a fixed order per group); returns how many. w is
 * the token (SELF) or the neighbour the group reads. */
size_t nm_ner_group_rows(int group, const nm_ner_tokinfo *w, unsigned features, unsigned bits,
                         uint32_t *out);

/* The 9 rows of NM_NER_G_POS come in two parts. The first
 * NM_NER_POS_OWN read only the token's capitalisation class, document
 * flags and lower case (the last only at a sentence start or in a
 * headline), with first = the first token of its sentence, headline = the
 * sentence is a headline. */
#define NM_NER_POS_ROWS 9
#define NM_NER_POS_OWN 5
void nm_ner_pos_rows_own(unsigned cap, unsigned doc, uint64_t lower, int first, int headline,
                         unsigned features, unsigned bits, uint32_t *out);

/* The other NM_NER_POS_ROWS - NM_NER_POS_OWN read token w with its
 * neighbours m1 and p1 (nm_ner_edge stand-ins at the sentence edges). */
void nm_ner_pos_rows_window(const nm_ner_tokinfo *w, const nm_ner_tokinfo *m1,
                            const nm_ner_tokinfo *p1, int headline, unsigned features,
                            unsigned bits, uint32_t *out);

/* Stand-ins for the neighbours beyond the sentence edges: 0 = two before
 * the first token, 1 = one before, 2 = one after the last, 3 = two after. */
const nm_ner_tokinfo *nm_ner_edge(size_t which);

/* Fills rows[i * NM_NER_NF + k] for every token i of a sentence. */
void nm_ner_sentence_rows(const nm_ner_tokinfo *ti, size_t n, unsigned features,
                          unsigned bits, uint32_t *rows);

/* Builds a model in memory from trained float weights (rows = 2^bits, 9 per
 * row), start and transition scores, a gazetteer (copied) and a provenance
 * text. Weights are quantised to int8 (one scale for the table). Caller
 * owns the result. */
nm_ner_model *nm_ner_model_build(unsigned bits, unsigned features, const float *weights,
                                 const float start[NM_NER_LABELS],
                                 const float trans[NM_NER_LABELS * NM_NER_LABELS],
                                 const nm_ner_gaz *gaz, const char *info);

/* Writes a model in the file format of nm_ner.h (to path.tmp, then renamed).
 * Returns 0, or -1 with NM_ERR_IO. */
int nm_ner_model_save(const nm_ner_model *m, const char *path, nm_error *err);

/* FNV-1a 64 (the file checksum). */
uint64_t nm_ner_fnv1a(const void *data, size_t len, uint64_t h);
#define NM_NER_FNV_BASIS UINT64_C(0xcbf29ce484222325) /* == NM_HASH_FNV_BASIS */

#endif
