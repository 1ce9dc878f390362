/*
 * nm_store_snippet: nm_snippet(), an FTS5 auxiliary function that returns
 * exactly what FTS5's snippet() returns for one column (same window, same
 * marks, same ellipses: checked against snippet() over a corpus by
 * tests/unit/test_store_snippet.c), at a fraction of the cost.
 *
 * snippet() tokenizes the whole column text twice per row (once to find
 * sentence starts, once to mark the window) and reads it twice. nm_snippet
 * scores the candidate windows from the match positions alone, so it
 * tokenizes (keeping each token's byte offsets) only as far as the windows
 * that may still win: first to a little past the first match, and again up
 * to the last match plus the snippet's length only when a later window may
 * still score higher. On the search page of `newsmill serve` this was most
 * of the time spent per request.
 *
 *   nm_snippet(fts_table, column, open, close, ellipsis, max_tokens)
 *
 * column must be a column number (>= 0; snippet()'s -1, "any column", is
 * not supported: an error); max_tokens is clamped to 1..64.
 */
#ifndef NM_STORE_SNIPPET_H
#define NM_STORE_SNIPPET_H

#include <sqlite3.h>

#include "nm_error.h"

/* Registers nm_snippet on db's FTS5. 0, or -1 with err (NM_ERR_DB: no FTS5
 * in this SQLite). */
int nm_store_snippet_register(sqlite3 *db, nm_error *err);

#endif
