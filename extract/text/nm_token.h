/*
 * nm_token: Unicode-aware word segmentation of clean article text.
 *
 * Splits UTF-8 text into word, number, punctuation and symbol tokens with
 * byte offsets, case flags and a hash of the lower-cased form (the key every
 * later stage uses for stop words, gazetteers, fingerprints and keyphrases,
 * so nothing is lower-cased twice). Letters, marks and digits are told apart
 * with utf8proc's Unicode categories: 'Kalın', 'São', 'Москва' are words.
 *
 * Rules: internal hyphens and apostrophes join ("de-escalate", "O'Brien",
 * "don't"), but a possessive "'s" / "’s" is its own clitic token so that
 * "Israel’s" gives "Israel"; "U.S." and "e.g." are one dotted token; numbers
 * keep their decimal and thousands separators ("3.5", "1,000", "1.13bn");
 * "..." is one token. The lower-case hash folds ’ to '.
 *
 * Input must be valid UTF-8 (the extractor checks first). Linear time; no
 * allocation except growing the caller's vector (nm_alloc policy).
 */
#ifndef NM_TOKEN_H
#define NM_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum nm_token_kind {
    NM_TOK_WORD = 0,   /* starts with a letter (may contain digits, marks) */
    NM_TOK_NUMBER = 1, /* starts with a digit */
    NM_TOK_PUNCT = 2,  /* Unicode punctuation (P*) */
    NM_TOK_SYMBOL = 3, /* anything else visible ($, %, emoji) */
} nm_token_kind;

enum {
    NM_TF_UPPER = 1u << 0,       /* first letter is upper or title case */
    NM_TF_ALLCAPS = 1u << 1,     /* >= 2 cased letters, none lower ("MIT", "U.S.") */
    NM_TF_LOWER = 1u << 2,       /* first letter is lower case */
    NM_TF_DIGIT = 1u << 3,       /* contains a digit */
    NM_TF_DOTTED = 1u << 4,      /* dotted abbreviation, final period included */
    NM_TF_CLITIC = 1u << 5,      /* possessive "'s" split off a word */
    NM_TF_HYPHEN = 1u << 6,      /* internal hyphen */
    NM_TF_SPACE_AFTER = 1u << 7, /* whitespace or end of text follows */
    NM_TF_SPACE_BEFORE = 1u << 8,/* whitespace or start of text precedes */
    NM_TF_LATIN = 1u << 9,       /* first letter is Latin script (ASCII or U+00C0..U+024F) */
    NM_TF_QUOTE_OPEN = 1u << 10, /* punctuation that opens: ( [ { “ ‘ « and " ' before a word */
    NM_TF_QUOTE_CLOSE = 1u << 11,/* punctuation that closes: ) ] } ” ’ » and " ' after a word */
    NM_TF_TERMINAL = 1u << 12,   /* . ! ? … ... (possible sentence end) */
    NM_TF_NONASCII = 1u << 13,   /* a word with a byte >= 0x80 */
};

typedef struct nm_token {
    uint32_t start, end; /* byte offsets into the text, end exclusive */
    uint64_t lhash;      /* nm_hash_bytes of the lower-cased form */
    uint16_t flags;      /* NM_TF_* */
    uint8_t kind;        /* nm_token_kind */
    uint8_t nchars;      /* code points, saturating at 255 */
} nm_token;

/* A growable token array (malloc'd; reuse it across calls to avoid
 * allocation). Zero-initialise before first use. */
typedef struct nm_token_vec {
    nm_token *v;
    size_t n, cap;
} nm_token_vec;

/* Appends the tokens of text[start..end) to vec (offsets are into text).
 * Returns the number appended. */
size_t nm_tokenize(const char *text, size_t start, size_t end, nm_token_vec *vec);

/* Fills *tok for the span text[start..end) taken as one token, as the
 * tokenizer would classify it (used to evaluate on pre-tokenised corpora). */
void nm_token_classify(const char *text, size_t start, size_t end, nm_token *tok);

/* Writes the lower-cased form of a token (’ folded to ') into buf (NUL
 * terminated, truncated to cap-1 bytes); returns its length. */
size_t nm_token_lower(const char *text, const nm_token *tok, char *buf, size_t cap);

/* Lower-case hash of an arbitrary string, as the tokenizer computes it for a
 * token with that text (for building lookup tables from word lists). */
uint64_t nm_token_hash_lower(const char *s, size_t n);

/* True for word and number tokens that count as words (not clitics). */
static inline bool nm_token_is_word(const nm_token *t)
{
    return t->kind <= NM_TOK_NUMBER && !(t->flags & NM_TF_CLITIC);
}

/* Frees the vector's storage and zeroes it. */
void nm_token_vec_free(nm_token_vec *vec);

#endif
