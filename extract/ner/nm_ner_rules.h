/*
 * nm_ner_rules: a rules-and-gazetteers named-entity labeller (the "rules"
 * recogniser of nm_recognizer).
 *
 * Per sentence: runs of capitalised words (joined over "of", "&", "de", "al",
 * ... where a name continues) are found; gazetteer phrases (countries and
 * cities, organisations, nationalities, first names, events) may extend a
 * run; each run is typed by, in order: a whole gazetteer entry; a last word
 * that ends organisation / place / event names ("Party", "Crescent",
 * "River", "Cup"); a leading nationality word split off ("Norwegian Ingrid
 * Østby"); a known first name or a title before it ("Mr", "chief",
 * "President") for people; an all-capitals word for organisations; a place
 * preposition before an unknown name. Sentence-initial function words and
 * words the document also writes in lower case are not names. Headlines
 * (titles, headings, all-capitals lines) only get gazetteer entries and names
 * the body already typed.
 *
 * Built once, read-only afterwards; the per-document word sets live in the
 * caller's scratch memory.
 */
#ifndef NM_NER_RULES_H
#define NM_NER_RULES_H

#include "nm_error.h"
#include "nm_scratch.h"

typedef struct nm_ner_rules nm_ner_rules;

/* Loads data_dir/ner-gazetteer.txt, ner-rules.txt and stopwords/en.txt.
 * NULL with err naming the file on failure. Caller owns. */
nm_ner_rules *nm_ner_rules_new(const char *data_dir, nm_error *err);

/* Accepts NULL; clears *r. */
void nm_ner_rules_destroy(nm_ner_rules **r);

/* Labels a document (see nm_recognizer_label). */
void nm_ner_rules_label(const nm_ner_rules *r, const nm_recognizer_input *in, uint8_t *labels,
                        nm_scratch *scratch);

#endif
