/* eval-ner's path for nm_recognizer (the rules labeller, or the model through
 * the same interface the extractor uses). */
#ifndef EVAL_RECOGNIZER_H
#define EVAL_RECOGNIZER_H

#include <stdint.h>

#include "nm_conll.h"

/* Labels every document of c with the recogniser `kind` ("rules" or "model")
 * loaded from data_dir, adds the scores to *sc and the labels to pred[]
 * (c->n_tokens). Returns 0, or -1 with err if the recogniser cannot load. */
int eval_recognizer(const char *kind, const char *data_dir, const nm_conll_corpus *c,
                    nm_conll_score *sc, uint8_t *pred, nm_error *err);

#endif
