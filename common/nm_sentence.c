#include "nm_sentence.h"

#include <string.h>

/* Is the lower-cased word one of list (a NUL-separated, double-NUL-ended
 * list)? */
static int in_list(const char *w, size_t n, const char *list)
{
    for (const char *p = list; *p; p += strlen(p) + 1) {
        if (strlen(p) == n && !memcmp(p, w, n))
            return 1;
    }
    return 0;
}

/* Titles before names: a period after them never ends a sentence. */
static const char titles[] =
    "mr\0mrs\0ms\0messrs\0mme\0mlle\0dr\0prof\0rev\0hon\0gen\0col\0lt\0sgt\0capt\0cmdr\0"
    "adm\0maj\0gov\0sen\0rep\0pres\0supt\0det\0insp\0fr\0st\0brig\0cpl\0pte\0";

/* Abbreviations that do not end a sentence before a number or lower case,
 * but may end one before a capitalised word. */
static const char abbrevs[] =
    "jan\0feb\0mar\0apr\0jun\0jul\0aug\0sep\0sept\0oct\0nov\0dec\0no\0nos\0vol\0fig\0"
    "figs\0pp\0p\0approx\0vs\0v\0etc\0inc\0ltd\0co\0corp\0jr\0sr\0dept\0univ\0est\0cf\0al\0"
    "ch\0art\0sec\0para\0ave\0rd\0mt\0ft\0op\0ed\0eds\0tel\0ext\0min\0max\0avg\0";

/* Words that typically open a sentence (after a dotted abbreviation). */
static const char openers[] =
    "the\0a\0an\0he\0she\0it\0they\0we\0i\0you\0but\0and\0in\0this\0that\0these\0those\0"
    "there\0his\0her\0its\0their\0our\0however\0mr\0mrs\0ms\0dr\0if\0when\0while\0as\0"
    "on\0at\0for\0after\0before\0some\0many\0most\0one\0two\0what\0why\0how\0meanwhile\0"
    "officials\0yet\0so\0still\0also\0";

static size_t lower_word(const char *text, const nm_token *t, char *buf, size_t cap)
{
    if (t->end - t->start >= cap)
        return 0;
    return nm_token_lower(text, t, buf, cap);
}

static int is_terminal(const nm_token *t)
{
    return t->kind == NM_TOK_PUNCT && (t->flags & NM_TF_TERMINAL);
}

static int is_period(const char *text, const nm_token *t)
{
    return t->end - t->start == 1 && text[t->start] == '.';
}

/* Can toks[k] start a new sentence? */
static int can_start(const char *text, const nm_token *toks, size_t k, size_t end)
{
    const nm_token *t = &toks[k];
    if (t->kind == NM_TOK_PUNCT) {
        if (t->flags & NM_TF_QUOTE_OPEN)
            return k + 1 < end ? can_start(text, toks, k + 1, end) : 0;
        /* dashes and bullets may open a sentence; , ; : ) do not */
        unsigned char c = (unsigned char)text[t->start];
        return c == '-' || c == 0xE2 || c == '*' || c == '#';
    }
    if (t->flags & (NM_TF_LOWER | NM_TF_CLITIC))
        return 0;
    return 1;
}

/* Decides whether the terminator group ending at toks[k] (inclusive) with the
 * terminator at toks[term] ends a sentence. */
static int ends_sentence(const char *text, const nm_token *toks, size_t begin, size_t term,
                         size_t k, size_t end)
{
    if (k + 1 >= end)
        return 1;
    if (!(toks[k].flags & NM_TF_SPACE_AFTER))
        return 0;
    if (!can_start(text, toks, k + 1, end))
        return 0;
    const nm_token *next = &toks[k + 1];
    char w[16];
    if (toks[term].flags & NM_TF_DOTTED) { /* "U.S." itself */
        size_t n = next->kind == NM_TOK_WORD ? lower_word(text, next, w, sizeof w) : 0;
        return n && in_list(w, n, openers);
    }
    if (!is_period(text, &toks[term]) || term == begin || term != k)
        return 1; /* ! ? … or a period followed by a quote: a real end */
    const nm_token *prev = &toks[term - 1];
    if (prev->kind != NM_TOK_WORD || prev->end != toks[term].start)
        return 1;
    if (prev->nchars == 1 && (prev->flags & NM_TF_UPPER))
        return 0; /* an initial */
    size_t n = lower_word(text, prev, w, sizeof w);
    if (!n)
        return 1;
    if (in_list(w, n, titles))
        return 0;
    if (in_list(w, n, abbrevs))
        return next->kind != NM_TOK_NUMBER;
    return 1;
}

size_t nm_sentence_split(const char *text, const nm_token *toks, size_t begin, size_t end,
                         uint32_t *ends)
{
    size_t n = 0;
    size_t k = begin;
    while (k < end) {
        const nm_token *t = &toks[k];
        if (is_terminal(t) || (t->flags & NM_TF_DOTTED)) {
            size_t term = k;
            /* absorb more terminators and closing quotes/brackets */
            while (k + 1 < end && (is_terminal(&toks[k + 1]) ||
                                   (toks[k + 1].kind == NM_TOK_PUNCT &&
                                    (toks[k + 1].flags & NM_TF_QUOTE_CLOSE))))
                k++;
            if (ends_sentence(text, toks, begin, term, k, end)) {
                ends[n++] = (uint32_t)(k + 1);
                k++;
                continue;
            }
            k = term; /* not an end: go on from the token after the terminator */
        }
        k++;
    }
    if (end > begin && (n == 0 || ends[n - 1] != end))
        ends[n++] = (uint32_t)end;
    return n;
}
