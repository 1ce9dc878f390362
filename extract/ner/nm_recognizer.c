#include "nm_recognizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_ner_rules.h"

struct nm_recognizer {
    const char *kind;
    nm_ner_rules *rules;
    nm_ner_model *model;
};

nm_recognizer *nm_recognizer_new(const char *kind, const char *data_dir, nm_error *err)
{
    nm_recognizer *r = nm_xcalloc(1, sizeof *r);
    if (!kind || !strcmp(kind, "rules")) {
        r->kind = "rules";
        r->rules = nm_ner_rules_new(data_dir, err);
        if (r->rules)
            return r;
    } else if (!strcmp(kind, "model")) {
        r->kind = "model";
        char path[4096];
        snprintf(path, sizeof path, "%s/ner-model.bin", data_dir);
        if (nm_ner_model_load(path, &r->model, err) == 0)
            return r;
    } else {
        nm_error_set(err, NM_ERR_INVALID, "unknown recogniser '%s' (rules or model)", kind);
    }
    free(r);
    return NULL;
}

void nm_recognizer_destroy(nm_recognizer **r)
{
    if (!r || !*r)
        return;
    nm_ner_rules_destroy(&(*r)->rules);
    nm_ner_model_free(&(*r)->model);
    free(*r);
    *r = NULL;
}

const char *nm_recognizer_kind(const nm_recognizer *r)
{
    return r->kind;
}

/* newsmill's convention where CoNLL-2003's differs: a nationality word right
 * before an organisation names that organisation ("Turkish Red Crescent",
 * "Norwegian Red Cross", "German Foreign Ministry"), where CoNLL tags MISC +
 * ORG. Within a sentence only. */
static void join_national_orgs(const nm_ner_model *m, const nm_ner_token *words,
                               const nm_recognizer_input *in, uint8_t *labels)
{
    size_t a = 0;
    for (size_t s = 0; s < in->n_sentences; s++) {
        size_t b = in->sent_ends[s];
        for (size_t i = a; i + 1 < b; i++)
            if (labels[i] == NM_NER_B_MISC && labels[i + 1] == NM_NER_B_ORG &&
                nm_ner_misc_is_group(m, &words[i], 1)) {
                labels[i] = NM_NER_B_ORG;
                labels[i + 1] = NM_NER_I_ORG;
            }
        a = b;
    }
}

/* The model reads token text; it builds the document context and tags each
 * sentence in one call. */
static void label_model(const nm_recognizer *r, const nm_recognizer_input *in, uint8_t *labels,
                        nm_scratch *scratch)
{
    size_t longest = 0, a = 0;
    for (size_t s = 0; s < in->n_sentences; s++) {
        if (in->sent_ends[s] - a > longest)
            longest = in->sent_ends[s] - a;
        a = in->sent_ends[s];
    }
    size_t tag_size = nm_ner_document_scratch_size(in->n, longest);
    size_t words_size = (in->n * sizeof(nm_ner_token) + 63) & ~(size_t)63;
    unsigned char *mem = nm_scratch_get(scratch, words_size + tag_size);
    nm_ner_token *words = (nm_ner_token *)mem;
    for (size_t k = 0; k < in->n; k++) {
        words[k].text = in->text + in->tokens[k].start;
        words[k].len = in->tokens[k].end - in->tokens[k].start;
    }
    if (!scratch->ner_memo)
        scratch->ner_memo = nm_ner_memo_new();
    nm_ner_tag_document_memo(r->model, scratch->ner_memo, words, in->n, in->sent_ends,
                             in->n_sentences, labels, mem + words_size, tag_size);
    join_national_orgs(r->model, words, in, labels);
}

void nm_recognizer_label(const nm_recognizer *r, const nm_recognizer_input *in, uint8_t *labels,
                         nm_scratch *scratch)
{
    if (r->rules)
        nm_ner_rules_label(r->rules, in, labels, scratch);
    else
        label_model(r, in, labels, scratch);
}
