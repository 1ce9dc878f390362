/*
 * nm_recognizer: the named-entity decision behind one small interface.
 *
 * A recogniser reads a document's tokens (split into sentences) and writes
 * one IOB2 label per token over PER/ORG/LOC/MISC (NM_NER_* from nm_ner.h).
 * Everything after that (mention grouping, nationality vs other, canonical
 * names, salience; nm_entities) is the same whichever recogniser decided.
 *
 * Implementations:
 *   "rules"  capitalisation, gazetteers and trigger words (nm_ner_rules):
 *            fast, no model file.
 *   "model"  the trained averaged-perceptron tagger (nm_ner, data/ner-model.bin)
 *            with its document context.
 * Swapping is one argument to nm_recognizer_new. A recogniser is built once
 * and then only read: thread-safe; per-call memory is the caller's scratch.
 */
#ifndef NM_RECOGNIZER_H
#define NM_RECOGNIZER_H

#include <stddef.h>
#include <stdint.h>

#include "nm_error.h"
#include "nm_ner.h"
#include "nm_scratch.h"

typedef struct nm_recognizer nm_recognizer;

/* kind "rules" (data_dir/ner-gazetteer.txt + ner-rules.txt + stopwords/en.txt)
 * or "model" (data_dir/ner-model.bin). NULL with err (naming the file) on
 * failure. Caller owns. The English recogniser: nm_recognizer_new_lang(kind,
 * data_dir, "en", err). */
nm_recognizer *nm_recognizer_new(const char *kind, const char *data_dir, nm_error *err);

/* The recogniser of one language (ISO 639-1). "model": data_dir/ner-model.bin
 * for "en", data_dir/ner-model-<lang>.bin for any other; the model must say
 * it was trained for that language, else NM_ERR_MALFORMED ("... is a model
 * for de, not fr"). "rules" exist for English only. Errors: NM_ERR_NOT_FOUND
 * when the language has no recogniser (no such file, or rules asked for
 * another language), NM_ERR_IO/NM_ERR_MALFORMED/NM_ERR_VERSION for a file
 * that is there but unreadable, corrupt or of another version. */
nm_recognizer *nm_recognizer_new_lang(const char *kind, const char *data_dir, const char *lang,
                                      nm_error *err);

/* The language the recogniser is for ("en", "de", ...). */
const char *nm_recognizer_lang(const nm_recognizer *r);

/* Accepts NULL; clears *r. */
void nm_recognizer_destroy(nm_recognizer **r);

/* "rules" or "model". */
const char *nm_recognizer_kind(const nm_recognizer *r);

/* Labels in->n tokens into labels[0..n) (valid IOB2). Thread-safe. */
void nm_recognizer_label(const nm_recognizer *r, const nm_recognizer_input *in, uint8_t *labels,
                         nm_scratch *scratch);

#endif
