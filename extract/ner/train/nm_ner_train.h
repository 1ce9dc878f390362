/*
 * nm_ner_train: training and evaluating the NER model (nm_ner) on CoNLL
 * corpora. Used by tools/train-ner and tools/eval-ner; not by workers.
 *
 * Training is an averaged structured perceptron over the features of
 * nm_ner_features.h with exact Viterbi decoding under the IOB2 constraints:
 * each epoch visits the training sentences in an order shuffled by a seeded
 * generator, and on a wrong sentence adds the gold features to the gold
 * labels and subtracts them from the predicted ones (only at positions where
 * they differ). The model kept is the average of the weights over every step,
 * which generalises far better than the last weights. Same inputs and seed,
 * same model, byte for byte.
 *
 * Gazetteer file (optional): one entry per line, "CLASS<TAB>words", CLASS
 * one of nat, loc, org, per; '#' starts a comment. A one-word entry marks the
 * word as a whole entry of its class, a longer entry marks each of its words
 * as part of one. The gazetteer is stored inside the model, so the tagger
 * always sees the lists the model was trained with.
 */
#ifndef NM_NER_TRAIN_H
#define NM_NER_TRAIN_H

#include <stdint.h>
#include <stdio.h>

#include "nm_conll.h"
#include "nm_error.h"
#include "nm_ner.h"

typedef struct nm_ner_train_config {
    const char *train_path;     /* corpus to learn from (required; nm_conll formats) */
    const char *lang;           /* ISO 639-1 code stored in the model ("lang=xx") */
    const char *dev_path;       /* CoNLL corpus scored after each epoch; NULL = none */
    const char *gazetteer_path; /* NULL = no gazetteer */
    const char *out_path;       /* where the model goes (required) */
    unsigned epochs;            /* passes over the training data */
    uint64_t seed;              /* shuffling */
    unsigned bits;              /* hash table rows = 2^bits */
    unsigned features;          /* NM_NER_F_* mask */
    FILE *progress;             /* one line per epoch; NULL = quiet */
} nm_ner_train_config;

/* Trains and writes the model. Returns 0, or -1 with err (unreadable or
 * malformed corpus or gazetteer, unwritable output). */
int nm_ner_train(const nm_ner_train_config *cfg, nm_error *err);

/* Tags every sentence of a corpus (document by document, with document
 * context) and adds the conlleval counts to *score (caller zeroes it). When
 * pred is not NULL it receives corpus->n_tokens labels. */
void nm_ner_evaluate(const nm_ner_model *m, const nm_conll_corpus *c, nm_conll_score *score,
                     uint8_t *pred);

#endif
