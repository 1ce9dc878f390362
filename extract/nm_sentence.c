#include "nm_sentence.h"

#include <string.h>

/* Is the lower-cased, NUL-terminated word w one of list (NULL-terminated)? */
static int in_list(const char *w, size_t n, const char *const *list)
{
    (void)n;
    for (; *list; list++) {
        if ((*list)[0] == w[0] && !strcmp(*list, w))
            return 1;
    }
    return 0;
}

/* Titles before names: a period after them never ends a sentence. */
static const char *const titles[] = {
    "mr", "mrs", "ms", "messrs", "mme", "mlle", "dr", "prof", "rev", "hon", "gen", "col", "lt",
    "sgt", "capt", "cmdr", "adm", "maj", "gov", "sen", "rep", "pres", "supt", "det", "insp", "fr",
    "st", "brig", "cpl", "pte", NULL};

/* Abbreviations that do not end a sentence before a number or lower case,
 * but may end one before a capitalised word. */
static const char *const abbrevs[] = {
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no",
    "nos", "vol", "fig", "figs", "pp", "p", "approx", "vs", "v", "etc", "inc", "ltd", "co", "corp",
    "jr", "sr", "dept", "univ", "est", "cf", "al", "ch", "art", "sec", "para", "ave", "rd", "mt",
    "ft", "op", "ed", "eds", "tel", "ext", "min", "max", "avg", NULL};

/* Words that typically open a sentence (after a dotted abbreviation). */
static const char *const openers[] = {
    "the", "a", "an", "he", "she", "it", "they", "we", "i", "you", "but", "and", "in", "this",
    "that", "these", "those", "there", "his", "her", "its", "their", "our", "however", "mr", "mrs",
    "ms", "dr", "if", "when", "while", "as", "on", "at", "for", "after", "before", "some", "many",
    "most", "one", "two", "what", "why", "how", "meanwhile", "officials", "yet", "so", "still",
    "also", NULL};

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
