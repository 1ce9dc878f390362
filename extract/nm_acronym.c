#include "nm_acronym.h"

#include <string.h>

static int is_acronym(const char *text, const nm_token *t)
{
    if (t->kind != NM_TOK_WORD || (t->flags & NM_TF_CLITIC) || t->nchars < 2 || t->nchars > 10)
        return 0;
    if (!(t->flags & (NM_TF_ALLCAPS | NM_TF_DOTTED)) || (t->flags & NM_TF_LOWER))
        return 0;
    (void)text;
    return (t->flags & NM_TF_ALLCAPS) != 0;
}

static int punct_is(const char *text, const nm_token *t, char c)
{
    return t->kind == NM_TOK_PUNCT && t->end - t->start == 1 && text[t->start] == c;
}

static char lower_ascii(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* Schwartz-Hearst over the words toks[a..b): returns the token where the long
 * form starts, or b if the letters do not match. */
static size_t sh_match(const char *text, const nm_token *toks, size_t a, size_t b, const nm_token *acr)
{
    /* acronym letters (skip dots) */
    char letters[16];
    size_t nl = 0;
    for (uint32_t i = acr->start; i < acr->end && nl < sizeof letters; i++) {
        char c = text[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            letters[nl++] = lower_ascii(c);
    }
    if (nl < 2)
        return b;
    size_t li = nl; /* letters left to match, right to left */
    size_t k = b;
    while (k > a && li > 0) {
        k--;
        const nm_token *t = &toks[k];
        if (t->kind > NM_TOK_NUMBER)
            continue;
        /* match letters inside this word right to left; the first letter of
         * the acronym must be at the word start */
        size_t pos = t->end;
        while (li > 0 && pos > t->start) {
            pos--;
            char c = lower_ascii(text[pos]);
            if (c != letters[li - 1])
                continue;
            int word_start = pos == t->start || text[pos - 1] == '-';
            if (li == 1 && !word_start)
                continue;
            li--;
        }
        if (li == 0) {
            const nm_token *w = &toks[k];
            /* the match of the first letter must be the word's first letter */
            if (lower_ascii(text[w->start]) == letters[0])
                return k;
            return b;
        }
    }
    return b;
}

static int connector(const char *text, const nm_token *t)
{
    static const char *const words[] = {"of", "and", "for", "the", "on", "de", "&"};
    size_t len = t->end - t->start;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strlen(words[i]) == len && !memcmp(text + t->start, words[i], len))
            return 1;
    }
    return 0;
}

static int cap_word(const nm_token *t)
{
    return t->kind == NM_TOK_WORD && (t->flags & NM_TF_UPPER) && !(t->flags & NM_TF_CLITIC);
}

/* The capitalised name ending right before toks[b] (b exclusive), at least two
 * capitalised words; returns its first token or b. */
static size_t cap_name_before(const char *text, const nm_token *toks, size_t a, size_t b)
{
    size_t k = b, caps = 0;
    while (k > a) {
        const nm_token *t = &toks[k - 1];
        if (cap_word(t)) {
            caps++;
            k--;
        } else if (connector(text, t) && k - 1 > a && cap_word(&toks[k - 2]) && caps > 0) {
            k--;
        } else {
            break;
        }
        if (b - k > 12)
            return b;
    }
    while (k < b && !cap_word(&toks[k]))
        k++;
    if (k < b && toks[k].end - toks[k].start == 3 && !memcmp(text + toks[k].start, "The", 3))
        k++;
    size_t real = 0;
    for (size_t i = k; i < b; i++)
        real += cap_word(&toks[i]);
    return real >= 2 ? k : b;
}

size_t nm_acronyms_find(const char *text, const nm_token *toks, size_t n, const uint32_t *sent_ends,
                        size_t n_sentences, nm_acronym_def *out, size_t cap)
{
    size_t found = 0;
    size_t a = 0;
    for (size_t s = 0; s < n_sentences && found < cap; s++) {
        size_t b = sent_ends[s];
        if (b > n)
            b = n;
        for (size_t k = a; k + 2 < b + 0 && found < cap; k++) {
            size_t short_tok = (size_t)-1, lf = 0, le = 0;
            if (punct_is(text, &toks[k], '(') && is_acronym(text, &toks[k + 1]) &&
                punct_is(text, &toks[k + 2], ')') && k > a) {
                /* long form (ABC) */
                size_t len = toks[k + 1].nchars;
                size_t window = len + 5 < 2 * len ? len + 5 : 2 * len;
                size_t lo = k, words = 0;
                while (lo > a && words < window) {
                    const nm_token *t = &toks[lo - 1];
                    if (t->kind == NM_TOK_PUNCT && !punct_is(text, t, '-') && !punct_is(text, t, '&'))
                        break;
                    lo--;
                    words += t->kind <= NM_TOK_NUMBER;
                }
                size_t st = sh_match(text, toks, lo, k, &toks[k + 1]);
                if (st == k)
                    st = cap_name_before(text, toks, a, k);
                if (st < k) {
                    short_tok = k + 1;
                    lf = st;
                    le = k;
                }
            } else if (is_acronym(text, &toks[k]) && punct_is(text, &toks[k + 1], '(')) {
                /* ABC (long form) */
                size_t close = k + 2;
                while (close < b && close < k + 14 && !punct_is(text, &toks[close], ')'))
                    close++;
                if (close < b && punct_is(text, &toks[close], ')') && close > k + 3) {
                    size_t st = sh_match(text, toks, k + 2, close, &toks[k]);
                    if (st != k + 2) {
                        size_t c2 = cap_name_before(text, toks, k + 2, close);
                        st = c2 == k + 2 ? c2 : close;
                    }
                    if (st == k + 2) {
                        short_tok = k;
                        lf = k + 2;
                        le = close;
                    }
                }
            }
            if (short_tok == (size_t)-1)
                continue;
            /* first definition of a short form wins */
            const nm_token *sh = &toks[short_tok];
            int dup = 0;
            for (size_t q = 0; q < found; q++) {
                const nm_token *o = &toks[out[q].short_tok];
                dup |= o->lhash == sh->lhash;
            }
            if (!dup) {
                out[found].short_tok = (uint32_t)short_tok;
                out[found].long_first = (uint32_t)lf;
                out[found].long_end = (uint32_t)le;
                found++;
            }
        }
        a = b;
    }
    return found;
}
