#include "eval_recognizer.h"

#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_recognizer.h"
#include "nm_token.h"

int eval_recognizer(const char *kind, const char *data_dir, const nm_conll_corpus *c,
                    nm_conll_score *sc, uint8_t *pred, nm_error *err)
{
    nm_recognizer *r = nm_recognizer_new(kind, data_dir, err);
    if (!r)
        return -1;
    nm_scratch scratch = {0};
    for (size_t d = 0; d < c->n_docs; d++) {
        size_t s0 = c->doc_start[d], s1 = c->doc_start[d + 1];
        size_t t0 = c->sent_start[s0], t1 = c->sent_start[s1];
        size_t n = t1 - t0;
        if (n == 0)
            continue;
        /* the document's text: tokens joined by single spaces */
        size_t bytes = 0;
        for (size_t k = t0; k < t1; k++)
            bytes += c->tokens[k].len + 1;
        char *text = nm_xmalloc(bytes + 1);
        nm_token *toks = nm_xmalloc(n * sizeof *toks);
        uint32_t *ends = nm_xmalloc((s1 - s0) * sizeof *ends);
        size_t o = 0;
        for (size_t k = t0; k < t1; k++) {
            memcpy(text + o, c->tokens[k].text, c->tokens[k].len);
            nm_token_classify(text, o, o + c->tokens[k].len, &toks[k - t0]);
            o += c->tokens[k].len;
            text[o++] = ' ';
        }
        text[o] = '\0';
        for (size_t s = s0; s < s1; s++)
            ends[s - s0] = (uint32_t)(c->sent_start[s + 1] - t0);
        nm_recognizer_input in = {.text = text, .tokens = toks, .n = n, .sent_ends = ends,
                                  .n_sentences = s1 - s0};
        nm_recognizer_label(r, &in, pred + t0, &scratch);
        for (size_t s = s0; s < s1; s++) {
            size_t a = c->sent_start[s], b = c->sent_start[s + 1];
            nm_conll_score_add(sc, c->labels + a, pred + a, b - a);
        }
        free(ends);
        free(toks);
        free(text);
    }
    nm_scratch_free(&scratch);
    nm_recognizer_destroy(&r);
    return 0;
}
