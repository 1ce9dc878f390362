/* Fuzz target: the NER tagger on arbitrary bytes.
 *
 * The input is cut into sentences at '\n' and into tokens at ' ' (so tokens
 * hold any other byte: invalid UTF-8, NUL, control characters, very long
 * runs); the whole input is one document. Every sentence is tagged with and
 * without document context and with too-small scratch; the labels must be
 * valid IOB2 and every span walk must end. The document tagger, without and
 * with a memo (cold, then holding the document's words), must give exactly
 * the labels of the sentence tagger with context. Inputs starting with the
 * model magic also go through the model loader. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_ner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static nm_ner_model *model;
static nm_ner_memo *memo; /* kept across inputs, as in a worker */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *src = getenv("NM_SOURCE_DIR");
    char path[1024];
    if (src && *src)
        snprintf(path, sizeof path, "%s/data/ner-model.bin", src);
    else
        snprintf(path, sizeof path, "%s/ner-model.bin", NM_DATA_DIR);
    nm_error err;
    if (nm_ner_model_load(path, &model, &err) != 0) {
        fprintf(stderr, "fuzz_ner: %s\n", err.msg);
        abort();
    }
    memo = nm_ner_memo_new();
    return 0;
}

static void check(const uint8_t *labels, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (labels[i] >= NM_NER_LABELS)
            abort();
        if (labels[i] != NM_NER_O && !(labels[i] & 1) &&
            (i == 0 || (labels[i - 1] != labels[i] && labels[i - 1] != labels[i] - 1)))
            abort(); /* I-X not after B-X / I-X */
    }
    size_t pos = 0, s, e, spans = 0;
    nm_ner_type t;
    while (nm_ner_next_span(labels, n, &pos, &s, &e, &t))
        if (s >= e || e > n || ++spans > n)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 8 && !memcmp(data, "NMNERMDL", 8)) {
        nm_ner_model *m = NULL;
        nm_error err;
        if (nm_ner_model_load_bytes(data, size, "fuzz", &m, &err) == 0)
            nm_ner_model_free(&m);
    }
    const char *text = (const char *)data;
    size_t max_tokens = size / 2 + 1;
    nm_ner_token *toks = malloc(max_tokens * sizeof *toks);
    uint8_t *labels = malloc(max_tokens);
    uint8_t *doc_labels = malloc(max_tokens);
    uint32_t *ends = malloc(max_tokens * sizeof *ends);
    size_t n_all = 0, n_sent = 0;
    nm_ner_doc *doc = malloc(sizeof *doc);
    nm_ner_doc_reset(doc);
    for (int pass = 0; pass < 2; pass++) {
        size_t i = 0, first = 0;
        while (i <= size) {
            size_t end = i;
            while (end < size && text[end] != '\n')
                end++;
            size_t n = 0;
            nm_ner_token *line = toks + first; /* this sentence, after the earlier ones */
            for (size_t a = i; a < end;) {
                while (a < end && text[a] == ' ')
                    a++;
                size_t b = a;
                while (b < end && text[b] != ' ')
                    b++;
                if (b > a && first + n < max_tokens) {
                    line[n].text = text + a;
                    line[n].len = b - a;
                    n++;
                }
                a = b;
            }
            if (pass == 0) {
                nm_ner_doc_add(doc, line, n);
                if (n)
                    ends[n_sent++] = (uint32_t)(first + n);
            } else {
                nm_ner_tag(model, doc, line, n, labels + first, NULL, 0);
                check(labels + first, n);
                uint64_t small[4];
                nm_ner_tag(model, NULL, line, n, doc_labels, small, sizeof small);
                check(doc_labels, n);
                size_t pos = 0, s, e;
                nm_ner_type t;
                while (nm_ner_next_span(doc_labels, n, &pos, &s, &e, &t))
                    if (t == NM_NER_MISC)
                        (void)nm_ner_misc_is_group(model, line + s, e - s);
            }
            first += n;
            i = end + 1;
        }
        n_all = first;
    }
    for (int round = 0; round < 3; round++) {
        memset(doc_labels, 0xff, max_tokens);
        nm_ner_tag_document_memo(model, round ? memo : NULL, toks, n_all, ends, n_sent,
                                 doc_labels, NULL, 0);
        if (memcmp(doc_labels, labels, n_all) != 0)
            abort(); /* the document tagger must match the sentence tagger */
    }
    free(ends);
    free(doc_labels);
    free(doc);
    free(labels);
    free(toks);
    return 0;
}
