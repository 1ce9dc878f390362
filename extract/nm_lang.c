#include "nm_lang.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_cld2.h"

static const char *const codes[NM_LANG_COUNT] = {"en", "de", "fr", "es", "it",
                                                 "pt", "nl", "tr", "ru", "ar"};
enum { L_EN, L_DE, L_FR, L_ES, L_IT, L_PT, L_NL, L_TR, L_RU, L_AR };

struct nm_lang {
    nm_lexicon *stop; /* bit i = stop word of language i */
};

nm_lang *nm_lang_new(const char *data_dir, nm_error *err)
{
    nm_lang *l = nm_xcalloc(1, sizeof *l);
    l->stop = nm_lexicon_new();
    for (int i = 0; i < NM_LANG_COUNT; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/stopwords/%s.txt", data_dir, codes[i]);
        if (nm_lexicon_load(l->stop, path, NULL, 0, 1u << i, err) < 0) {
            nm_lang_destroy(&l);
            return NULL;
        }
    }
    return l;
}

void nm_lang_destroy(nm_lang **l)
{
    if (!l || !*l)
        return;
    nm_lexicon_destroy(&(*l)->stop);
    free(*l);
    *l = NULL;
}

int nm_lang_index(const char *code)
{
    if (!code || !code[0] || !code[1])
        return -1;
    char c0 = (char)(code[0] | 0x20), c1 = (char)(code[1] | 0x20);
    if (code[2] && code[2] != '-' && code[2] != '_')
        return -1;
    for (int i = 0; i < NM_LANG_COUNT; i++) {
        if (codes[i][0] == c0 && codes[i][1] == c1)
            return i;
    }
    return -1;
}

const char *nm_lang_code(int index)
{
    return index >= 0 && index < NM_LANG_COUNT ? codes[index] : "und";
}

uint32_t nm_lang_stopmask(const nm_lang *l, uint64_t lhash)
{
    return nm_lexicon_word(l->stop, lhash);
}

int nm_lang_detect_masked(const nm_lang *l, const char *text, const nm_token *toks, size_t n,
                          const uint16_t *masks, double *confidence)
{
    double score[NM_LANG_COUNT] = {0};
    size_t words = 0, cyrillic = 0, arabic = 0, latin = 0;
    for (size_t i = 0; i < n && words < 2000; i++) {
        const nm_token *t = &toks[i];
        if (t->kind != NM_TOK_WORD)
            continue;
        words++;
        unsigned char c = (unsigned char)text[t->start];
        if (c == 0xD0 || c == 0xD1)
            cyrillic++;
        else if (c >= 0xD8 && c <= 0xDB)
            arabic++;
        else if (t->flags & NM_TF_LATIN)
            latin++;
        uint32_t cls = masks ? masks[i] : nm_lexicon_word(l->stop, t->lhash);
        if (cls) {
            double w = 1.0 / __builtin_popcount(cls);
            for (uint32_t b = cls; b; b &= b - 1)
                score[__builtin_ctz(b)] += w;
        }
        if ((t->flags & (NM_TF_LATIN | NM_TF_NONASCII)) == (NM_TF_LATIN | NM_TF_NONASCII)) {
            /* Turkish-only letters: ı ğ ş (and capitals) */
            for (uint32_t b = t->start; b + 1 < t->end; b++) {
                unsigned char x = (unsigned char)text[b], y = (unsigned char)text[b + 1];
                if ((x == 0xC4 && (y == 0xB1 || y == 0x9F || y == 0x9E || y == 0xB0)) ||
                    (x == 0xC5 && (y == 0x9F || y == 0x9E))) {
                    score[L_TR] += 0.5;
                    break;
                }
            }
        }
    }
    *confidence = 0;
    if (words == 0)
        return -1;
    if (cyrillic * 2 > words) {
        *confidence = score[L_RU] * 10 > (double)words ? 0.99 : 0.8;
        return L_RU;
    }
    if (arabic * 2 > words) {
        *confidence = score[L_AR] * 10 > (double)words ? 0.99 : 0.8;
        return L_AR;
    }
    int best = -1;
    double total = 0, top = 0;
    for (int k = 0; k < L_RU; k++) {
        total += score[k];
        if (score[k] > top) {
            top = score[k];
            best = k;
        }
    }
    if (best < 0 || top < 2.0)
        return -1;
    double share = top / total;
    double amount = top / 10.0 > 1.0 ? 1.0 : top / 10.0;
    *confidence = share * (0.5 + 0.5 * amount);
    return best;
}

int nm_lang_identify(const nm_lang *l, const char *text, size_t len, const nm_token *toks, size_t n,
                     const uint16_t *masks, char code[8], double *confidence)
{
    size_t cut = len;
    if (cut > NM_LANG_CLD2_BYTES) {
        cut = NM_LANG_CLD2_BYTES;
        while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
            cut--; /* not inside a character */
    }
    double sw_conf;
    int idx = nm_lang_detect_masked(l, text, toks, n, masks, &sw_conf);
    if (idx >= 0 && idx < L_RU && sw_conf >= NM_LANG_SURE) {
        snprintf(code, 8, "%s", nm_lang_code(idx)); /* sure enough: no CLD2 call */
        *confidence = sw_conf;
        return idx;
    }
    bool reliable;
    int percent = nm_cld2_detect(text, cut, code, &reliable);
    if (strcmp(code, "und") != 0) {
        *confidence = percent / 100.0 * (reliable ? 1.0 : 0.5);
        return nm_lang_index(code);
    }
    snprintf(code, 8, "%s", nm_lang_code(idx));
    *confidence = sw_conf;
    return idx;
}
