/* eval-ner: scores newsmill's NER model on a CoNLL-format corpus with the
 * conlleval rules (exact span and type), per type and overall, and with
 * --bench times tagging alone (tokens per second on one core). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>

#include "nm_alloc.h"
#include "eval_recognizer.h"
#include "nm_conll.h"
#include "nm_log.h"
#include "nm_ner.h"
#include "nm_ner_train.h"
#include "nm_opts.h"
#include "nm_time.h"

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * NM_NS_PER_S + ts.tv_nsec;
}

/* Tags the whole corpus `passes` times (nm_ner_tag_document per document,
 * scoring excluded); returns the elapsed wall-clock ns and the CPU ns. */
static int64_t time_tagging(const nm_ner_model *m, const nm_conll_corpus *c, int passes,
                            int64_t *cpu)
{
    int64_t t0 = nm_time_mono_ns(), c0 = cpu_ns();
    for (int p = 0; p < passes; p++)
        nm_ner_evaluate(m, c, NULL, NULL);
    int64_t ns = nm_time_mono_ns() - t0;
    *cpu = cpu_ns() - c0;
    return ns;
}

static int write_predictions(const char *path, const nm_conll_corpus *c, const uint8_t *pred,
                             nm_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return nm_error_set(err, NM_ERR_IO, "writing %s: %s", path, strerror(errno));
    for (size_t s = 0; s < c->n_sentences; s++) {
        for (size_t i = c->sent_start[s]; i < c->sent_start[s + 1]; i++)
            fprintf(f, "%.*s %s %s\n", (int)c->tokens[i].len, c->tokens[i].text,
                    nm_ner_label_name(c->labels[i]), nm_ner_label_name(pred[i]));
        fputc('\n', f);
    }
    if (fclose(f) != 0)
        return nm_error_set(err, NM_ERR_IO, "writing %s: %s", path, strerror(errno));
    return 0;
}

int main(int argc, char **argv)
{
    nm_log_init("eval-ner");
    const char *model_path = "";
    const char *lang = "";
    bool bench = false;
    int64_t passes = 5;
    const char *predictions = "";
    const char *recognizer = "";
    const nm_opt opts[] = {
        {"model", 'm', NM_OPT_STRING, &model_path, "FILE",
         "NER model file (default: the --lang model in data/)", 0, 0},
        {"lang", 'l', NM_OPT_STRING, &lang, "L",
         "which language's model: data/ner-model.bin for en, data/ner-model-L.bin else; with "
         "--model, the model must be of L", 0, 0},
        {"bench", 0, NM_OPT_FLAG, &bench, NULL, "also time tagging alone (tokens/s, one core)", 0, 0},
        {"passes", 0, NM_OPT_INT, &passes, "N", "passes over the corpus when timing", 1, 1000},
        {"predictions", 0, NM_OPT_STRING, &predictions, "FILE",
         "write 'WORD GOLD PREDICTED' lines (conlleval input) to FILE", 0, 0},
        {"recognizer", 'r', NM_OPT_STRING, &recognizer, "KIND",
         "score the extractor's recogniser instead: rules or model (data/)", 0, 0},
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    int first;
    nm_error err;
    const nm_opts_program program = {
        "eval-ner", "[OPTIONS] [FILE]",
        "Scores the NER model on a corpus (default ../shared/eval/conll2003/dev.txt)\n"
        "in the CoNLL-2003, WikiANN or GermEval 2014 format (outer tags; types\n"
        "outside PER/ORG/LOC/MISC count as O): per-type and overall precision,\n"
        "recall and F1 by the conlleval rules.",
        opts, n_opts, 1};
    int rc = nm_opts_run(&program, argc, argv, &first);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? 0 : 2;
    const char *corpus_path = first < argc ? argv[first] : "../shared/eval/conll2003/dev.txt";
    nm_ner_model *m;
    nm_conll_corpus *c;
    char default_path[4096];
    if (!*model_path) {
        if (!*lang || !strcmp(lang, "en"))
            snprintf(default_path, sizeof default_path, "%s/ner-model.bin", NM_DATA_DIR);
        else
            snprintf(default_path, sizeof default_path, "%s/ner-model-%s.bin", NM_DATA_DIR, lang);
        model_path = default_path;
    }
    if (nm_ner_model_load(model_path, &m, &err) != 0) {
        fprintf(stderr, "eval-ner: %s\n", err.msg);
        return 1;
    }
    char has[8];
    nm_ner_model_lang(m, has);
    if (*lang && strcmp(has, lang) != 0) {
        fprintf(stderr, "eval-ner: %s is a model for language %s, not %s\n", model_path, has, lang);
        nm_ner_model_free(&m);
        return 1;
    }
    if (nm_conll_load(corpus_path, &c, &err) != 0) {
        fprintf(stderr, "eval-ner: %s\n", err.msg);
        nm_ner_model_free(&m);
        return 1;
    }
    printf("model: %s\ncorpus: %s (%s format; %zu tokens, %zu sentences, %zu documents)\n",
           nm_ner_model_info(m), corpus_path, nm_conll_format_name(c->format), c->n_tokens,
           c->n_sentences, c->n_docs);
    if (bench) {
        int64_t cpu;
        int64_t ns = time_tagging(m, c, (int)passes, &cpu);
        double tokens = (double)c->n_tokens * (double)passes;
        printf("tagging: %.0f tokens in %.3f s wall, %.3f s CPU = %.0f tokens/s wall, %.0f "
               "tokens per CPU second (one thread, document context included)\n",
               tokens, (double)ns / 1e9, (double)cpu / 1e9, tokens / ((double)ns / 1e9),
               tokens / ((double)cpu / 1e9));
    }
    nm_conll_score sc = {0};
    uint8_t *pred = nm_xmalloc(c->n_tokens);
    if (*recognizer) {
        printf("recogniser: %s\n", recognizer);
        if (eval_recognizer(recognizer, NM_DATA_DIR, c, &sc, pred, &err) != 0) {
            fprintf(stderr, "eval-ner: %s\n", err.msg);
            free(pred);
            nm_conll_free(&c);
            nm_ner_model_free(&m);
            return 1;
        }
    } else {
        nm_ner_evaluate(m, c, &sc, pred);
    }
    if (c->format != NM_CONLL_CONLL) {
        /* WikiANN and GermEval (as read) have no MISC: a MISC the model
         * finds is outside the corpus's types and counts as O, like the
         * corpus's own OTH. */
        memset(&sc, 0, sizeof sc);
        for (size_t i = 0; i < c->n_tokens; i++)
            if (pred[i] >= NM_NER_B_MISC)
                pred[i] = NM_NER_O;
        for (size_t s = 0; s < c->n_sentences; s++)
            nm_conll_score_add(&sc, c->labels + c->sent_start[s], pred + c->sent_start[s],
                               c->sent_start[s + 1] - c->sent_start[s]);
        printf("corpus has no MISC type: the model's MISC entities count as O\n");
    }
    if (*predictions && write_predictions(predictions, c, pred, &err) != 0) {
        fprintf(stderr, "eval-ner: %s\n", err.msg);
        free(pred);
        nm_conll_free(&c);
        nm_ner_model_free(&m);
        return 1;
    }
    free(pred);
    printf("token accuracy %.4f\n", (double)sc.tokens_correct / (double)sc.tokens);
    printf("%-8s %9s %9s %9s %7s %7s\n", "type", "precision", "recall", "f1", "gold", "found");
    double p, r, f;
    for (int t = 0; t <= NM_NER_TYPES; t++) {
        nm_conll_score_prf(&sc, t, &p, &r, &f);
        printf("%-8s %9.4f %9.4f %9.4f %7llu %7llu\n",
               t < NM_NER_TYPES ? nm_ner_type_name((nm_ner_type)t) : "overall", p, r, f,
               (unsigned long long)sc.gold[t], (unsigned long long)sc.pred[t]);
    }
    nm_conll_score_prf(&sc, NM_NER_TYPES, &p, &r, &f);
    printf("f1=%.4f precision=%.4f recall=%.4f entities=%llu\n", f, p, r,
           (unsigned long long)sc.gold[NM_NER_TYPES]);
    nm_conll_free(&c);
    nm_ner_model_free(&m);
    return 0;
}
