/*
 * nm_results_check: what a results database must hold after workers stored
 * articles, checked the same way by every test that runs workers
 * (tests/integration/test_worker.c, tests/chaos/chaos.c).
 *
 * Extraction is deterministic, so a test knows what each article must be:
 * what extracting its submitted body in the test's own process gives
 * (nm_results_expected). Against that it checks one stored article:
 *   - its content (nm_results_same_content): title and clean text byte for
 *     byte, and the exact fingerprint;
 *   - its child rows (nm_results_rows_match): as many sentences, sections,
 *     outline items, acronyms, keyphrases and mentions as that extraction.
 * And the database as a whole (nm_results_check_tables):
 *   - no row of a child table (article_entities, sections, outline, acronyms,
 *     keyphrases) or of the full-text index belongs to no stored article;
 *   - every stored article is in the full-text index, and FTS5's own
 *     integrity-check against its content table (articles) passes.
 * The functions report what they find; the caller decides how it fails
 * (a cmocka assertion, a line in chaos's report).
 *
 * Linked, with the libraries it needs, into a test that includes this header
 * (tests/CMakeLists.txt).
 */
#ifndef NM_RESULTS_CHECK_H
#define NM_RESULTS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "nm_error.h"
#include "nm_extract.h"

/* A results database opened for checking. */
typedef struct nm_results_db nm_results_db;

/* One stored article, as the checks compare it. */
typedef struct nm_stored_article {
    int64_t article;  /* articles.article */
    int64_t fp_exact; /* articles.fp_exact */
    char *title;      /* owned; "" when NULL in the database */
    char *text;       /* owned: the stored clean text, text_len bytes and a NUL */
    size_t text_len;
    int64_t n_sentences, n_sections, n_outline, n_acronyms, n_keyphrases, n_mentions;
} nm_stored_article;

/* Opens the results database at path read-write (FTS5's integrity-check is
 * an INSERT) with a busy timeout, so it can be checked while workers run.
 * On failure returns NULL and says why in why. Caller destroys the result. */
nm_results_db *nm_results_db_open(const char *path, char *why, size_t why_size);

/* Closes *db_p (NULL accepted) and sets it to NULL. */
void nm_results_db_close(nm_results_db **db_p);

/* The connection, for a caller's own queries (owned by db). */
sqlite3 *nm_results_db_handle(nm_results_db *db);

/* Loads the stored article id into *out. Returns false when no article has
 * that id (*out is then cleared). Caller frees with nm_stored_article_clear. */
bool nm_results_load(nm_results_db *db, const char *id, nm_stored_article *out);

/* Frees what s owns and zeroes it. */
void nm_stored_article_clear(nm_stored_article *s);

/* What a worker stores for a text body: extraction of (id, body, len) as the
 * worker runs it. Returns NULL and fills err when extraction fails. Caller
 * frees the result with nm_extract_result_free. */
nm_extract_result *nm_results_expected(const nm_extractor *ex, const char *id, const char *body,
                                       size_t len, const char *source, nm_error *err);

/* True when s holds r's content: title and text byte for byte, and the
 * exact fingerprint. */
bool nm_results_same_content(const nm_stored_article *s, const nm_extract_result *r);

/* True when s has as many sentences, sections, outline items, acronyms,
 * keyphrases and mentions as r; otherwise says which differ in why. */
bool nm_results_rows_match(const nm_stored_article *s, const nm_extract_result *r, char *why,
                           size_t why_size);

/* What nm_results_check_tables found. */
typedef struct nm_results_tables {
    long orphan_rows; /* child or full-text rows of no stored article */
    long unindexed;   /* stored articles missing from the full-text index */
    bool fts_ok;      /* FTS5's integrity-check passed */
} nm_results_tables;

/* Called once per problem found, with a sentence saying what it is. */
typedef void nm_results_complain_fn(void *arg, const char *problem);

/* Checks the tables as a whole (see the top of this file) into *out, calling
 * complain (may be NULL) for each problem. Returns the number of problems
 * (0: all hold). A query that cannot run counts as a problem. */
int nm_results_check_tables(nm_results_db *db, nm_results_tables *out,
                            nm_results_complain_fn *complain, void *arg);

#endif
