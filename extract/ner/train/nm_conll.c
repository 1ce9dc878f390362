/* nm_conll: CoNLL corpus reader and conlleval scoring. See nm_conll.h. */
#include "nm_conll.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_fs.h"

typedef struct vec {
    void *p;
    size_t n, cap, size;
} vec;

static void *vec_push(vec *v)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 1024;
        v->p = nm_xrealloc(v->p, v->cap * v->size);
    }
    return (char *)v->p + v->n++ * v->size;
}

/* The files of a list read as one text, each followed by a blank line (a
 * sentence never runs from one file into the next); where each file starts,
 * to name the file and its own line in an error. */
typedef struct {
    char *path;
    size_t first_line; /* the joined text's line where the file starts */
} list_file;

typedef struct joined {
    char *text;
    size_t len;
    list_file *files;
    size_t n_files;
} joined;

static void joined_free(joined *j)
{
    for (size_t i = 0; i < j->n_files; i++)
        free(j->files[i].path);
    free(j->files);
    free(j->text);
}

static size_t count_lines(const char *p, size_t len)
{
    size_t n = 0;
    for (const char *e = p + len; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        n++;
    return n;
}

static int read_list(const char *list, joined *j, nm_error *err)
{
    *j = (joined){0};
    size_t cap = 0, line = 1;
    for (const char *p = list;;) {
        const char *comma = strchr(p, ',');
        size_t plen = comma ? (size_t)(comma - p) : strlen(p);
        if (!plen) {
            nm_error_set(err, NM_ERR_INVALID, "corpus list '%s': an empty file name", list);
            joined_free(j);
            return -1;
        }
        char *path = nm_xstrndup(p, plen);
        size_t len;
        char *text = nm_fs_read_file(path, &len);
        if (!text) {
            nm_error_set(err, NM_ERR_IO, "corpus %s: %s", path, strerror(errno));
            free(path);
            joined_free(j);
            return -1;
        }
        j->files = nm_xrealloc(j->files, (j->n_files + 1) * sizeof *j->files);
        j->files[j->n_files++] = (list_file){path, line};
        if (j->len + len + 3 > cap) {
            cap = (j->len + len + 3) * 2;
            j->text = nm_xrealloc(j->text, cap);
        }
        memcpy(j->text + j->len, text, len);
        j->len += len;
        bool ended = len && text[len - 1] == '\n';
        line += count_lines(text, len) + (ended ? 1 : 2);
        j->text[j->len++] = '\n';
        if (!ended)
            j->text[j->len++] = '\n';
        free(text);
        if (!comma)
            break;
        p = comma + 1;
    }
    j->text[j->len] = '\0';
    return 0;
}

/* Which of the three line formats a corpus uses, from its first token line:
 * GermEval (a number, a TAB, the word, the outer and inner tags), WikiANN
 * ("xx:word<TAB>tag", two columns, a lower-case language prefix) or CoNLL
 * (whitespace columns, word first, tag last). */
static nm_conll_format detect_format(const char *line)
{
    const char *p = line;
    while (*p >= '0' && *p <= '9')
        p++;
    if (p > line && *p == '\t') {
        int tabs = 0;
        for (const char *q = line; *q; q++)
            tabs += *q == '\t';
        if (tabs >= 3)
            return NM_CONLL_GERMEVAL;
    }
    p = line;
    while (*p >= 'a' && *p <= 'z')
        p++;
    if (p - line >= 2 && p - line <= 3 && *p == ':' && strchr(p, '\t') &&
        !strchr(strchr(p, '\t') + 1, '\t'))
        return NM_CONLL_WIKIANN;
    return NM_CONLL_CONLL;
}

const char *nm_conll_format_name(nm_conll_format f)
{
    return f == NM_CONLL_GERMEVAL ? "germeval" : f == NM_CONLL_WIKIANN ? "wikiann" : "conll";
}

/* GermEval outer tag: PER/ORG/LOC spans kept, OTH and every -deriv and -part
 * variant read as O (types outside the PER/ORG/LOC set score as O). */
static int germeval_tag(const char *tag, size_t len, uint8_t *label)
{
    if (len == 1 && tag[0] == 'O') {
        *label = NM_NER_O;
        return 0;
    }
    if (len < 3 || (tag[0] != 'B' && tag[0] != 'I') || tag[1] != '-')
        return -1;
    const char *type = tag + 2;
    size_t tl = len - 2;
    if (tl == 3 && (!memcmp(type, "PER", 3) || !memcmp(type, "ORG", 3) || !memcmp(type, "LOC", 3)))
        return nm_ner_label_parse(tag, len, label);
    static const char *const other[] = {"OTH", "PER", "ORG", "LOC"};
    for (size_t i = 0; i < 4; i++)
        if (tl >= 3 && !memcmp(type, other[i], 3) &&
            (tl == 3 || (tl == 8 && !memcmp(type + 3, "deriv", 5)) ||
             (tl == 7 && !memcmp(type + 3, "part", 4)))) {
            *label = NM_NER_O;
            return 0;
        }
    return -1;
}

static const char *const expected[] = {
    [NM_CONLL_CONLL] = "'WORD ... TAG' with an IOB2 tag over PER/ORG/LOC/MISC",
    [NM_CONLL_WIKIANN] = "'xx:WORD<TAB>TAG' (WikiANN) with an IOB2 tag over PER/ORG/LOC",
    [NM_CONLL_GERMEVAL] = "'N<TAB>WORD<TAB>OUTER<TAB>INNER' (GermEval 2014) with IOB2 outer "
                          "tags over PER/ORG/LOC/OTH (and *deriv/*part)",
};

int nm_conll_load(const char *path, nm_conll_corpus **out, nm_error *err)
{
    *out = NULL;
    joined files;
    if (read_list(path, &files, err) != 0)
        return -1;
    char *text = files.text;
    size_t len = files.len;
    vec toks = {.size = sizeof(nm_ner_token)}, labs = {.size = 1};
    vec sents = {.size = sizeof(size_t)}, docs = {.size = sizeof(size_t)};
    size_t sent_open = 0; /* tokens in the current sentence */
    size_t line_no = 0;
    char *line = text;
    int rc = 0;
    int format = -1;
    *(size_t *)vec_push(&docs) = 0;
    while (line < text + len) {
        line_no++;
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        char *eol = nl ? nl : text + len;
        char *next = nl ? nl + 1 : text + len;
        while (eol > line && (eol[-1] == '\r' || eol[-1] == ' ' || eol[-1] == '\t'))
            eol--;
        *eol = '\0';
        if (format == NM_CONLL_GERMEVAL && line[0] == '#') {
            line = next; /* source URL of the next sentence */
            continue;
        }
        if (eol == line || strncmp(line, "-DOCSTART-", 10) == 0) {
            if (sent_open) {
                *(size_t *)vec_push(&sents) = toks.n - sent_open;
                sent_open = 0;
            }
            /* WikiANN and GermEval sentences are unrelated fragments: each
             * is a document of its own (no context borrowed from others). */
            bool own_doc = format == NM_CONLL_WIKIANN || format == NM_CONLL_GERMEVAL;
            if ((eol != line || own_doc) && sents.n > ((size_t *)docs.p)[docs.n - 1])
                *(size_t *)vec_push(&docs) = sents.n;
            line = next;
            continue;
        }
        if (format < 0) {
            if (line[0] == '#' && line[1] == '\t') {
                format = NM_CONLL_GERMEVAL;
                line = next;
                continue;
            }
            format = (int)detect_format(line);
        }
        char *word = line, *word_end, *tag, *tag_end = eol;
        uint8_t label;
        int bad;
        if (format == NM_CONLL_GERMEVAL) {
            /* index TAB word TAB outer TAB inner */
            char *c1 = strchr(line, '\t');
            char *c2 = c1 ? strchr(c1 + 1, '\t') : NULL;
            char *c3 = c2 ? strchr(c2 + 1, '\t') : NULL;
            bad = !c3 || c1 == line || c2 == c1 + 1;
            word = c1 ? c1 + 1 : line;
            word_end = c2 ? c2 : eol;
            tag = c2 ? c2 + 1 : eol;
            tag_end = c3 ? c3 : eol;
            bad = bad || germeval_tag(tag, (size_t)(tag_end - tag), &label) != 0;
        } else {
            if (format == NM_CONLL_WIKIANN) {
                char *colon = strchr(line, ':');
                char *tab = strchr(line, '\t');
                if (colon && tab && colon < tab && colon - line <= 3)
                    word = colon + 1;
            }
            word_end = word;
            while (*word_end && *word_end != ' ' && *word_end != '\t')
                word_end++;
            tag = eol;
            while (tag > line && tag[-1] != ' ' && tag[-1] != '\t')
                tag--;
            bad = word_end == eol || word_end == word ||
                  nm_ner_label_parse(tag, (size_t)(eol - tag), &label) != 0 ||
                  (format == NM_CONLL_WIKIANN && label >= NM_NER_B_MISC);
        }
        if (bad) {
            const list_file *f = &files.files[files.n_files - 1];
            while (f > files.files && f->first_line > line_no)
                f--;
            rc = nm_error_set(err, NM_ERR_MALFORMED, "corpus %s line %zu: expected %s, got '%.60s'",
                              f->path, line_no - f->first_line + 1, expected[format], line);
            break;
        }
        nm_ner_token *t = vec_push(&toks);
        t->text = word;
        t->len = (size_t)(word_end - word);
        *(uint8_t *)vec_push(&labs) = label;
        sent_open++;
        line = next;
    }
    if (rc == 0 && sent_open)
        *(size_t *)vec_push(&sents) = toks.n - sent_open;
    if (rc != 0 || toks.n == 0) {
        if (rc == 0)
            rc = nm_error_set(err, NM_ERR_MALFORMED, "corpus %s: no tokens", path);
        free(toks.p);
        free(labs.p);
        free(sents.p);
        free(docs.p);
        joined_free(&files);
        return rc;
    }
    *(size_t *)vec_push(&sents) = toks.n;
    if (((size_t *)docs.p)[docs.n - 1] < sents.n - 1)
        *(size_t *)vec_push(&docs) = sents.n - 1;
    else
        ((size_t *)docs.p)[docs.n - 1] = sents.n - 1;
    nm_conll_corpus *c = nm_xcalloc(1, sizeof *c);
    c->format = (nm_conll_format)format;
    c->n_tokens = toks.n;
    c->tokens = toks.p;
    c->labels = labs.p;
    c->n_sentences = sents.n - 1;
    c->sent_start = sents.p;
    c->n_docs = docs.n - 1;
    c->doc_start = docs.p;
    c->text = text;
    files.text = NULL; /* the corpus's now */
    joined_free(&files);
    *out = c;
    return 0;
}

void nm_conll_free(nm_conll_corpus **cp)
{
    if (!cp || !*cp)
        return;
    nm_conll_corpus *c = *cp;
    free(c->tokens);
    free(c->labels);
    free(c->sent_start);
    free(c->doc_start);
    free(c->text);
    free(c);
    *cp = NULL;
}

void nm_conll_score_add(nm_conll_score *s, const uint8_t *gold, const uint8_t *pred, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s->tokens++;
        s->tokens_correct += gold[i] == pred[i];
    }
    size_t gp = 0, pp = 0, gs = 0, ge = 0, ps = 0, pe = 0;
    nm_ner_type gt = NM_NER_PER, pt = NM_NER_PER;
    bool gok = nm_ner_next_span(gold, n, &gp, &gs, &ge, &gt);
    bool pok = nm_ner_next_span(pred, n, &pp, &ps, &pe, &pt);
    while (gok || pok) {
        if (gok && pok && gs == ps) {
            s->gold[gt]++;
            s->pred[pt]++;
            if (ge == pe && gt == pt)
                s->correct[gt]++;
            gok = nm_ner_next_span(gold, n, &gp, &gs, &ge, &gt);
            pok = nm_ner_next_span(pred, n, &pp, &ps, &pe, &pt);
        } else if (gok && (!pok || gs < ps)) {
            s->gold[gt]++;
            gok = nm_ner_next_span(gold, n, &gp, &gs, &ge, &gt);
        } else {
            s->pred[pt]++;
            pok = nm_ner_next_span(pred, n, &pp, &ps, &pe, &pt);
        }
    }
    s->gold[NM_NER_TYPES] = s->pred[NM_NER_TYPES] = s->correct[NM_NER_TYPES] = 0;
    for (int t = 0; t < NM_NER_TYPES; t++) {
        s->gold[NM_NER_TYPES] += s->gold[t];
        s->pred[NM_NER_TYPES] += s->pred[t];
        s->correct[NM_NER_TYPES] += s->correct[t];
    }
}

void nm_conll_score_prf(const nm_conll_score *s, int type, double *p, double *r, double *f1)
{
    double c = (double)s->correct[type];
    *p = s->pred[type] ? c / (double)s->pred[type] : 0.0;
    *r = s->gold[type] ? c / (double)s->gold[type] : 0.0;
    *f1 = (*p + *r) > 0 ? 2 * *p * *r / (*p + *r) : 0.0;
}
