/*
 * nm_input: articles from what a user points at — files, directories, JSON
 * lines on stdin — one at a time, for `newsmill submit` and other producers.
 *
 * Inputs, in the order given:
 *   PATH.txt             one plain-text article
 *   PATH.html, PATH.htm  one HTML article
 *   PATH.jsonl/.ndjson   JSON lines, one article per line (nm_jsonl)
 *   "-"                  JSON lines from standard input
 *   DIRECTORY            every .txt/.html/.htm/.jsonl/.ndjson below it,
 *                        recursively, in sorted order; other files are skipped
 *                        and counted; hidden entries (".git") and symbolic links
 *                        to directories are not followed
 *   any other file named explicitly: one article whose type the worker guesses
 *
 * A file article's id is the path as given ("./" removed) for a file named
 * explicitly, and the directory's own name joined with the path inside it for
 * a file found in a directory (`submit ../corpus/bbc` gives "bbc/tech/131.txt",
 * from wherever it is run); url = "file://" + absolute path; source as
 * configured. Ids are thus stable when the same tree is submitted again (the
 * results replace the earlier ones).
 *
 * Guarantees: a bad input (missing or unreadable file, empty or too large
 * file, malformed JSON line) never stops the others; each is reported once by
 * nm_input_next with where and why. Memory: one article at a time, bounded by
 * max_file_bytes and max_line.
 */
#ifndef NM_INPUT_H
#define NM_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "newsmill.pb-c.h"
#include "nm_error.h"

typedef struct nm_input nm_input;

typedef struct nm_input_config {
    const char *source;    /* Article.source of file articles (NULL: "file") */
    size_t max_file_bytes; /* larger files are reported, not read (0: 64 MiB) */
    size_t max_line;       /* longest JSON line (0: NM_JSONL_MAX_LINE_DEFAULT) */
} nm_input_config;

/* Walks paths[0..n) now (directories are listed, files are not read yet).
 * cfg may be NULL. Never fails: problems come out of nm_input_next. Caller
 * owns the result. paths must outlive it. */
nm_input *nm_input_new(const char *const *paths, size_t n, const nm_input_config *cfg);

/* Accepts NULL; clears *in. */
void nm_input_destroy(nm_input **in);

/* The next article: 0 with *out (caller owns, free with
 * nm_jsonl_article_free), 0 with *out NULL when every input is done, or -1
 * with err "WHERE: why" for one bad input (keep calling for the rest). */
int nm_input_next(nm_input *in, Newsmill__Article **out, nm_error *err);

/* Whether nm_input_next would return without waiting: true except while a
 * JSON-lines stream (stdin, a pipe) has no whole line buffered and nothing
 * arrives within timeout_ms. */
bool nm_input_ready(const nm_input *in, int timeout_ms);

/* Short, stable class of the last error, to group reasons ("not found",
 * "permission denied", "malformed JSON line", ...). */
const char *nm_input_error_class(const nm_input *in);

/* Number of article files found by the walk (JSON-lines inputs not
 * included), and whether every input is such a file (then the total is
 * known before reading). */
size_t nm_input_file_count(const nm_input *in);
int nm_input_total_known(const nm_input *in);

/* Files skipped in directories for their extension. */
size_t nm_input_skipped(const nm_input *in);

#endif
