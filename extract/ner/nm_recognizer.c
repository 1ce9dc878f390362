#include "nm_recognizer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nm_alloc.h"
#include "nm_ner_rules.h"

struct nm_recognizer {
    const char *kind;
    char lang[8];
    nm_ner_rules *rules;
    nm_ner_model *model;
};

nm_recognizer *nm_recognizer_new(const char *kind, const char *data_dir, nm_error *err)
{
    return nm_recognizer_new_lang(kind, data_dir, "en", err);
}

nm_recognizer *nm_recognizer_new_lang(const char *kind, const char *data_dir, const char *lang,
                                      nm_error *err)
{
    size_t ll = strlen(lang);
    if (ll < 2 || ll > 7 || strspn(lang, "abcdefghijklmnopqrstuvwxyz") != ll) {
        nm_error_set(err, NM_ERR_INVALID, "entity recogniser: '%s' is not a language code", lang);
        return NULL;
    }
    bool en = !strcmp(lang, "en");
    nm_recognizer *r = nm_xcalloc(1, sizeof *r);
    memcpy(r->lang, lang, ll + 1);
    if (!kind || !strcmp(kind, "rules")) {
        r->kind = "rules";
        if (!en)
            nm_error_set(err, NM_ERR_NOT_FOUND, "no entity rules for language %s (English only)",
                         lang);
        else if ((r->rules = nm_ner_rules_new(data_dir, err)) != NULL)
            return r;
    } else if (!strcmp(kind, "model")) {
        r->kind = "model";
        char path[4096];
        if (en)
            snprintf(path, sizeof path, "%s/ner-model.bin", data_dir);
        else
            snprintf(path, sizeof path, "%s/ner-model-%s.bin", data_dir, lang);
        if (!en && access(path, F_OK) != 0 && errno == ENOENT) {
            nm_error_set(err, NM_ERR_NOT_FOUND, "no entity model for language %s (%s absent)",
                         lang, path);
        } else if (nm_ner_model_load(path, &r->model, err) == 0) {
            char has[8];
            nm_ner_model_lang(r->model, has);
            if (!strcmp(has, lang))
                return r;
            nm_error_set(err, NM_ERR_MALFORMED, "NER model %s is a model for language %s, not %s",
                         path, has, lang);
            nm_ner_model_free(&r->model);
        }
    } else {
        nm_error_set(err, NM_ERR_INVALID, "unknown recogniser '%s' (rules or model)", kind);
    }
    free(r);
    return NULL;
}

const char *nm_recognizer_lang(const nm_recognizer *r)
{
    return r->lang;
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
    if (nm_ner_consistent_scratch_size(in->n) > tag_size)
        tag_size = nm_ner_consistent_scratch_size(in->n);
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
    nm_ner_consistent(words, in->n, in->sent_ends, in->n_sentences, labels, mem + words_size);
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
