/* train-ner: trains newsmill's NER model on a CoNLL-format corpus and writes
 * the model file (see extract/ner/train/nm_ner_train.h and the format in nm_ner.h). */
#include <stdio.h>
#include <string.h>

#include "nm_log.h"
#include "nm_ner.h"
#include "nm_ner_train.h"
#include "nm_opts.h"

/* "all", a list of template names ("affix,shape"), or "all" minus names
 * ("-doc,-gaz"). Returns 0 or -1. */
static int parse_features(const char *text, unsigned *mask)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {
        {"affix", NM_NER_F_AFFIX}, {"shape", NM_NER_F_SHAPE}, {"window", NM_NER_F_WINDOW},
        {"bigram", NM_NER_F_BIGRAM}, {"gaz", NM_NER_F_GAZ}, {"doc", NM_NER_F_DOC},
        {"pos", NM_NER_F_POS}, {"all", NM_NER_F_ALL}, {"none", 0},
    };
    unsigned m = text[0] == '-' ? NM_NER_F_ALL : 0;
    const char *p = text;
    while (*p) {
        int minus = *p == '-';
        if (minus)
            p++;
        size_t len = strcspn(p, ",");
        size_t i;
        for (i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == len && !strncmp(names[i].name, p, len))
                break;
        if (i == sizeof names / sizeof names[0])
            return -1;
        if (minus)
            m &= ~names[i].bit;
        else
            m |= names[i].bit;
        p += len;
        if (*p == ',')
            p++;
    }
    *mask = m;
    return 0;
}

int main(int argc, char **argv)
{
    nm_log_init("train-ner");
    const char *train = "../shared/eval/conll2003/train.txt";
    const char *dev = "";
    const char *gazetteer = NM_DATA_DIR "/ner-gazetteer.txt";
    const char *out = NM_DATA_DIR "/ner-model.bin";
    const char *features = "all";
    const char *lang = "en";
    int64_t epochs = 12, seed = 1, bits = 17;
    const nm_opt opts[] = {
        {"train", 0, NM_OPT_STRING, &train, "FILE", "training corpus (CoNLL: WORD ... TAG); FILE,FILE,... trains on several as one", 0, 0},
        {"dev", 0, NM_OPT_STRING, &dev, "FILE", "corpus scored after each epoch (never trained on)", 0, 0},
        {"gazetteer", 0, NM_OPT_STRING, &gazetteer, "FILE", "word lists stored in the model ('' = none)", 0, 0},
        {"lang", 0, NM_OPT_STRING, &lang, "L", "language of the corpus (ISO 639-1), stored in the model", 0, 0},
        {"out", 'o', NM_OPT_STRING, &out, "FILE", "model file to write", 0, 0},
        {"epochs", 0, NM_OPT_INT, &epochs, "N", "passes over the training data", 1, 100},
        {"seed", 0, NM_OPT_INT, &seed, "S", "shuffling seed (same seed, same model)", 0, 1e15},
        {"bits", 0, NM_OPT_INT, &bits, "B", "hash table of 2^B rows", 8, 24},
        {"features", 0, NM_OPT_STRING, &features, "LIST",
         "all | names (affix,shape,window,bigram,gaz,doc,pos) | -name,... (all but)", 0, 0},
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    int first;
    nm_error err;
    int rc = nm_opts_parse(opts, n_opts, argc, argv, &first, &err);
    if (rc == NM_OPTS_HELP) {
        nm_opts_usage(stdout, "train-ner", "[OPTIONS]",
                      "Trains the named-entity model (averaged perceptron, Viterbi) on a\n"
                      "CoNLL-2003 format corpus and writes the model file.",
                      opts, n_opts);
        return 0;
    }
    unsigned mask = 0;
    if (rc == 0 && first < argc)
        rc = nm_error_set(&err, NM_ERR_INVALID, "unexpected argument '%s'", argv[first]);
    if (rc == 0 && (strlen(lang) < 2 || strlen(lang) > 3 || strspn(lang, "abcdefghijklmnopqrstuvwxyz") != strlen(lang)))
        rc = nm_error_set(&err, NM_ERR_INVALID, "--lang: '%s' is not a lower-case ISO 639 code", lang);
    if (rc == 0 && parse_features(features, &mask) != 0)
        rc = nm_error_set(&err, NM_ERR_INVALID, "--features: unknown template list '%s'",
                          features);
    if (rc != 0) {
        fprintf(stderr, "train-ner: %s (see --help)\n", err.msg);
        return 2;
    }
    nm_ner_train_config cfg = {
        .train_path = train,
        .lang = lang,
        .dev_path = *dev ? dev : NULL,
        .gazetteer_path = *gazetteer ? gazetteer : NULL,
        .out_path = out,
        .epochs = (unsigned)epochs,
        .seed = (uint64_t)seed,
        .bits = (unsigned)bits,
        .features = mask,
        .progress = stdout,
    };
    if (nm_ner_train(&cfg, &err) != 0) {
        fprintf(stderr, "train-ner: %s\n", err.msg);
        return 1;
    }
    printf("wrote %s\n", out);
    return 0;
}
